import {
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { attachRolePolicy, detachRolePolicy } from '../../../lambda/adapters/iam';

const iamMock = mockClient(IAMClient);
const client = new IAMClient({ region: 'us-east-1' });
const POLICY = 'arn:aws:iam::111122223333:policy/ml-cost-guard-launch-cap-ml-0a1b2c3d';

beforeEach(() => iamMock.reset());

const noSuchEntity = () => new NoSuchEntityException({ message: 'Policy is not attached to role', $metadata: {} });

describe('Function: attachRolePolicy', () => {
  it('attaches the policy to the role by name', async () => {
    // Prepare
    iamMock.on(AttachRolePolicyCommand).resolves({});
    // Act
    await attachRolePolicy(client, 'ml-training', POLICY);
    // Assess
    expect(iamMock).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: 'ml-training', PolicyArn: POLICY });
  });

  it('throws when IAM refuses (a missing role is a failure to report)', async () => {
    iamMock.on(AttachRolePolicyCommand).rejects(noSuchEntity());
    await expect(attachRolePolicy(client, 'gone', POLICY)).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });
});

describe('Function: detachRolePolicy', () => {
  it('detaches the policy and says so', async () => {
    iamMock.on(DetachRolePolicyCommand).resolves({});
    await expect(detachRolePolicy(client, 'ml-training', POLICY)).resolves.toBe('detached');
    expect(iamMock).toHaveReceivedCommandWith(DetachRolePolicyCommand, { RoleName: 'ml-training', PolicyArn: POLICY });
  });

  it('takes NoSuchEntity (not attached, or no such role) as already detached: a second detach is a no-op', async () => {
    iamMock.on(DetachRolePolicyCommand).rejects(noSuchEntity());
    await expect(detachRolePolicy(client, 'ml-training', POLICY)).resolves.toBe('already-detached');
  });

  it('throws any other error', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    iamMock.on(DetachRolePolicyCommand).rejects(denied);
    await expect(detachRolePolicy(client, 'ml-training', POLICY)).rejects.toThrow('not authorized');
  });
});
