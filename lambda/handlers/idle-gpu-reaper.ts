/** Lambda entry of the idle GPU reaper (EventBridge Scheduler, hourly). The run lives in services/reaper. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { reaperCapability } from '../services/reaper';

export const handler = lambdaHandler('reaper', (ctx, event: unknown) => reaperCapability.run(ctx, event));
