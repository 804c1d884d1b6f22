/**
 * Benchmark of the SageMaker guard: runs the real capability over 500 real-time endpoints in one region, with mocked
 * SageMaker, CloudWatch and DynamoDB clients that answer after 20 ms per call, and prints the calls by operation, the
 * GetMetricData queries and the wall time. No assertion: it prints figures.
 *
 *   npx tsx scripts/bench-sagemaker.ts [endpoints...]     (default: 500)
 *
 * The region: every endpoint is an InService ml.g5.xlarge endpoint (one variant, its own endpoint config), a month
 * old; one in ten was invoked in the window, the rest are idle. Half of the idle ones were warned three hours ago (a
 * delivered warning in the state table: due for deletion, capped by maxActionsPerRun), half are new (pending warning,
 * digest, delivered mark). Slack answers after the same 20 ms.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ClientFactory } from '../lambda/adapters/clients';
import { SageMakerWarningStore } from '../lambda/adapters/sagemaker-warnings';
import type { Notifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import { buildContext } from '../lambda/runtime/context';
import { sageMakerCapability } from '../lambda/services/sagemaker';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { addEndpoint, emptyWorld, installFakeSageMaker } from '../test/helpers/fake-sagemaker';
import { fakeStateTable } from '../test/helpers/fake-state-table';
import { LATENCY_MS, sleep } from './bench-kit';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const REGION = 'us-east-1';
const TABLE = 'state';

async function bench(n: number): Promise<void> {
  const world = emptyWorld(REGION);
  const fake = installFakeSageMaker(world, { latencyMs: LATENCY_MS });
  const table = fakeStateTable();
  // The table answers after the same latency.
  const send = DynamoDBClient.prototype.send;
  const slow = async function (this: DynamoDBClient, ...args: Parameters<typeof send>) {
    await sleep(LATENCY_MS);
    return (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  };
  DynamoDBClient.prototype.send = slow as typeof send;
  try {
    const seedAt = new Date(NOW.getTime() - 3 * 3_600_000);
    const seed = new SageMakerWarningStore(new DynamoDBClient({ region: REGION }), TABLE, 'seed', seedAt);
    for (let i = 0; i < n; i++) {
      const busy = i % 10 === 0;
      const e = addEndpoint(world, `endpoint-${i}`, {
        now: NOW,
        tags: { team: 'ml', owner: `user${i % 17}` },
        invocations: busy ? { AllTraffic: [0, 12, 3] } : {},
      });
      if (!busy && i % 2 === 1) {
        const key = `endpoint/${e.name}`;
        await seed.putPending(REGION, key, {
          idleSince: seedAt.toISOString(),
          action: 'delete',
          identity: e.creationTime.toISOString(),
        });
        await seed.markDelivered({
          key,
          region: REGION,
          slackChannel: 'C1',
          slackTs: '1.1',
          warnedAt: seedAt.toISOString(),
          actionDue: new Date(seedAt.getTime() + 3_600_000).toISOString(),
        });
      }
    }
    let posts = 0;
    const notifier: Notifier = {
      kind: 'slack',
      post: async () => {
        await sleep(LATENCY_MS);
        posts += 1;
        return { channel: 'C1', ts: `${Date.now()}.${posts}` };
      },
    };
    const clients = new ClientFactory({ defaultRegion: REGION, maxAttempts: 1 });
    const ctx = buildContext({
      config: parseConfig({ dryRun: false, regions: [REGION], sagemaker: { action: 'delete', maxActionsPerRun: 25 } }),
      now: NOW,
      defaultRegion: REGION,
      notifier,
      log: silentLog,
      metrics: new MemoryMetrics(),
      clients,
      stateTableName: TABLE,
    });
    const started = performance.now();
    const summary = await sageMakerCapability.run(ctx, {
      source: 'ml-cost-guard.schedule',
      scheduledTime: NOW.toISOString(),
    });
    const wallMs = performance.now() - started;
    const calls = Object.entries(summary.apiCalls).sort(([a], [b]) => a.localeCompare(b));
    const total = calls.reduce((s, [, c]) => s + c, 0);
    console.log(`\n${n} endpoints in ${REGION}, ${LATENCY_MS} ms a call`);
    console.log(`  wall time          ${(wallMs / 1000).toFixed(2)} s`);
    console.log(`  API calls          ${total} (besides ${posts} Slack message(s))`);
    for (const [op, c] of calls) console.log(`    ${op.padEnd(40)} ${c}`);
    console.log(`  GetMetricData queries ${summary.metricQueries} (one per variant, 500 a call)`);
    console.log(
      `  decisions          ${summary.counts.deleted} deleted, ${summary.counts.warned} warned, ${summary.counts.deferred} deferred, ` +
        `${summary.resources.filter((r) => r.decision === 'busy').length} busy`,
    );
  } finally {
    DynamoDBClient.prototype.send = send;
    fake.restore();
    table.mock.restore();
  }
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => Number.isInteger(x) && x > 0);
  for (const n of sizes.length > 0 ? sizes : [500]) await bench(n);
}

void main();
