import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CostGuardConfig } from '../lambda/core/config';
import { SharedResources } from './constructs/shared-resources';

export interface MlCostGuardStackProps extends StackProps {
  /** The validated `costGuard` config (see lambda/core/config.ts). */
  readonly config: CostGuardConfig;
}

/** The one ml-cost-guard stack: shared resources plus one construct per enabled capability. */
export class MlCostGuardStack extends Stack {
  readonly shared: SharedResources;

  constructor(scope: Construct, id: string, props: MlCostGuardStackProps) {
    super(scope, id, props);
    this.shared = new SharedResources(this, 'Shared', { config: props.config });
  }
}
