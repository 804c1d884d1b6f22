/** Environment variable names the stack sets on every function (shared by lib/ and the Lambda runtime). */
export const ENV = {
  config: 'COST_GUARD_CONFIG',
  stateTable: 'COST_GUARD_STATE_TABLE',
  slackSecret: 'COST_GUARD_SLACK_SECRET',
  accountId: 'COST_GUARD_ACCOUNT_ID',
  /** The CloudFormation stack the functions belong to (the storage lifecycle never writes its buckets). */
  stackName: 'COST_GUARD_STACK_NAME',
  /** The Secrets Manager secret (ARN) of the Slack app's signing secret: the interactivity endpoint only. */
  slackSigningSecret: 'COST_GUARD_SLACK_SIGNING_SECRET',
} as const;

/** The stack's name when COST_GUARD_STACK_NAME is not set (lib/app.ts, run by bin/ml-cost-guard.ts, creates it under this name). */
export const DEFAULT_STACK_NAME = 'MlCostGuard';

/** The state table's name: fixed, so the CLI finds the deployed table without asking CloudFormation. */
export const STATE_TABLE_NAME = 'ml-cost-guard-state';

/** The CloudWatch namespace of every ml-cost-guard metric (shared by the Lambdas and the dashboard). */
export const METRICS_NAMESPACE = 'MlCostGuard';

/**
 * Every metric name the functions publish (namespace {@link METRICS_NAMESPACE}, dimension `Capability`), shared by
 * the functions and the dashboard: rename one here and both follow.
 */
export const METRIC = {
  // idle GPU reaper
  InstancesScanned: 'InstancesScanned',
  IdleFound: 'IdleFound',
  Warned: 'Warned',
  Terminated: 'Terminated',
  Stopped: 'Stopped',
  /** With a `Reason` dimension. */
  Skipped: 'Skipped',
  /** Spot GPU hours / all GPU hours of the run, percent; also with a `Team` dimension. */
  SpotCoveragePercent: 'SpotCoveragePercent',
  /** Busy GPU hours / measured GPU hours of the run, percent; also with a `Team` dimension. */
  FleetGpuUtilizationPercent: 'FleetGpuUtilizationPercent',
  /** GPU hours of the run (FinOps; fleet-wide and with a `Team` dimension): busy, measured, on spot, all. */
  GpuBusyHours: 'GpuBusyHours',
  GpuMeasuredHours: 'GpuMeasuredHours',
  SpotGpuHours: 'SpotGpuHours',
  GpuHours: 'GpuHours',
  /** Reaper, budget guard and SageMaker guard: savings of this run's actions (or what they would save, in dry-run). */
  EstimatedMonthlySavingsUsd: 'EstimatedMonthlySavingsUsd',
  // storage lifecycle
  BucketsScanned: 'BucketsScanned',
  BucketsChanged: 'BucketsChanged',
  LifecycleConflicts: 'LifecycleConflicts',
  ProjectedMonthlySavingsUsd: 'ProjectedMonthlySavingsUsd',
  /** Bytes of the managed buckets in infrequent/archive classes, and in all (FinOps; also with a `Team` dimension). */
  StorageInfrequentBytes: 'StorageInfrequentBytes',
  StorageTotalBytes: 'StorageTotalBytes',
  /** StorageInfrequentBytes / StorageTotalBytes, percent. */
  StorageEfficiencyPercent: 'StorageEfficiencyPercent',
  // budget guard
  BudgetsChecked: 'BudgetsChecked',
  /** With a `Budget` dimension. */
  PercentUsed: 'PercentUsed',
  AlertsSent: 'AlertsSent',
  InstancesStopped: 'InstancesStopped',
  // right-sizing advice
  RightsizingInstancesChecked: 'RightsizingInstancesChecked',
  RightsizingRecommendations: 'RightsizingRecommendations',
  /** What the recommendations would save a month (advice: nothing is changed). */
  RightsizingMonthlySavingsUsd: 'RightsizingMonthlySavingsUsd',
  // SageMaker guard
  SageMakerEndpointsScanned: 'SageMakerEndpointsScanned',
  SageMakerIdleEndpoints: 'SageMakerIdleEndpoints',
  SageMakerWarned: 'SageMakerWarned',
  SageMakerEndpointsDeleted: 'SageMakerEndpointsDeleted',
  SageMakerNotebooksStopped: 'SageMakerNotebooksStopped',
  SageMakerDomainsUpdated: 'SageMakerDomainsUpdated',
  /** GPU notebook instances and Studio apps running (reported, whatever the action). */
  SageMakerGpuNotebooks: 'SageMakerGpuNotebooks',
  SageMakerGpuStudioApps: 'SageMakerGpuStudioApps',
  // monthly summary
  SummaryMonthlySavingsUsd: 'SummaryMonthlySavingsUsd',
  // every function (the Lambda runtime)
  /** Savings of the actions that took effect this run. */
  RealizedMonthlySavingsUsd: 'RealizedMonthlySavingsUsd',
  LedgerWriteFailures: 'LedgerWriteFailures',
  /** With an `Operation` dimension. */
  ApiCalls: 'ApiCalls',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * Extra metric dimensions (besides `Capability`). Organization mode: the units of a fan-out publish
 * RealizedMonthlySavingsUsd and EstimatedMonthlySavingsUsd with an `Account` dimension too, so the dashboard breaks
 * savings down by account.
 */
export const DIMENSION = {
  Account: 'Account',
} as const;

/** The metric names the functions emit: what the dashboard and alarms may reference. */
export const EMITTED_METRICS: readonly MetricName[] = Object.values(METRIC);
