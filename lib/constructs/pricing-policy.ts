import * as iam from 'aws-cdk-lib/aws-iam';
import type { CostGuardConfig } from '../../lambda/core/config';
import type { PolicySet } from './policy-set';

/**
 * The Price List reads of a function that prices instances, with `pricing.live` on (undefined otherwise). Given to
 * such a function's role and, in organization mode, to the spoke role: a unit prices with the clients of the account
 * it runs in.
 */
export function pricingPolicySet(config: CostGuardConfig): PolicySet | undefined {
  if (!config.pricing.live) return undefined;
  return {
    statements: [new iam.PolicyStatement({ actions: ['pricing:GetProducts'], resources: ['*'] })],
    acknowledgements: [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The Price List API (pricing:GetProducts) supports no resource-level permissions; it is read-only.',
      },
    ],
  };
}
