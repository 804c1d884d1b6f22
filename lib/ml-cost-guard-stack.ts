import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CostGuardConfig } from '../lambda/core/config';
import { type MonitoredFunction, Monitoring } from './constructs/monitoring';
import { SharedResources } from './constructs/shared-resources';

export interface MlCostGuardStackProps extends StackProps {
  /** The validated `costGuard` config (see lambda/core/config.ts). */
  readonly config: CostGuardConfig;
}

/** The one ml-cost-guard stack: shared resources, one construct per enabled capability, and monitoring. */
export class MlCostGuardStack extends Stack {
  readonly shared: SharedResources;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: MlCostGuardStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.shared = new SharedResources(this, 'Shared', { config });
    const functions: MonitoredFunction[] = [];
    this.monitoring = new Monitoring(this, 'Monitoring', { config, shared: this.shared, functions });
  }
}
