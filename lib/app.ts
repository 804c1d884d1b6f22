/**
 * The CDK app that `cdk synth` builds (bin/ml-cost-guard.ts is `defineApp(new App(), process)`): load and validate
 * the `costGuard` config from context, create the MlCostGuard stack (and, with accounts.mode organization, the
 * MlCostGuardSpoke stack), and run the cdk-nag AwsSolutions and Serverless checks on every synth (a finding fails
 * synth).
 *
 * A config problem (ConfigError and its subclasses, e.g. a config too large for a Lambda environment) or a CDK
 * validation error is written as its message, without a stack trace, and the answer is exit code 1. Anything else is
 * a bug and is thrown with its trace. A function rather than a script, so tests can run the app in-process.
 */
import { type App, Errors, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, configWarnings } from '../lambda/core/config';
import { isOrganizationMode } from '../lambda/core/organization/fan-out';
import { configFromContext } from './config';
import { MlCostGuardStack } from './ml-cost-guard-stack';
import { MlCostGuardSpokeStack } from './spoke-stack';

export interface AppIo {
  /** The process environment: CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, as the CDK CLI sets them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where warnings and config problems go (the process's stderr). */
  readonly stderr: (text: string) => void;
}

/** Defines the stacks on `app`: 0 when they are defined, 1 after writing a config problem to `io.stderr`. */
export function defineApp(app: App, io: AppIo): 0 | 1 {
  try {
    const config = configFromContext(app.node);
    for (const warning of configWarnings(config)) io.stderr(`warning: ${warning}\n`);
    const env = { account: io.env.CDK_DEFAULT_ACCOUNT, region: io.env.CDK_DEFAULT_REGION };
    const hub = new MlCostGuardStack(app, 'MlCostGuard', {
      config,
      env,
      description: 'ml-cost-guard: idle GPU reaper, S3 lifecycle tiering and budget guard for ML platforms',
    });
    // Organization mode only (single-account mode keeps its one stack): the spoke role for an account outside the
    // StackSet's OUs, deployed with that account's credentials (`cdk deploy MlCostGuardSpoke`). Environment-agnostic,
    // like the StackSet's copy: the template is the same one the StackSet deploys everywhere else.
    if (isOrganizationMode(config.accounts)) {
      new MlCostGuardSpokeStack(app, 'MlCostGuardSpoke', { config, hubStackName: hub.stackName });
    }
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || Errors.isValidationError(error)) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
