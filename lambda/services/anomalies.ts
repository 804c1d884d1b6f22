/**
 * Posts AWS Cost Anomaly Detection notifications (an IMMEDIATE subscription's SNS messages) to the Slack channel,
 * one message per anomaly. Reads nothing and acts on nothing: the message is built from the SNS text alone
 * (lambda/core/anomalies/message.ts), and a message that is not an anomaly is still posted, as escaped text.
 */
import type { SNSEvent } from 'aws-lambda';
import { anomalyNotificationMessage, parseAnomaly } from '../core/anomalies/message';
import type { RunContext, RunSummary } from '../runtime/context';

export interface AnomaliesSummary extends RunSummary {
  readonly capability: 'anomalies';
  /** Messages posted (one per SNS record). */
  readonly posted: number;
  /** Records that were not anomaly notifications (posted as text). */
  readonly unrecognized: number;
}

export async function forwardAnomalies(ctx: RunContext, event: SNSEvent): Promise<AnomaliesSummary> {
  let posted = 0;
  let unrecognized = 0;
  const notes: string[] = [];
  for (const record of event?.Records ?? []) {
    const raw = typeof record?.Sns?.Message === 'string' ? record.Sns.Message : '';
    const anomaly = parseAnomaly(raw);
    if (!anomaly) {
      unrecognized += 1;
      ctx.log.warn('SNS message on the anomaly topic is not an anomaly notification; posted as text', {
        messageId: record?.Sns?.MessageId,
      });
    }
    // A Slack failure throws: the asynchronous invocation is retried by Lambda (nothing was acted on).
    await ctx.notifier.post(anomalyNotificationMessage(raw));
    posted += 1;
    if (anomaly) {
      ctx.log.info('anomaly posted', {
        anomalyId: anomaly.anomalyId,
        totalImpactUsd: anomaly.totalImpactUsd,
        rootCauses: anomaly.rootCauses.length,
      });
    }
  }
  notes.push(`${posted} anomaly notification(s) posted${unrecognized > 0 ? `, ${unrecognized} not recognized` : ''}`);
  return {
    capability: 'anomalies',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions: [],
    monthlySavingsUsd: 0,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    posted,
    unrecognized,
  };
}
