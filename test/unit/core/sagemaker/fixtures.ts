/** Endpoints, notebooks and configs for the SageMaker decision tables. */
import { parseConfig } from '../../../../lambda/core/config';
import type { EndpointFacts, NotebookFacts, SageMakerGuardConfig } from '../../../../lambda/core/sagemaker';

export const NOW = new Date('2026-11-15T12:00:00.000Z');
export const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
export const minutesAfter = (m: number) => new Date(NOW.getTime() + m * 60_000);

export function guardConfig(sagemaker: Record<string, unknown> = {}): SageMakerGuardConfig {
  const c = parseConfig({ sagemaker: { action: 'delete', ...sagemaker } });
  return { sagemaker: c.sagemaker, tags: c.tags };
}

/** A 30-day-old InService endpoint with one ml.g5.xlarge instance. */
export function endpoint(over: Partial<EndpointFacts> = {}): EndpointFacts {
  return {
    name: 'llm-demo',
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-demo',
    region: 'us-east-1',
    status: 'InService',
    creationTime: hoursAgo(24 * 30),
    lastModifiedTime: hoursAgo(24 * 30),
    endpointConfigName: 'llm-demo-config',
    variants: [{ variantName: 'AllTraffic', instanceType: 'ml.g5.xlarge', serverless: false, currentInstanceCount: 1 }],
    async: false,
    tags: { owner: 'alice' },
    ...over,
  };
}

export function notebook(over: Partial<NotebookFacts> = {}): NotebookFacts {
  return {
    name: 'alice-nb',
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/alice-nb',
    region: 'us-east-1',
    status: 'InService',
    instanceType: 'ml.g5.2xlarge',
    creationTime: hoursAgo(24 * 60),
    lastModifiedTime: hoursAgo(100),
    tags: {},
    ...over,
  };
}

/** No datapoint for any variant: no request in the window. */
export const silent = (e: EndpointFacts) => Object.fromEntries(e.variants.map((v) => [v.variantName, [] as number[]]));
