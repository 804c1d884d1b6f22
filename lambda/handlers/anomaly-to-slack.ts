/** Lambda entry that posts AWS Cost Anomaly Detection notifications (SNS) to Slack. The run lives in services/anomalies. */
import type { SNSEvent } from 'aws-lambda';
import { lambdaHandler } from '../runtime/lambda-runtime';
import { type AnomaliesSummary, forwardAnomalies } from '../services/anomalies';

export const handler = lambdaHandler<SNSEvent, AnomaliesSummary>('anomalies', forwardAnomalies, {
  pricesInstances: false,
});
