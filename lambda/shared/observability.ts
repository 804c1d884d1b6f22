/**
 * Logging and metrics behind two small interfaces, so the same run code logs through Powertools in Lambda and to
 * stderr (or nowhere) in the CLI and tests.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

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

const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Percent: MetricUnit.Percent,
  None: MetricUnit.NoUnit,
  Bytes: MetricUnit.Bytes,
};

/** Powertools Metrics (CloudWatch EMF): one flush per invocation. Every metric carries the Capability dimension. */
export class PowertoolsMetrics implements MetricsSink {
  readonly metrics: Metrics;

  constructor(capability: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'ml-cost-guard' });
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

/** Powertools Logger (structured JSON to CloudWatch) behind the Log interface. */
export function powertoolsLogger(capability: string): Log {
  const logger = new Logger({ serviceName: 'ml-cost-guard', persistentKeys: { capability } });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, extra?: Record<string, unknown>): void =>
      extra ? logger[level](message, extra) : logger[level](message);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
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
