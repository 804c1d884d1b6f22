/** A run context for tests: fixed clock, in-memory metrics, silent log, printed (or loopback Slack) messages. */
import { ClientFactory } from '../../lambda/adapters/clients';
import { ConsoleNotifier, type Notifier } from '../../lambda/adapters/slack';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { buildContext, type RunContext } from '../../lambda/runtime/context';
import { MemoryMetrics, silentLog } from '../../lambda/shared/observability';

export const TEST_NOW = new Date('2026-11-15T12:00:00.000Z');

export interface TestContextOptions {
  readonly config?: CostGuardConfigInput;
  readonly now?: Date;
  readonly dryRun?: boolean;
  readonly notifier?: Notifier;
  readonly region?: string;
  readonly stateTableName?: string;
  readonly accountId?: string;
}

/**
 * Parsed configs by their input: property tests build thousands of contexts from a handful of configs, and the
 * schema parse dominated their time. Callers share one deeply frozen config per input, so no test can change what
 * another gets (an attempt throws).
 */
const parsedConfigs = new Map<string, ReturnType<typeof parseConfig>>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function testConfig(input: CostGuardConfigInput): ReturnType<typeof parseConfig> {
  const key = JSON.stringify(input);
  let parsed = parsedConfigs.get(key);
  if (!parsed) {
    parsed = deepFreeze(parseConfig(input));
    parsedConfigs.set(key, parsed);
  }
  return parsed;
}

export function testContext(o: TestContextOptions = {}): RunContext & {
  metrics: MemoryMetrics;
  printed: string[];
} {
  const printed: string[] = [];
  const region = o.region ?? 'us-east-1';
  const ctx = buildContext({
    // Tests act unless they ask for dry-run: the schema's default (dryRun: true) is for deployments.
    config: testConfig({ dryRun: false, ...o.config }),
    now: o.now ?? TEST_NOW,
    defaultRegion: region,
    ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    notifier: o.notifier ?? new ConsoleNotifier((t) => printed.push(t)),
    log: silentLog,
    metrics: new MemoryMetrics(),
    clients: new ClientFactory({ defaultRegion: region, maxAttempts: 1 }),
    accountId: o.accountId ?? '123456789012',
    ...(o.stateTableName ? { stateTableName: o.stateTableName } : {}),
  });
  return Object.assign(ctx, { metrics: ctx.metrics as MemoryMetrics, printed });
}
