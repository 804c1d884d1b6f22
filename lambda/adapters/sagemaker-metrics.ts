/**
 * `AWS/SageMaker` `Invocations` of every variant of every candidate endpoint, in the batched GetMetricData calls of
 * cloudwatch-metrics.ts (500 queries a call, every page read): the calls grow with variants / 500, never one per
 * endpoint. SageMaker publishes no datapoint for a period without requests, so an empty series is "no request"; a
 * query whose call failed leaves its endpoint's invocations unknown (never idle).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  type EndpointFacts,
  type EndpointInvocations,
  INVOCATIONS_METRIC,
  INVOCATIONS_NAMESPACE,
  INVOCATIONS_PERIOD_SECONDS,
} from '../core/sagemaker/types';
import { getMetricValues, type MetricQuerySpec, type MetricWindow } from './cloudwatch-metrics';

/**
 * The window the guard reads: from `hours` before `now` (rounded down to the hour) to the end of the current hour,
 * so the last requests before `now` are inside it and at least `hours` are covered.
 */
export function invocationsWindow(now: Date, hours: number): MetricWindow {
  const periodMs = INVOCATIONS_PERIOD_SECONDS * 1000;
  const start = Math.floor((now.getTime() - hours * 3_600_000) / periodMs) * periodMs;
  const end = Math.ceil(now.getTime() / periodMs) * periodMs;
  return {
    start: new Date(start),
    end: new Date(end === start ? end + periodMs : end),
    periodSeconds: INVOCATIONS_PERIOD_SECONDS,
  };
}

const key = (endpoint: string, variant: string) => `${endpoint}|${variant}`;

export interface InvocationsResult {
  /** By endpoint name; undefined: unknown (its query failed). */
  readonly invocations: ReadonlyMap<string, EndpointInvocations>;
  readonly errors: readonly string[];
  /** Queries sent (GetMetricData bills per metric requested). */
  readonly queries: number;
}

/** One Sum query per variant: `Invocations` with dimensions EndpointName and VariantName. */
export function invocationQueries(endpoints: readonly EndpointFacts[]): MetricQuerySpec[] {
  return endpoints.flatMap((e) =>
    e.variants.map((v) => ({
      key: key(e.name, v.variantName),
      namespace: INVOCATIONS_NAMESPACE,
      metricName: INVOCATIONS_METRIC,
      dimensions: [
        { Name: 'EndpointName', Value: e.name },
        { Name: 'VariantName', Value: v.variantName },
      ],
      stat: 'Sum' as const,
    })),
  );
}

export async function fetchEndpointInvocations(
  client: CloudWatchClient,
  endpoints: readonly EndpointFacts[],
  window: MetricWindow,
): Promise<InvocationsResult> {
  const specs = invocationQueries(endpoints);
  const { values, failedKeys, errors } = await getMetricValues(client, specs, window);
  const invocations = new Map<string, EndpointInvocations>();
  for (const e of endpoints) {
    if (e.variants.some((v) => failedKeys.has(key(e.name, v.variantName)))) {
      invocations.set(e.name, undefined);
      continue;
    }
    invocations.set(
      e.name,
      Object.fromEntries(e.variants.map((v) => [v.variantName, values.get(key(e.name, v.variantName)) ?? []])),
    );
  }
  return {
    invocations,
    errors: errors.map((line) => line.replace('those instances are unknown', 'those endpoints are unknown')),
    queries: specs.length,
  };
}
