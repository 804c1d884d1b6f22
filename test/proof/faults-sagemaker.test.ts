/**
 * Proof suite, faults of the SageMaker guard (issue 13): one idle GPU endpoint whose delivered warning is due, and
 * one AWS or state-table fault at a time. Whatever fails, the rule holds: when in doubt, no endpoint is deleted; a
 * failed call is reported; a fault that leaves the run blind alarms (SageMakerRunError); and a fault on one endpoint
 * never stops the others from being acted on.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteEndpointCommand } from '@aws-sdk/client-sagemaker';
import { SageMakerWarningStore } from '../../lambda/adapters/sagemaker-warnings';
import { SlackNotifier } from '../../lambda/adapters/slack';
import { SageMakerRunError, type SageMakerSummary, sageMakerCapability } from '../../lambda/services/sagemaker';
import { TEST_NOW, testContext } from '../helpers/context';
import {
  addEndpoint,
  awsError,
  emptyWorld,
  type FakeSageMaker,
  type FakeSageMakerWorld,
  installFakeSageMaker,
} from '../helpers/fake-sagemaker';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../helpers/slack-server';

const TABLE = 'state';
const REGION = 'us-east-1';

interface Fault {
  readonly name: string;
  readonly inject: (world: FakeSageMakerWorld, table: FakeStateTable) => void;
  /** The idle endpoint's decision code in the summary. */
  readonly code: string;
  /** The run throws SageMakerRunError (the errors alarm fires). */
  readonly alarms: boolean;
}

const FAULTS: Fault[] = [
  {
    name: 'the endpoint is already Deleting when described before the delete',
    inject: (w) => {
      w.endpoints.get('idle')!.describeStatuses = ['InService', 'Deleting'];
    },
    code: 'not-in-service',
    alarms: false,
  },
  {
    name: 'the endpoint is gone when described before the delete',
    inject: (w) => {
      w.endpoints.get('idle')!.describeStatuses = ['InService', 'NotFound'];
    },
    code: 'not-in-service',
    alarms: false,
  },
  {
    name: 'DescribeEndpoint is throttled before the delete',
    inject: (w) => {
      w.endpoints.get('idle')!.describeStatuses = ['InService', 'Throttled'];
    },
    code: 'not-in-service',
    alarms: false,
  },
  {
    name: 'ListTags is denied (opt-out unknown)',
    inject: (w) => {
      w.fail.ListTags = 'AccessDeniedException';
    },
    code: 'tags-unknown',
    alarms: false,
  },
  {
    name: 'GetMetricData fails (Invocations unknown)',
    inject: (w) => {
      w.metricsFailWith = 'InternalServiceError';
    },
    code: 'metrics-unavailable',
    alarms: false,
  },
  {
    name: 'ListInferenceComponents fails',
    inject: (w) => {
      w.fail.ListInferenceComponents = 'ThrottlingException';
    },
    code: 'inference-components-unknown',
    alarms: true,
  },
  {
    name: 'the warning records cannot be read',
    inject: (_, t) => {
      t.mock
        .on(QueryCommand, { KeyConditionExpression: 'pk = :pk' })
        .rejects(awsError('ProvisionedThroughputExceededException'));
    },
    code: 'report-only',
    alarms: true,
  },
  {
    name: 'the per-period action limit cannot be read',
    inject: (_, t) => {
      t.mock.on(GetItemCommand).rejects(awsError('InternalServerError'));
    },
    code: 'max-actions-per-run',
    alarms: true,
  },
  {
    name: 'the endpoint index record cannot be written before the delete',
    inject: (_, t) => {
      t.mock
        .on(PutItemCommand, { Item: { pk: { S: 'sagemaker-deleted#us-east-1' } } })
        .rejects(awsError('InternalServerError'));
    },
    code: 'not-recorded',
    alarms: true,
  },
];

