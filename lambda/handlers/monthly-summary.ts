/** Lambda entry of the monthly savings summary. The run lives in services/monthly-summary. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { runMonthlySummary } from '../services/monthly-summary';

export const handler = lambdaHandler('summary', (ctx) => runMonthlySummary(ctx), { pricesInstances: false });
