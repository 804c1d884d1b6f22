/**
 * The FinOps section of the monthly summary: this month's and last month's sums read back from the guard's own
 * CloudWatch metrics, each metric beside its target with the trend, per team; a failed read leaves it out.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { monthBefore, monthStart } from '../../../lambda/adapters/finops-metrics';
import type { Notifier } from '../../../lambda/adapters/slack';
import { messageToText, type SlackMessage } from '../../../lambda/core/slack-blocks';
import { runMonthlySummary } from '../../../lambda/services/monthly-summary';
import { testContext } from '../../helpers/context';

const ddb = mockClient(DynamoDBClient);
const cw = mockClient(CloudWatchClient);

class Collecting implements Notifier {
  readonly kind = 'slack' as const;
  readonly messages: SlackMessage[] = [];
  async post(m: SlackMessage) {
    this.messages.push(m);
    return { channel: 'C1', ts: '1' };
  }
}

/**
 * Daily values per month (October: 2 days, November... the summary on 1 December reports November):
 * November fleet: busy 30+30, measured 40+40 -> 75%; spot 50+50 of 100+100 -> 50%; bytes 60+60 of 100+100 -> 60%.
 * October fleet: busy 20 of 40 -> 50%; spot 30 of 100 -> 30%; no storage data.
 * Team ml, November: busy 5 of 10 -> 50%; spot 8 of 10 -> 80%.
 */
const DAILY: Record<string, Record<string, Record<string, number[]>>> = {
  '2026-11': {
    fleet: {
      GpuBusyHours: [30, 30],
      GpuMeasuredHours: [40, 40],
      SpotGpuHours: [50, 50],
      GpuHours: [100, 100],
      StorageInfrequentBytes: [60, 60],
      StorageTotalBytes: [100, 100],
    },
    ml: { GpuBusyHours: [5], GpuMeasuredHours: [10], SpotGpuHours: [8], GpuHours: [10] },
  },
  '2026-10': {
    fleet: { GpuBusyHours: [20], GpuMeasuredHours: [40], SpotGpuHours: [30], GpuHours: [100] },
  },
};

beforeEach(() => {
  ddb.reset();
  cw.reset();
  ddb.on(QueryCommand).resolves({ Items: [] });
  cw.on(ListMetricsCommand).resolves({
    Metrics: [{ Namespace: 'MlCostGuard', MetricName: 'GpuHours', Dimensions: [{ Name: 'Team', Value: 'ml' }] }],
  });
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    const month = input.StartTime!.toISOString().slice(0, 7);
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const m = q.MetricStat!.Metric!;
        const team = m.Dimensions!.find((d) => d.Name === 'Team')?.Value ?? 'fleet';
        return { Id: q.Id, Values: DAILY[month]?.[team]?.[m.MetricName!] ?? [] };
      }),
    };
  });
});

describe('Function: runMonthlySummary (FinOps)', () => {
  it('shows each metric against its target with the change from last month, for the fleet and each team', async () => {
    // Prepare
    const notifier = new Collecting();
    const ctx = testContext({ now: new Date('2026-12-01T09:00:00Z'), notifier, stateTableName: 'state' });
    // Act
    const result = await runMonthlySummary(ctx);
    // Assess
    expect(result.month).toBe('2026-11');
    expect(result.finops?.current.fleet.gpu).toEqual({
      busyGpuHours: 60,
      measuredGpuHours: 80,
      spotGpuHours: 100,
      gpuHours: 200,
    });
    const text = notifier.messages.map(messageToText).join('\n');
    expect(text).toContain('*GPU utilization*: 75.0% (target >70%, met) · +25.0 pts vs 2026-10');
    expect(text).toContain('*Spot coverage*: 50.0% (target >60%, below) · +20.0 pts vs 2026-10');
    expect(text).toContain('*Storage efficiency*: 60.0% (target >50%, met) · no figure for 2026-10');
    expect(text).toContain('Team ml');
    expect(text).toContain('Spot coverage: 80.0% (target >60%, met)');
    // One call a month, each query a daily sum (or maximum for bytes) over that month
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.StartTime, c.EndTime])).toEqual([
      [new Date('2026-11-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z')],
      [new Date('2026-10-01T00:00:00Z'), new Date('2026-11-01T00:00:00Z')],
    ]);
    expect(calls[0]!.MetricDataQueries).toHaveLength(12);
  });

  it('posts the savings summary without the FinOps section when CloudWatch cannot be read', async () => {
    cw.on(ListMetricsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const notifier = new Collecting();
    const ctx = testContext({ now: new Date('2026-12-01T09:00:00Z'), notifier, stateTableName: 'state' });
    const result = await runMonthlySummary(ctx);
    expect(result.finops).toBeUndefined();
    expect(result.notes.some((n) => n.includes('FinOps metrics could not be read') && n.includes('AccessDenied'))).toBe(
      true,
    );
    expect(notifier.messages).toHaveLength(1);
    expect(messageToText(notifier.messages[0]!)).not.toContain('FinOps');
  });
});

describe('Function: monthStart / monthBefore', () => {
  it('handles the turn of the year', () => {
    expect(monthBefore('2026-01')).toBe('2025-12');
    expect(monthStart('2026-03')).toEqual(new Date('2026-03-01T00:00:00Z'));
  });
});
