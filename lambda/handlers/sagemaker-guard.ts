/** Lambda entry of the SageMaker guard (EventBridge Scheduler, hourly). The run lives in services/sagemaker. */
import { lambdaHandler } from '../runtime/lambda-runtime';
import { sageMakerCapability } from '../services/sagemaker';

export const handler = lambdaHandler('sagemaker', (ctx, event: unknown) => sageMakerCapability.run(ctx, event));
