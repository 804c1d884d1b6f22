/**
 * Several AWS accounts behind one mocked EC2Client, for tests of code that reaches linked accounts through the spoke
 * role: STS AssumeRole hands out per-account credentials (or AccessDenied for the accounts that deny it), and each
 * EC2 call is answered by the FakeEc2 of the account whose credentials the calling client holds. The hub's own
 * clients hold the fixed test credentials of test/setup-env.ts.
 */
import { type EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { awsError, type FakeEc2 } from './fake-ec2';
import { RoutedFakes } from './routed-fakes';

/** The access key of the test environment's own credentials (test/setup-env.ts): the hub account. */
export const HUB_ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';

/** The access key STS hands out for `accountId`'s spoke role. */
export const spokeAccessKey = (accountId: string): string => `ASIA${accountId}`;

const accountOfRole = (arn: string | undefined): string => /^arn:[^:]+:iam::(\d{12}):role\//.exec(arn ?? '')?.[1] ?? '';

/** The AssumeRole calls made, by account (in order). */
export interface SpokeRoles {
  readonly assumed: string[];
}

/**
 * Answers AssumeRole on `stsMock` (a mockClient(STSClient)): credentials for every account except those in
 * `denied`, which answer AccessDenied as a spoke role that is missing or does not trust the hub does.
 */
export function givenSpokeRoles(
  stsMock: {
    on(command: typeof AssumeRoleCommand): { callsFake(fake: (input: AssumeRoleCommandInput) => unknown): unknown };
  },
  o: { readonly denied?: Iterable<string> } = {},
): SpokeRoles {
  const denied = new Set(o.denied ?? []);
  const roles: SpokeRoles = { assumed: [] };
  stsMock.on(AssumeRoleCommand).callsFake(async (input) => {
    const account = accountOfRole(input.RoleArn);
    roles.assumed.push(account);
    if (denied.has(account)) {
      throw Object.assign(awsError('AccessDenied', 403), {
        message: `User: arn:aws:sts::999988887777:assumed-role/hub is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
      });
    }
    return {
      Credentials: { AccessKeyId: spokeAccessKey(account), SecretAccessKey: 'secret', SessionToken: 'token' },
    };
  });
  return roles;
}

/**
 * Routes every EC2 call sent through `ec2Mock` (a mockClient(EC2Client)) to the fake of the calling client's account:
 * `hub` for the run's own clients, `accounts[id]` for a spoke role's. A call with credentials of no known account
 * fails with AuthFailure, as EC2 would answer a key it does not know.
 */
export function routeEc2ByAccount(
  ec2Mock: { readonly send: { callsFake(fake: never): unknown } },
  hub: FakeEc2,
  accounts: Readonly<Record<string, FakeEc2>>,
): void {
  const dispatchers = new Map<string, RoutedFakes['dispatch']>();
  const add = (key: string, fake: FakeEc2) => {
    const fakes = new RoutedFakes();
    fake.routeOn(fakes);
    dispatchers.set(key, fakes.dispatch);
  };
  add(HUB_ACCESS_KEY, hub);
  for (const [id, fake] of Object.entries(accounts)) add(spokeAccessKey(id), fake);
  async function send(this: EC2Client, command: Parameters<RoutedFakes['dispatch']>[0]): Promise<unknown> {
    const credentials = await this.config.credentials();
    const dispatch = dispatchers.get(credentials.accessKeyId);
    if (!dispatch) {
      throw new EC2ServiceException({
        name: 'AuthFailure',
        $fault: 'client',
        $metadata: { httpStatusCode: 401 },
        message: `unknown access key ${credentials.accessKeyId}`,
      });
    }
    return dispatch(command);
  }
  ec2Mock.send.callsFake(send as never);
}
