/** Lambda entry of the GPU right-sizing advice (EventBridge Scheduler, weekly). The run lives in services/rightsizing. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { rightsizingCapability } from '../services/rightsizing';

export const handler = lambdaHandler('rightsizing', (ctx) => rightsizingCapability.run(ctx));
