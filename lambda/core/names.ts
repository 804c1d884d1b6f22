/** Environment variable names the stack sets on every function (shared by lib/ and the Lambda runtime). */
export const ENV = {
  config: 'COST_GUARD_CONFIG',
  stateTable: 'COST_GUARD_STATE_TABLE',
  slackSecret: 'COST_GUARD_SLACK_SECRET',
  accountId: 'COST_GUARD_ACCOUNT_ID',
  /** The CloudFormation stack the functions belong to (the storage lifecycle never writes its buckets). */
  stackName: 'COST_GUARD_STACK_NAME',
} as const;

/** The stack's name when COST_GUARD_STACK_NAME is not set (bin/ml-cost-guard.ts creates it under this name). */
export const DEFAULT_STACK_NAME = 'MlCostGuard';

/** The state table's name: fixed, so the CLI finds the deployed table without asking CloudFormation. */
export const STATE_TABLE_NAME = 'ml-cost-guard-state';

/** The CloudWatch namespace of every ml-cost-guard metric (shared by the Lambdas and the dashboard). */
export const METRICS_NAMESPACE = 'MlCostGuard';
