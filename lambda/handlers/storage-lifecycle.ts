/** Lambda entry of the storage lifecycle capability (daily). The run lives in services/lifecycle. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { lifecycleCapability } from '../services/lifecycle';

export const handler = lambdaHandler('lifecycle', (ctx, event: unknown) => lifecycleCapability.run(ctx, event));
