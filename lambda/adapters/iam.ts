/**
 * IAM for the launch cap: attach and detach one customer managed policy on one role. Both are idempotent the way
 * the cap needs: IAM answers an attach of a policy the role already has with success, and a detach of a policy the
 * role does not have with NoSuchEntity, which is reported as `already-detached` (nothing to do), never as a failure.
 * Any other error is thrown for the caller's action runner to record.
 */
import { AttachRolePolicyCommand, DetachRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { errorCode } from '../shared/errors';

/** Attaches `policyArn` to `roleName` (a name, no path). Throws on failure (NoSuchEntity: no such role or policy). */
export async function attachRolePolicy(client: IAMClient, roleName: string, policyArn: string): Promise<void> {
  await client.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
}

/**
 * Detaches `policyArn` from `roleName`: `detached` when it was attached, `already-detached` when IAM says the role
 * does not have it (or no longer exists). Throws on any other error.
 */
export async function detachRolePolicy(
  client: IAMClient,
  roleName: string,
  policyArn: string,
): Promise<'detached' | 'already-detached'> {
  try {
    await client.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    return 'detached';
  } catch (error) {
    if (errorCode(error) === 'NoSuchEntityException' || errorCode(error) === 'NoSuchEntity') return 'already-detached';
    throw error;
  }
}
