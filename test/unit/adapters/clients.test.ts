import {
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../../lambda/adapters/clients';
import { readMonth, recordActions } from '../../../lambda/adapters/ledger';
import { DynamoStateStore } from '../../../lambda/adapters/state-store';
import { StateTableNotFoundError } from '../../../lambda/shared/errors';

const ddb = mockClient(DynamoDBClient);
const NOW = new Date('2026-11-15T12:00:00.000Z');
const notFound = () => Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });

/** What a function whose COST_GUARD_STATE_TABLE names a missing table reads in its error. */
const LAMBDA_MESSAGE =
  "State table 'prod-state' not found in eu-west-1: the function's COST_GUARD_STATE_TABLE names it; deploy the " +
  'stack (cdk deploy) so the table exists, or correct the variable.';

describe('Class: ClientFactory (DynamoDB and a missing state table)', () => {
  beforeEach(() => ddb.reset());
  const client = () => new ClientFactory({ defaultRegion: 'us-east-1' }).dynamodb('eu-west-1');

  it('names the table and the region when the state store meets ResourceNotFoundException', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(notFound());
    const store = new DynamoStateStore(client(), 'prod-state', { now: NOW });
    // Act
    const error = await store.claim({ pk: 'budget#ml', sk: '2026-11#alert-80' }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(StateTableNotFoundError);
    expect((error as Error).message).toBe(LAMBDA_MESSAGE);
    expect((error as StateTableNotFoundError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('names the table of a ledger batch write and of a ledger read', async () => {
    // Prepare
    ddb.on(BatchWriteItemCommand).rejects(notFound());
    ddb.on(QueryCommand).rejects(notFound());
    const done = {
      capability: 'reaper' as const,
      kind: 'stop' as const,
      target: 'i-1',
      reason: 'idle',
      status: 'done' as const,
      at: NOW.toISOString(),
    };
    // Act / Assess
    await expect(recordActions(client(), 'prod-state', [done])).rejects.toThrow(LAMBDA_MESSAGE);
    await expect(readMonth(client(), 'prod-state', '2026-10')).rejects.toThrow(LAMBDA_MESSAGE);
  });

  it('says what the CLI user can do when the factory is the CLI’s', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(notFound());
    const factory = new ClientFactory({ defaultRegion: 'us-east-1', stateTableRemedy: 'pass --state-table NAME' });
    const store = new DynamoStateStore(factory.dynamodb(), 'x', { now: NOW });
    // Act / Assess
    await expect(store.markSent({ pk: 'a', sk: 'b' }, 't')).rejects.toThrow(
      "State table 'x' not found in us-east-1: pass --state-table NAME.",
    );
  });

  it('leaves every other error as DynamoDB gave it (control)', async () => {
    // Prepare
    const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
    ddb.on(PutItemCommand).rejects(throttled);
    const store = new DynamoStateStore(client(), 'prod-state', { now: NOW });
    // Act
    const error = await store.claim({ pk: 'budget#ml', sk: '2026-11#alert-80' }).catch((e: unknown) => e);
    // Assess
    expect(error).toBe(throttled);
  });

  it('still counts each call', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(notFound());
    const factory = new ClientFactory({ defaultRegion: 'us-east-1' });
    // Act
    await new DynamoStateStore(factory.dynamodb(), 't', { now: NOW }).claim({ pk: 'a', sk: 'b' }).catch(() => {});
    // Assess
    expect(factory.counter.byOperation()).toEqual({ 'DynamoDB.PutItem': 1 });
  });
});

describe('Class: ClientFactory (SDK clients shared between runs)', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => {
    ec2.reset();
    ddb.reset();
  });
  afterAll(() => ec2.restore());

  /** The SDK client a factory's client is a view of (its prototype), or the client itself when it is not a view. */
  const underlying = (client: object) => {
    const proto = Object.getPrototypeOf(client) as object;
    // A view's prototype is an SDK client (it holds its own config); a client's is its class's prototype.
    return Object.hasOwn(proto, 'config') ? proto : client;
  };

  it('gives runs with the same settings one SDK client, each run counting only its own calls', async () => {
    // Prepare: two runs, as two warm invocations of one Lambda
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const first = new ClientFactory({ defaultRegion: 'us-east-1' });
    const second = new ClientFactory({ defaultRegion: 'us-east-1' });
    // Act
    await first.ec2().send(new DescribeInstancesCommand({}));
    await second.ec2().send(new DescribeInstancesCommand({}));
    await second.ec2().send(new DescribeInstancesCommand({}));
    // Assess
    expect(underlying(first.ec2())).toBe(underlying(second.ec2()));
    expect(first.ec2()).not.toBe(second.ec2());
    expect(first.ec2()).toBeInstanceOf(EC2Client);
    expect(first.counter.byOperation()).toEqual({ 'EC2.DescribeInstances': 1 });
    expect(second.counter.byOperation()).toEqual({ 'EC2.DescribeInstances': 2 });
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(3);
  });

  it('shares by region, attempts and endpoint: other settings get other clients', async () => {
    const base = new ClientFactory({ defaultRegion: 'us-east-1' });
    const others = [
      base.ec2('eu-west-1'),
      new ClientFactory({ defaultRegion: 'us-east-1', maxAttempts: 1 }).ec2(),
      new ClientFactory({ defaultRegion: 'us-east-1', endpoint: 'http://127.0.0.1:4566' }).ec2(),
    ];
    const clients = new Set([base.ec2(), ...others].map(underlying));
    expect(clients.size).toBe(4);
    // Each view reads its own settings, not those of the first client made for the service
    expect(await others[1]!.config.maxAttempts()).toBe(1);
    expect(await base.ec2().config.maxAttempts()).toBe(5);
    expect(await others[0]!.config.region()).toBe('eu-west-1');
    expect((await others[2]!.config.endpoint!()).hostname).toBe('127.0.0.1');
  });

  it("never shares a client made with another account's credentials, nor STS", async () => {
    const hub = new ClientFactory({ defaultRegion: 'us-east-1' });
    const credentials = { accessKeyId: 'AKIAMEMBER', secretAccessKey: 'member-secret', sessionToken: 'token' };
    const member = hub.forAccount(credentials);
    const again = hub.forAccount(credentials);
    // Assess: the member's clients are its own SDK clients, with its credentials
    expect(underlying(member.ec2())).toBe(member.ec2());
    expect(member.ec2()).not.toBe(again.ec2());
    expect(await member.ec2().config.credentials()).toMatchObject({ accessKeyId: 'AKIAMEMBER' });
    expect(underlying(hub.sts())).toBe(hub.sts());
    expect(hub.sts()).not.toBe(new ClientFactory({ defaultRegion: 'us-east-1' }).sts());
  });

  it('names a missing state table through a shared DynamoDB client too, once per call', async () => {
    ddb.on(PutItemCommand).rejects(notFound());
    const runs = [new ClientFactory({ defaultRegion: 'us-east-1' }), new ClientFactory({ defaultRegion: 'us-east-1' })];
    expect(underlying(runs[0]!.dynamodb())).toBe(underlying(runs[1]!.dynamodb()));
    for (const run of runs) {
      const error = await new DynamoStateStore(run.dynamodb(), 'prod-state', { now: NOW })
        .claim({ pk: 'a', sk: 'b' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateTableNotFoundError);
      expect((error as StateTableNotFoundError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
      expect(run.counter.byOperation()).toEqual({ 'DynamoDB.PutItem': 1 });
    }
  });
});
