/**
 * The DynamoDB actions a function may call on the state table, by what it does there. The commands behind each use
 * live in lambda/adapters (ledger.ts, stop-index.ts, state-table.ts, state-store.ts, warning-store.ts);
 * test/infra/state-table-access.test.ts fails when an adapter sends a command its use does not grant. No function
 * gets Scan, PartiQL or table-level actions, and only the reaper and the SageMaker guard DeleteItem (their warnings):
 * nothing else sends them.
 */
export const STATE_TABLE_ACCESS = {
  /**
   * The savings ledger and the stop index: after a run the Lambda runtime writes its effective actions
   * (ledger.ts recordActions) and stops (stop-index.ts recordStops), both through state-table.ts.
   */
  ledgerWrite: ['dynamodb:BatchWriteItem'],
  /** Reading a month of the ledger (ledger.ts readMonth). */
  ledgerRead: ['dynamodb:Query'],
  /**
   * State records (state-store.ts): alert de-duplication, warning state, per-period action counters and leases,
   * written with conditional PutItem / UpdateItem, read with GetItem and Query; and the SageMaker guard's endpoint
   * index (endpoint-index.ts), written before and after each DeleteEndpoint.
   */
  state: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  /**
   * The reaper's warnings (warning-store.ts) and the SageMaker guard's (sagemaker-warnings.ts): read with Query,
   * written pending then delivered, deleted when the resource is busy again, protected, acted on or gone.
   */
  warnings: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
} as const satisfies Record<string, readonly `dynamodb:${string}`[]>;

export type StateTableUse = keyof typeof STATE_TABLE_ACCESS;
