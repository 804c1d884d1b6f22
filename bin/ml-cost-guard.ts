#!/usr/bin/env node
/**
 * CDK app entry: load and validate the `costGuard` config from context, create the MlCostGuard stack (and, with
 * accounts.mode organization, the MlCostGuardSpoke stack), and run the cdk-nag AwsSolutions and Serverless checks on
 * every synth (a finding fails synth).
 *
 * A config problem (ConfigError and its subclasses, e.g. a config too large for a Lambda environment) or a CDK
 * validation error prints its message, without a stack trace, and exits 1. Anything else is a bug and keeps its trace.
 */
import { App, Errors, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, configWarnings } from '../lambda/core/config';
import { isOrganizationMode } from '../lambda/core/organization/fan-out';
import { configFromContext } from '../lib/config';
import { MlCostGuardStack } from '../lib/ml-cost-guard-stack';
import { MlCostGuardSpokeStack } from '../lib/spoke-stack';

const app = new App();
try {
  const config = configFromContext(app.node);
  for (const warning of configWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
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
} catch (error) {
  if (error instanceof ConfigError || Errors.isValidationError(error)) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
