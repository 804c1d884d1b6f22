/**
 * Plain data the SageMaker guard decides on. The SageMaker adapter (lambda/adapters/sagemaker.ts) fills these from
 * ListEndpoints / DescribeEndpoint / DescribeEndpointConfig / ListTags / ListInferenceComponents,
 * ListNotebookInstances, ListDomains / DescribeDomain and ListApps; CloudWatch gives the `Invocations` datapoints.
 * The decisions take them as arguments (with `now` and the config) and never read the clock or the network.
 */
import type { SageMakerConfig, TagsConfig } from '../config';
import type { Tags } from '../tags';

/** The slice of the config the SageMaker guard reads. */
export interface SageMakerGuardConfig {
  readonly sagemaker: SageMakerConfig;
  readonly tags: TagsConfig;
}

/** CloudFormation tags every resource of a stack: deleting or changing such a resource drifts the stack. */
export const CLOUDFORMATION_STACK_TAG = 'aws:cloudformation:stack-name';

/** `AWS/SageMaker` `Invocations`, per EndpointName and VariantName: no datapoint for a period without requests. */
export const INVOCATIONS_NAMESPACE = 'AWS/SageMaker';
export const INVOCATIONS_METRIC = 'Invocations';
/** One datapoint an hour: a week of 500 endpoints stays under GetMetricData's 100,800 datapoints a call. */
export const INVOCATIONS_PERIOD_SECONDS = 3600;

/** One production variant of an endpoint: DescribeEndpoint's summary joined with its endpoint config entry. */
export interface EndpointVariant {
  readonly variantName: string;
  /** ml.* instance type from the endpoint config; undefined for a serverless variant (or a config that says none). */
  readonly instanceType?: string;
  /** The variant is serverless (ServerlessConfig): billed per request, nothing runs while idle. */
  readonly serverless: boolean;
  /** CurrentInstanceCount from DescribeEndpoint (0: scaled to zero); undefined when SageMaker did not say. */
  readonly currentInstanceCount?: number;
}

/** One real-time endpoint, as SageMaker describes it. */
export interface EndpointFacts {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  /** EndpointStatus: InService, Updating, Deleting… */
  readonly status: string;
  /** ISO creation time; undefined when SageMaker left it out. */
  readonly creationTime?: string;
  /** ISO time of the last change (update, capacity change); the endpoint is "in its current form" since then. */
  readonly lastModifiedTime?: string;
  readonly endpointConfigName: string;
  readonly variants: readonly EndpointVariant[];
  /** The endpoint config has an AsyncInferenceConfig: requests queue, Invocations alone proves nothing. */
  readonly async: boolean;
  /** Inference components the endpoint hosts (ListInferenceComponents); undefined when it hosts none. */
  readonly inferenceComponents?: { readonly count: number; readonly names: readonly string[] };
  readonly tags: Tags;
  /** ListTags failed: protection tags unknown, so the endpoint is never acted on. */
  readonly tagsUnknown?: boolean;
}

/**
 * `Invocations` over the window, by variant name: the datapoints found (an empty array: no datapoint, which for an
 * endpoint older than the window means no request). Undefined when the metrics could not be read.
 */
export type EndpointInvocations = Readonly<Record<string, readonly number[]>> | undefined;

/** One notebook instance, as ListNotebookInstances (and ListTags) report it. */
export interface NotebookFacts {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly status: string;
  readonly instanceType: string;
  readonly creationTime?: string;
  /** ISO time of the last change; a start changes it, so the notebook has been in service at most since then. */
  readonly lastModifiedTime?: string;
  /** The lifecycle configuration attached (auto-stop scripts live there), if any. */
  readonly lifecycleConfigName?: string;
  readonly tags: Tags;
  readonly tagsUnknown?: boolean;
}

/** What the guard acts on: an endpoint (delete) or a notebook instance (stop). */
export type SageMakerResourceKind = 'endpoint' | 'notebook';
export type SageMakerAction = 'delete' | 'stop';

/** The state-table key of a resource: `endpoint/<name>` or `notebook/<name>`. */
export const resourceKey = (kind: SageMakerResourceKind, name: string): string => `${kind}/${name}`;

/**
 * A warning on record in the state table (pk `sagemaker-warning#<region>`, sk the resource key): the only state the
 * guard acts on. `pending` until Slack accepted the message that carried it, then `delivered` with the channel and ts.
 */
export interface SageMakerWarning {
  readonly key: string;
  readonly region: string;
  readonly status: 'pending' | 'delivered';
  /** When the resource was first seen idle (or over its notebook hours), ISO. */
  readonly idleSince: string;
  readonly action: SageMakerAction;
  /**
   * The resource's identity when warned: an endpoint's creation time, a notebook's in-service time. A resource of
   * the same name created (or started) since is another one, and the warning does not count for it.
   */
  readonly identity?: string;
  /** When Slack accepted the warning (ISO); the grace period counts from here. */
  readonly warnedAt?: string;
  readonly slackChannel?: string;
  readonly slackTs?: string;
  /** warnedAt + warnMinutesBeforeAction at delivery (ISO). */
  readonly actionDue?: string;
}

/** The warning a `warn` decision records, posts, and marks delivered once Slack accepts it. */
export interface NewSageMakerWarning {
  readonly idleSince: string;
  readonly action: SageMakerAction;
  readonly identity?: string;
}

/**
 * What the guard decides for one endpoint or notebook:
 * - `skip`: a guard rule applies (protected, serverless, asynchronous, scaled to zero…), never acted on;
 * - `unknown`: the evidence could not be read (metrics, tags): never idle;
 * - `busy`: invoked in the window;
 * - `report`: reported for what it costs, nothing to do (a GPU notebook under its hours, or with no limit set);
 * - `warn`, `wait`, `act`, `deferred`: the warn-then-act flow of the idle GPU reaper;
 * - `notify`: idle, but the action is notify, the resource belongs to a CloudFormation stack, or the run cannot
 *   deliver warnings (no Slack token, no state table): reported, nothing changed.
 */
export type SageMakerDecisionKind =
  | 'skip'
  | 'unknown'
  | 'busy'
  | 'report'
  | 'warn'
  | 'wait'
  | 'act'
  | 'notify'
  | 'deferred';

export interface SageMakerDecision {
  readonly kind: SageMakerDecisionKind;
  /** Machine-readable reason: a skip reason, or a state-machine code. */
  readonly code: string;
  /** The reason in words a user understands. */
  readonly reason: string;
  readonly idleSince?: string;
  /** When the action happens if the resource stays idle (for `warn` and `wait`). */
  readonly actAt?: string;
  /** For `act`: when Slack accepted the warning. */
  readonly warnedAt?: string;
  /** For `warn`: the warning to record as pending, post, and mark delivered once Slack accepted it. */
  readonly warning?: NewSageMakerWarning;
  /** Remove the warning on record (busy again, now protected). */
  readonly clearWarning: boolean;
  /** Invocations over the window (all variants), when read. */
  readonly invocations?: number;
}
