/**
 * Logging and metrics behind two small interfaces, so the same run code logs through Powertools in Lambda and to
 * stderr (or nowhere) in the CLI and tests.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

export { METRICS_NAMESPACE } from '../core/names';

import { METRICS_NAMESPACE, type MetricName } from '../core/names';

export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type MetricUnitName = 'Count' | 'Percent' | 'None' | 'Bytes';

export interface MetricsSink {
  /** Adds a datapoint; `dimensions` (e.g. {Budget: 'ml'}) publish it as its own series. Names: METRIC (core/names). */
  add(name: MetricName, value: number, unit?: MetricUnitName, dimensions?: Record<string, string>): void;
}

/** Keeps metrics in memory: the CLI prints them with --json, tests assert on them. */
export class MemoryMetrics implements MetricsSink {
  readonly points: { name: string; value: number; unit: MetricUnitName; dimensions?: Record<string, string> }[] = [];

  add(name: MetricName, value: number, unit: MetricUnitName = 'Count', dimensions?: Record<string, string>): void {
    this.points.push({ name, value, unit, ...(dimensions ? { dimensions } : {}) });
  }

  /** Sum of a metric's datapoints without dimensions. */
  value(name: string): number | undefined {
    const ps = this.points.filter((p) => p.name === name && !p.dimensions);
    return ps.length === 0 ? undefined : ps.reduce((s, p) => s + p.value, 0);
  }
}

const UNITS = {
  Count: 'Count',
  Percent: 'Percent',
  None: 'None',
  Bytes: 'Bytes',
} as const satisfies Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]>;

const SERVICE_NAME = 'ml-cost-guard';

let sharedLogger: Logger | undefined;
let sharedMetrics: Metrics | undefined;

/**
 * The function's one Powertools Logger, made on first use (so the CLI, which never logs through it, never makes it,
 * and POWERTOOLS_* settings are read when a function first runs). A Lambda bundle runs one capability.
 */
export function functionLogger(): Logger {
  sharedLogger ??= new (
    require('@aws-lambda-powertools/logger') as typeof import('@aws-lambda-powertools/logger')
  ).Logger({
    serviceName: SERVICE_NAME,
  });
  return sharedLogger;
}

/** The function's one Powertools Metrics (CloudWatch EMF), made on first use like the logger; flushed per invocation. */
export function functionMetrics(): Metrics {
  sharedMetrics ??= new (
    require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics')
  ).Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  return sharedMetrics;
}

/** The function's Powertools Metrics behind MetricsSink: every metric carries the Capability dimension. */
export class PowertoolsMetrics implements MetricsSink {
  constructor(
    capability: string,
    readonly metrics: Metrics = functionMetrics(),
  ) {
    this.metrics.setDefaultDimensions({ Capability: capability });
  }

  add(name: MetricName, value: number, unit: MetricUnitName = 'Count', dimensions?: Record<string, string>): void {
    if (dimensions) {
      const single = this.metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(name, UNITS[unit], value);
      return;
    }
    this.metrics.addMetric(name, UNITS[unit], value);
  }

  flush(): void {
    this.metrics.publishStoredMetrics();
  }
}

/** A capability's log in a Lambda: structured JSON lines that carry the invocation's Lambda context once added. */
export interface LambdaLog extends Log {
  /**
   * Adds the invocation's Lambda context to every line that follows: request id (`function_request_id`), cold start
   * (`cold_start`, true on the first invocation of the execution environment), function name, ARN and memory.
   */
  addContext(context: Context): void;
}

/** The function logger's child for one capability (key `capability` on every line), behind the Log interface. */
export function powertoolsLogger(capability: string, parent: Logger = functionLogger()): LambdaLog {
  const logger = parent.createChild({ persistentKeys: { capability } });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, extra?: Record<string, unknown>): void =>
      extra ? logger[level](message, extra) : logger[level](message);
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    addContext: (context) => logger.addContext(context),
  };
}

/** Writes `level message {json}` lines; used by the CLI (to stderr) when --verbose. */
export function lineLogger(write: (line: string) => void, minLevel: 'debug' | 'info' | 'warn' = 'info'): Log {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const at =
    (level: keyof typeof order) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (order[level] < order[minLevel]) return;
      write(`${level.toUpperCase()} ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
