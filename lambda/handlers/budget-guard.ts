/** Lambda entry of the budget guard (schedule and AWS Budgets notifications on SNS). The run lives in services/budgets. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { budgetsCapability } from '../services/budgets';

export const handler = lambdaHandler('budgets', (ctx, event: unknown) => budgetsCapability.run(ctx, event));
