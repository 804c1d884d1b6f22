/** Lambda entry that forwards CloudWatch alarms (SNS) to Slack. The run lives in services/alarms. */
import type { SNSEvent } from 'aws-lambda';
import type { RunSummary } from '../runtime/context';
import { lambdaHandler } from '../runtime/lambda-runtime';
import { forwardAlarms } from '../services/alarms';

export const handler = lambdaHandler<SNSEvent, RunSummary>('alarms', forwardAlarms, { pricesInstances: false });
