import {
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
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
