import { Stack, type StackProps } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import type { CostGuardConfig } from '../lambda/core/config';
import { isOrganizationMode } from '../lambda/core/organization/fan-out';
import { BudgetGuard } from './constructs/budget-guard';
import { IdleGpuReaper } from './constructs/idle-gpu-reaper';
import { type MonitoredFunction, Monitoring } from './constructs/monitoring';
import { OrganizationHub } from './constructs/organization-hub';
import { RightsizingAdvice } from './constructs/rightsizing';
import { SageMakerGuard } from './constructs/sagemaker-guard';
import { SharedResources } from './constructs/shared-resources';
import { SlackInteractivity } from './constructs/slack-interactivity';
import { SpendAnomalies } from './constructs/spend-anomalies';
import { StorageLifecycle } from './constructs/storage-lifecycle';

export interface MlCostGuardStackProps extends StackProps {
  /** The validated `costGuard` config (see lambda/core/config.ts). */
  readonly config: CostGuardConfig;
}

/** The one ml-cost-guard stack: shared resources, one construct per enabled capability, and monitoring. */
export class MlCostGuardStack extends Stack {
  readonly shared: SharedResources;
  readonly monitoring: Monitoring;
  /** Organization mode (accounts.mode: organization): the StackSet of the spoke role. */
  readonly organization?: OrganizationHub;

  constructor(scope: Construct, id: string, props: MlCostGuardStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.shared = new SharedResources(this, 'Shared', { config });
    const functions: MonitoredFunction[] = [];
    if (config.idleGpu.enabled) {
      const reaper = new IdleGpuReaper(this, 'IdleGpuReaper', { config, shared: this.shared });
      functions.push({
        capability: 'reaper',
        title: 'Idle GPU reaper',
        fn: reaper.fn,
        schedule: config.idleGpu.schedule,
      });
    }
    if (config.storage.enabled) {
      const lifecycle = new StorageLifecycle(this, 'StorageLifecycle', { config, shared: this.shared });
      functions.push({
        capability: 'lifecycle',
        title: 'Storage lifecycle',
        fn: lifecycle.fn,
        schedule: config.storage.schedule,
      });
    }
    if (config.budgets.enabled) {
      const guard = new BudgetGuard(this, 'BudgetGuard', { config, shared: this.shared });
      functions.push({ capability: 'budgets', title: 'Budget guard', fn: guard.fn, schedule: config.budgets.schedule });
    }
    if (config.sagemaker.enabled) {
      const sagemaker = new SageMakerGuard(this, 'SageMakerGuard', { config, shared: this.shared });
      functions.push({
        capability: 'sagemaker',
        title: 'SageMaker guard',
        fn: sagemaker.fn,
        schedule: config.sagemaker.schedule,
      });
    }
    if (config.anomalies.enabled) {
      const anomalies = new SpendAnomalies(this, 'SpendAnomalies', { config, shared: this.shared });
      // Runs when Cost Anomaly Detection publishes, not on a schedule: no missed-run alarm.
      functions.push({ capability: 'anomalies', title: 'Spend anomalies', fn: anomalies.fn });
    }
    if (config.rightsizing.enabled) {
      const advice = new RightsizingAdvice(this, 'RightsizingAdvice', { config, shared: this.shared });
      functions.push({
        capability: 'rightsizing',
        title: 'Right-sizing advice',
        fn: advice.fn,
        // No missed-run alarm: its period is at most a day, and a weekly schedule would breach it six days a week.
      });
    }
    if (config.slack.interactivity) {
      const slack = new SlackInteractivity(this, 'SlackInteractivity', { config, shared: this.shared });
      // Runs when someone presses a button, not on a schedule: no missed-run alarm.
      functions.push({ capability: 'slack', title: 'Slack buttons', fn: slack.fn });
    }
    this.monitoring = new Monitoring(this, 'Monitoring', { config, shared: this.shared, functions });
    if (isOrganizationMode(config.accounts)) {
      this.organization = new OrganizationHub(this, 'Organization', { config });
      // The fan-out state machines' failures go where the functions' alarms go.
      const toAlarmTopic = new cwActions.SnsAction(this.monitoring.alarmTopic);
      for (const f of functions) for (const alarm of f.fn.fanOut?.alarms ?? []) alarm.addAlarmAction(toAlarmTopic);
    }
  }
}
