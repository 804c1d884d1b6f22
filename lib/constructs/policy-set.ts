import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** A cdk-nag acknowledgement: the finding it accepts and why. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * A capability's permissions on the resources of one account, with the cdk-nag acknowledgements their wildcard
 * resources need. Each is built in one place (its capability's construct file) and given both to the capability's
 * function role and, in organization mode, to the spoke role of the member accounts (lib/constructs/spoke-role.ts):
 * a spoke can never be granted more, or less, than the function has at home.
 *
 * The resources are formatted against the stack the set is built for: the hub's account in the hub, the member
 * account's own (`AWS::AccountId`) in a spoke.
 */
export interface PolicySet {
  readonly statements: readonly iam.PolicyStatement[];
  readonly acknowledgements: readonly Acknowledgement[];
}

/** Adds the set's statements to `role` (in order) and its acknowledgements to `acknowledgeOn` (default: the role). */
export function grantPolicySet(role: iam.Role, set: PolicySet, acknowledgeOn: IConstruct = role): void {
  for (const statement of set.statements) role.addToPolicy(statement);
  if (set.acknowledgements.length > 0) Validations.of(acknowledgeOn).acknowledge(...set.acknowledgements);
}
