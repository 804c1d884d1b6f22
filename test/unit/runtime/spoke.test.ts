import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../../lambda/adapters/clients';
import { SpokeRoleAccessError } from '../../../lambda/adapters/organizations';
import { parseConfig } from '../../../lambda/core/config';
import { SpokeClients } from '../../../lambda/runtime/spoke';

const sts = mockClient(STSClient);
const HUB = '999988887777';
const config = parseConfig({
  accounts: {
    mode: 'organization',
    organizationId: 'o-a1b2c3d4e5',
    accountIds: ['111122223333'],
    roleName: 'guard-spoke',
  },
});
const expiration = new Date('2026-11-30T15:00:00.000Z');
const credentials = { AccessKeyId: 'ASIA1', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: expiration };

function spokes(region = 'eu-west-1') {
  const clients = new ClientFactory({ defaultRegion: region });
  return {
    clients,
    spoke: new SpokeClients({ clients, config, accountId: HUB }, { capability: 'reaper', runId: 'run:1' }),
  };
}

describe('Class: SpokeClients', () => {
  beforeEach(() => sts.reset());

  it("assumes the account's spoke role once per run, naming the capability and run in the session", async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
    const { spoke } = spokes();
    // Act
    const first = await spoke.forAccount('111122223333');
    const second = await spoke.forAccount('111122223333');
    // Assess
    expect(second).toBe(first);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::111122223333:role/guard-spoke',
      RoleSessionName: 'ml-cost-guard-reaper-run-1',
      DurationSeconds: 3600,
    });
    const held = await first.ec2().config.credentials();
    expect(held).toMatchObject({ accessKeyId: 'ASIA1', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it("uses the hub's own clients in the hub account, without AssumeRole", async () => {
    const { clients, spoke } = spokes();
    expect(await spoke.forAccount(HUB)).toBe(clients);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('builds the role ARN in the partition of the region', () => {
    expect(spokes('cn-north-1').spoke.roleArn('111122223333')).toBe('arn:aws-cn:iam::111122223333:role/guard-spoke');
    expect(spokes('us-gov-west-1').spoke.roleArn('111122223333')).toBe(
      'arn:aws-us-gov:iam::111122223333:role/guard-spoke',
    );
  });

  it('names the account and what to deploy when the role is missing or does not trust the hub, and tries again later', async () => {
    // Prepare
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }))
      .resolves({ Credentials: credentials });
    const { spoke } = spokes();
    // Act
    const error = await spoke.forAccount('111122223333').catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SpokeRoleAccessError);
    expect((error as Error).message).toContain(
      'cannot assume arn:aws:iam::111122223333:role/guard-spoke (AccessDenied)',
    );
    expect((error as Error).message).toContain('cdk deploy MlCostGuardSpoke');
    await expect(spoke.forAccount('111122223333')).resolves.toBeInstanceOf(ClientFactory);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it("counts the calls made in a spoke on the run's counter", async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
    const { clients, spoke } = spokes();
    const other = await spoke.forAccount('111122223333');
    expect(other.counter).toBe(clients.counter);
  });
});

describe('Method: ClientFactory.forAccount', () => {
  it("keeps the state table on the hub's credentials: the spoke's DynamoDB client is the hub's", async () => {
    // Prepare
    const hub = new ClientFactory({ defaultRegion: 'eu-west-1' });
    const spoke = hub.forAccount({ accessKeyId: 'ASIA1', secretAccessKey: 'secret' });
    // Act / Assess
    expect(spoke.dynamodb()).toBe(hub.dynamodb());
    expect(spoke.fresh().dynamodb('us-east-1')).toBe(hub.dynamodb('us-east-1'));
    expect(spoke.ec2()).not.toBe(hub.ec2());
    expect(await spoke.ec2().config.credentials()).toMatchObject({ accessKeyId: 'ASIA1' });
  });
});
