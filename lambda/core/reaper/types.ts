/**
 * Plain data the idle GPU reaper decides on. Adapters fill these from EC2 and CloudWatch; the decision functions
 * take them as arguments (with `now` and the config) and never read the clock or the network.
 */
import type { IdleGpuConfig, TagsConfig } from '../config';
import type { KeepRecord } from '../keeps';

/**
 * The tag the reaper writes once Slack accepted an instance's warning: when it was first seen idle (ISO 8601). A
 * mirror for people only: the warning itself lives in the state table, and the reaper never reads this tag.
 */
export const IDLE_SINCE_TAG = 'cost-guard:idle-since';

/** CloudWatch agent GPU utilization metric (one series per GPU). */
export const GPU_METRIC_NAMESPACE = 'CWAgent';
export const GPU_METRIC_NAME = 'nvidia_smi_utilization_gpu';
/** CloudWatch agent GPU memory used, MB (one series per GPU); reported beside utilization, never judged on. */
export const GPU_MEMORY_USED_METRIC_NAME = 'nvidia_smi_memory_used';
/** CloudWatch agent GPU memory activity, percent: the fallback when an agent publishes no `memory_used`. */
export const GPU_MEMORY_UTILIZATION_METRIC_NAME = 'nvidia_smi_utilization_memory';

/** The CloudWatch agent config that ties GPU series to instances (docs/reaper.md has the whole file). */
export const AGENT_CONFIG_FIX =
  'install the CloudWatch agent with its nvidia_gpu plugin (measurements utilization_gpu, memory_used) and ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's own placeholder, written as the agent wants it
  '`"append_dimensions": {"InstanceId": "${aws:InstanceId}"}`';

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
  /** GPU memory per GPU series (Maximum): MB used, or percent activity when only that metric exists. */
  readonly gpuMemory?: { readonly unit: 'MB' | 'percent'; readonly series: readonly (readonly number[])[] };
  readonly cpu?: readonly number[];
  readonly networkIn?: readonly number[];
  readonly networkOut?: readonly number[];
}

/** `high`: judged on per-instance GPU series; `low`: on CPU and network alone (a GPU-bound job can look the same). */
export type Confidence = 'high' | 'low';

/**
 * A warning on record in the state table (pk `warning#<region>`, sk the instance ID): the only state the reaper
 * acts on. `pending` until Slack accepted the message that carried it, then `delivered` with the channel and ts.
 */
export interface WarningState {
  readonly instanceId: string;
  readonly region: string;
  readonly status: 'pending' | 'delivered';
  /** When the instance was first seen idle (ISO). */
  readonly idleSince: string;
  /** The instance's launch (or start) time when warned: a later start voids the warning. */
  readonly launchTime?: string;
  /** The action the warning announced; absent: a report-only warning (low confidence), which announces none. */
  readonly action?: 'stop' | 'terminate';
  /** When Slack accepted the warning (ISO); the grace period counts from here. */
  readonly warnedAt?: string;
  readonly slackChannel?: string;
  readonly slackTs?: string;
  /** When the announced action is due (ISO): warnedAt + warnMinutesBeforeAction at delivery. */
  readonly actionDue?: string;
}

/**
 * A keep on record in the state table: someone pressed a keep button in Slack (or ran `cost-guard keep`), so the
 * reaper leaves the instance alone until `until`. Either source protects: this record or the keep-until tag. Once
 * expired the instance is back in the normal flow, and a warning given before the keep ended no longer counts: it is
 * warned again before any action.
 */
export type KeepState = Pick<KeepRecord, 'instanceId' | 'region' | 'until' | 'by'> &
  Partial<Pick<KeepRecord, 'byName' | 'reason' | 'setAt'>>;

/** The warning a `warn` decision records, posts, and marks delivered once Slack accepts it. */
export interface NewWarning {
  readonly idleSince: string;
  /** Absent: report-only (the instance will not be acted on, and the message says so). */
  readonly action?: 'stop' | 'terminate';
}

/**
 * What the reaper decides for one instance:
 * - `skip`: a guard rule applies, never acted on whatever the metrics say;
 * - `unknown`: too few datapoints: never idle;
 * - `busy`: not idle;
 * - `warn`: idle and no delivered warning of this action on record (first detection, the last one never reached
 *   Slack, the instance was started since, or the evidence or the action changed): record it and warn;
 * - `wait`: idle and warned, the grace period has not passed (or the evidence does not allow acting at all);
 * - `act`: idle, and Slack accepted a warning of this action at least the grace period ago: terminate or stop;
 * - `notify`: idle while the action is `notify`, or while the run cannot deliver warnings (no Slack token, no state
 *   table): report only, change nothing;
 * - `deferred`: would act, but the action limit of this period was reached; a later run acts.
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
  /** When the instance was first seen idle: the warning record's, or now on first detection. */
  readonly idleSince?: string;
  /** When the action happens if the instance stays idle (for `warn` and `wait` of an actionable warning). */
  readonly actAt?: string;
  /** For `act`: when Slack accepted the warning. */
  readonly warnedAt?: string;
  /** For `warn`: the warning to record as pending, post, and mark delivered once Slack accepted it. */
  readonly warning?: NewWarning;
  /** Remove the warning record and the idle-since mirror tag (the instance is busy again, or now protected). */
  readonly clearWarning: boolean;
}

export type IdlenessState = 'idle' | 'busy' | 'unknown';

export interface IdlenessAssessment {
  readonly state: IdlenessState;
  /** `low` when judged on CPU and network alone (no per-instance GPU series). */
  readonly confidence: Confidence;
  readonly code:
    | 'idle'
    | 'gpu-busy'
    | 'cpu-busy'
    | 'network-busy'
    | 'too-few-gpu-datapoints'
    | 'too-few-cpu-datapoints'
    | 'too-few-network-datapoints';
  readonly reason: string;
  /** Max GPU utilization across GPUs and the window, percent. */
  readonly gpuMaxPercent?: number;
  /** Max GPU memory used across GPUs and the window, MB (nvidia_smi_memory_used). */
  readonly gpuMemoryUsedMaxMb?: number;
  /** Max GPU memory activity across GPUs and the window, percent (nvidia_smi_utilization_memory). */
  readonly gpuMemoryMaxPercent?: number;
  /** Max CPU utilization over the window, percent. */
  readonly cpuMaxPercent?: number;
  /** Network in + out, MB (10^6 bytes) per hour. */
  readonly networkMegabytesPerHour?: number;
  /** 5-minute datapoints expected over the window, and the least accepted. */
  readonly expectedDatapoints: number;
  readonly requiredDatapoints: number;
}
