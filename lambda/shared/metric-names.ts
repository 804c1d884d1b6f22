/** The CloudWatch namespace of every ml-cost-guard metric (shared by the Lambdas and the dashboard). */
export const METRICS_NAMESPACE = 'MlCostGuard';
