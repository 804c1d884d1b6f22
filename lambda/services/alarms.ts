/** Posts ml-cost-guard's CloudWatch alarms (delivered by SNS) to the Slack channel. */
import type { SNSEvent } from 'aws-lambda';
import { alarmMessage } from '../core/report/alarm-message';
import type { RunContext, RunSummary } from '../runtime/context';

export async function forwardAlarms(ctx: RunContext, event: SNSEvent): Promise<RunSummary> {
  let posted = 0;
  for (const record of event.Records ?? []) {
    // A Slack failure throws: the asynchronous invocation is retried by Lambda.
    await ctx.notifier.post(alarmMessage(record.Sns.Message));
    posted += 1;
  }
  return {
    capability: 'alarms',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions: [],
    monthlySavingsUsd: 0,
    apiCalls: ctx.clients.counter.byOperation(),
    notes: [`${posted} alarm notification(s) posted`],
  };
}