describe('Proof: SageMaker guard faults (no endpoint deleted when in doubt)', () => {
  let server: SlackTestServer;
  let table: FakeStateTable;
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;

  beforeEach(async () => {
    table = fakeStateTable();
    world = emptyWorld();
    fake = installFakeSageMaker(world);
    server = await startSlackServer();
    const e = addEndpoint(world, 'idle', { now: TEST_NOW });
    // A warning Slack accepted three hours ago: due.
    const at = new Date(TEST_NOW.getTime() - 3 * 3_600_000);
    const store = new SageMakerWarningStore(new DynamoDBClient({ region: REGION }), TABLE, 'seed', at);
    await store.putPending(REGION, 'endpoint/idle', {
      idleSince: at.toISOString(),
      action: 'delete',
      identity: e.creationTime.toISOString(),
    });
    await store.markDelivered({
      key: 'endpoint/idle',
      region: REGION,
      slackChannel: 'C',
      slackTs: '1.1',
      warnedAt: at.toISOString(),
      actionDue: new Date(at.getTime() + 3_600_000).toISOString(),
    });
  });
  afterEach(async () => {
    fake.restore();
    table.mock.restore();
    await server.close();
  });

  const run = async (): Promise<{ summary: SageMakerSummary; alarmed: boolean }> => {
    const ctx = testContext({
      config: { sagemaker: { action: 'delete' } },
      notifier: new SlackNotifier({ token: 'xoxb-t', channel: '#c', apiUrl: server.url, retries: 0 }),
      stateTableName: TABLE,
    });
    try {
      return { summary: await sageMakerCapability.run(ctx), alarmed: false };
    } catch (error) {
      if (!(error instanceof SageMakerRunError)) throw error;
      return { summary: error.summary, alarmed: true };
    }
  };

  it('deletes the due endpoint when nothing fails (control)', async () => {
    const { summary, alarmed } = await run();
    expect(summary.resources[0]).toMatchObject({ name: 'idle', action: { kind: 'delete', status: 'done' } });
    expect(fake.sm).toHaveReceivedCommandTimes(DeleteEndpointCommand, 1);
    expect(alarmed).toBe(false);
  });

  it.each(FAULTS)('deletes nothing when $name', async ({ inject, code, alarms }) => {
    // Prepare
    inject(world, table);
    // Act
    const { summary, alarmed } = await run();
    // Assess
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
    expect(world.endpoints.has('idle')).toBe(true);
    expect(summary.resources.find((r) => r.name === 'idle')?.code).toBe(code);
    expect(alarmed).toBe(alarms);
  });

  it('a failing delete of one endpoint never stops the others, is reported, and alarms nothing it need not', async () => {
    // Prepare: two more endpoints due; the first one's delete fails
    for (const name of ['a', 'b']) {
      const e = addEndpoint(world, name, { now: TEST_NOW });
      const at = new Date(TEST_NOW.getTime() - 3 * 3_600_000);
      const store = new SageMakerWarningStore(new DynamoDBClient({ region: REGION }), TABLE, `seed-${name}`, at);
      await store.putPending(REGION, `endpoint/${name}`, {
        idleSince: at.toISOString(),
        action: 'delete',
        identity: e.creationTime.toISOString(),
      });
      await store.markDelivered({
        key: `endpoint/${name}`,
        region: REGION,
        slackChannel: 'C',
        slackTs: '1.1',
        warnedAt: at.toISOString(),
        actionDue: at.toISOString(),
      });
    }
    world.endpoints.get('idle')!.deleteFailsWith = 'ValidationException';
    // Act
    const { summary } = await run();
    // Assess
    const outcome = (n: string) => summary.resources.find((r) => r.name === n)?.action;
    expect(outcome('idle')).toMatchObject({ status: 'failed', errorCode: 'ValidationException' });
    expect(outcome('a')).toEqual({ kind: 'delete', status: 'done' });
    expect(outcome('b')).toEqual({ kind: 'delete', status: 'done' });
    expect(table.get('sagemaker-deleted#us-east-1', 'idle')).toMatchObject({ state: 'delete-failed' });
    expect(JSON.stringify(server.posts())).toContain('ValidationException');
  });
});
