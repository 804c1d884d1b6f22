/**
 * Benchmark of the budget guard at its action threshold: runs the real capability over 2,000 and 5,000 running
 * GPU instances in the budget's scope, every AWS call (EC2, Budgets, the DynamoDB state table) answered after 20 ms
 * and every Slack post after 20 ms, and prints the calls by operation, the calls besides the stops, what was stopped
 * and left for the next run, and the wall time. No assertion: it prints figures.
 *
 *   npx tsx scripts/bench-budgets.ts [instances...]     (default: 2000 5000)
 *
 * The run is the first of the period: it claims the alert and action records, reads the budget and the fleet,
 * reserves its stops in the state table, posts the alert naming them, then tags and stops at most
 * `budgets.maxStopsPerRun` (50) through the shared EC2 writer, with a Lambda deadline of 5 minutes.
 */

import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../lambda/adapters/clients';
import type { Notifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import type { SlackMessage } from '../lambda/core/slack-blocks';
import { buildContext } from '../lambda/runtime/context';
import { budgetsCapability } from '../lambda/services/budgets';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { FakeEc2, fakeInstance } from '../test/helpers/fake-ec2';
import { fakeStateTable } from '../test/helpers/fake-state-table';
import { RoutedFakes } from '../test/helpers/routed-fakes';
import { LATENCY_MS, sleep } from './bench-kit';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const REGION = 'us-east-1';
const LAMBDA_TIMEOUT_MS = 5 * 60_000;

/** Every client it hands out answers each call `LATENCY_MS` later (counted first, as in a run). */
class SlowClientFactory extends ClientFactory {
  private readonly slowed = new WeakSet<object>();

  private slow<T extends object>(client: T): T {
    if (this.slowed.has(client)) return client;
    const send = (client as unknown as { send: (...a: unknown[]) => Promise<unknown> }).send.bind(client);
    Object.defineProperty(client, 'send', {
      configurable: true,
      value: async (...args: unknown[]) => {
        await sleep(LATENCY_MS);
        return send(...args);
      },
    });
    this.slowed.add(client);
    return client;
  }

  override ec2(region?: string) {
    return this.slow(super.ec2(region));
  }
  override budgets() {
    return this.slow(super.budgets());
  }
  override dynamodb(region?: string) {
    return this.slow(super.dynamodb(region));
  }
  override sts(region?: string) {
    return this.slow(super.sts(region));
  }
}

async function bench(n: number): Promise<void> {
  const ec2Mock = mockClient(EC2Client);
  const budgetsMock = mockClient(BudgetsClient);
  const table = fakeStateTable();
  const ec2 = new FakeEc2({
    instances: Array.from({ length: n }, (_, i) =>
      fakeInstance(`i-${i.toString(16).padStart(17, '0')}`, { tags: { team: 'ml', Name: `trainer-${i}` } }),
    ),
  });
  const fakes = new RoutedFakes();
  ec2.routeOn(fakes);
  fakes.route(DescribeBudgetsCommand, () => ({
    Budgets: [
      {
        BudgetName: 'ml-platform',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '100000', Unit: 'USD' },
        CalculatedSpend: { ActualSpend: { Amount: '97000', Unit: 'USD' } },
        TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  }));
  ec2Mock.send.callsFake(fakes.dispatch as never);
  budgetsMock.send.callsFake(fakes.dispatch as never);

  let posts = 0;
  const notifier: Notifier = {
    kind: 'slack',
    async post(_message: SlackMessage) {
      await sleep(LATENCY_MS);
      posts += 1;
      return { channel: '#ml-cost', ts: `1700000000.${posts}` };
    },
  };
  const config = parseConfig({
    dryRun: false,
    regions: [REGION],
    budgets: {
      action: 'stop-non-essential',
      items: [{ name: 'ml-platform', limitUsd: 100000, scopeTags: { team: 'ml' } }],
    },
  });
  const started = performance.now();
  const ctx = buildContext({
    config,
    now: NOW,
    defaultRegion: REGION,
    notifier,
    log: silentLog,
    metrics: new MemoryMetrics(),
    clients: new SlowClientFactory({ defaultRegion: REGION }),
    accountId: '123456789012',
    stateTableName: 'cost-guard-state',
    remainingTimeMs: () => LAMBDA_TIMEOUT_MS - (performance.now() - started),
  });
  const summary = await budgetsCapability.run(ctx, { source: 'ml-cost-guard.schedule' });
  const wallMs = performance.now() - started;

  const calls = ctx.clients.counter.byOperation();
  const total = Object.values(calls).reduce((s, c) => s + c, 0);
  const stopCalls = calls['EC2.StopInstances'] ?? 0;
  const report = summary.budgets[0]!;
  console.log(`\n== ${n.toLocaleString('en-US')} instances in scope, ${LATENCY_MS} ms per call ==`);
  for (const [op, count] of Object.entries(calls)) console.log(`  ${op.padEnd(28)} ${String(count).padStart(5)}`);
  console.log(`  ${'calls besides the stops'.padEnd(28)} ${String(total - stopCalls).padStart(5)}`);
  console.log(`  ${'all AWS calls'.padEnd(28)} ${String(total).padStart(5)}`);
  console.log(`  ${'Slack posts'.padEnd(28)} ${String(posts).padStart(5)}`);
  console.log(
    `  stopped ${summary.instancesStopped} (budgets.maxStopsPerRun ${config.budgets.maxStopsPerRun}), ` +
      `${report.deferred ?? 0} left for the next run`,
  );
  console.log(`  wall time                    ${(wallMs / 1000).toFixed(2)} s`);
  ec2Mock.restore();
  budgetsMock.restore();
  table.mock.restore();
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const n of sizes.length > 0 ? sizes : [2000, 5000]) await bench(n);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
