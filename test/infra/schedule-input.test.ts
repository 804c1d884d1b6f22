import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lambda/core/config';
import { scheduledTimeOf } from '../../lambda/core/schedule';
import { BudgetGuard } from '../../lib/constructs/budget-guard';
import { IdleGpuReaper } from '../../lib/constructs/idle-gpu-reaper';
import { SharedResources } from '../../lib/constructs/shared-resources';

describe('Construct: the schedules of acting functions', () => {
  it("send EventBridge Scheduler's scheduled time, which the functions read to count actions per period", () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'ScheduleInputTest', { env: { account: '123456789012', region: 'us-east-1' } });
    const config = parseConfig({ dryRun: false, budgets: { items: [{ name: 'ml-platform', limitUsd: 1000 }] } });
    const shared = new SharedResources(stack, 'Shared', { config });
    new IdleGpuReaper(stack, 'Reaper', { config, shared });
    new BudgetGuard(stack, 'Budgets', { config, shared });
    // Act
    const schedules = Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule'));
    const inputs = schedules.map((r) =>
      JSON.parse((r as { Properties: { Target: { Input: string } } }).Properties.Target.Input),
    );
    // Assess
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input).toEqual({ source: 'ml-cost-guard.schedule', scheduledTime: '<aws.scheduler.scheduled-time>' });
      // Scheduler fills the placeholder with an ISO time, which the functions take as the period's time.
      const filled = { ...input, scheduledTime: '2026-11-15T11:00:00Z' };
      expect(scheduledTimeOf(filled, new Date('2026-11-15T11:01:30Z'))).toEqual(new Date('2026-11-15T11:00:00Z'));
    }
  });
});
