/**
 * Plain data the idle GPU reaper decides on. Adapters fill these from EC2 and CloudWatch; the decision functions
 * take them as arguments (with `now` and the config) and never read the clock or the network.
 */
import type { IdleGpuConfig, TagsConfig } from '../config';

/** The tag the reaper writes on first detection: when the instance was first seen idle (ISO 8601). */
export const IDLE_SINCE_TAG = 'cost-guard:idle-since';

/** CloudWatch agent GPU utilization metric (one series per GPU). */
export const GPU_METRIC_NAMESPACE = 'CWAgent';
export const GPU_METRIC_NAME = 'nvidia_smi_utilization_gpu';

/** Period of every metric query, in seconds: AWS/EC2 basic monitoring publishes every 5 minutes. */
export const METRIC_PERIOD_SECONDS = 300;

/** The slice of the config the reaper reads. */
export interface ReaperConfig {
  readonly idleGpu: IdleGpuConfig;
  readonly tags: TagsConfig;
}

export type ReaperAction = IdleGpuConfig['action'];

/**
 * Datapoints over the lookback window, one value per 5-minute period. `gpu` holds one array per GPU series
 * (Maximum); `cpu` is CPUUtilization (Maximum); network is NetworkIn/NetworkOut (Sum, bytes). A missing array means
 * the metric was not found or its query failed.
 */
export interface InstanceMetrics {
  readonly gpu: readonly (readonly number[])[];
  readonly cpu?: readonly number[];
  readonly networkIn?: readonly number[];
  readonly networkOut?: readonly number[];
}

export type Confidence = 'high' | 'low';

/**
 * What the reaper decides for one instance:
 * - `skip`: a guard rule applies, never acted on whatever the metrics say;
 * - `unknown`: too few datapoints (or no GPU metrics and CPU-only decisions are off): never idle;
 * - `busy`: not idle;
 * - `warn`: idle, first detection (or a bad idle-since tag): tag it and warn;
 * - `wait`: idle and warned, the warning period has not passed;
 * - `act`: idle, warned long enough ago (or warnMinutesBeforeAction is 0): terminate or stop;
 * - `notify`: idle while the action is `notify`: report only, change nothing;
 * - `deferred`: would act, but maxActionsPerRun was reached; the next run acts.
 */
export type DecisionKind = 'skip' | 'unknown' | 'busy' | 'warn' | 'wait' | 'act' | 'notify' | 'deferred';

export interface Decision {
  readonly instanceId: string;
  readonly kind: DecisionKind;
  /** Machine-readable reason: a SkipReason, or an idleness/state-machine code. */
  readonly code: string;
  /** The reason in words a user understands. */
  readonly reason: string;
  readonly confidence?: Confidence;
  readonly idleness?: IdlenessAssessment;
  /** Idle-since value in force (the tag's, or the one written now). */
  readonly idleSince?: string;
  /** When the action happens if the instance stays idle (for `warn` and `wait`). */
  readonly actAt?: string;
  /** Write the idle-since tag with this value (first detection, or a bad tag to replace). */
  readonly tagIdleSince?: string;
  /** Remove the idle-since tag (the instance is busy again, or now protected). */
  readonly untagIdleSince: boolean;
}

export type IdlenessState = 'idle' | 'busy' | 'unknown';

export interface IdlenessAssessment {
  readonly state: IdlenessState;
  /** `low` when judged on CPU and network alone (no GPU metrics). */
  readonly confidence: Confidence;
  readonly code:
    | 'idle'
    | 'gpu-busy'
    | 'cpu-busy'
    | 'network-busy'
    | 'too-few-gpu-datapoints'
    | 'too-few-cpu-datapoints'
    | 'too-few-network-datapoints'
    | 'no-gpu-metrics';
  readonly reason: string;
  /** Max GPU utilization across GPUs and the window, percent. */
  readonly gpuMaxPercent?: number;
  /** Max CPU utilization over the window, percent. */
  readonly cpuMaxPercent?: number;
  /** Network in + out, MB (10^6 bytes) per hour. */
  readonly networkMegabytesPerHour?: number;
  /** 5-minute datapoints expected over the window, and the least accepted. */
  readonly expectedDatapoints: number;
  readonly requiredDatapoints: number;
}
