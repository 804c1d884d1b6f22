import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { STOPPED_BY_TAG, STOPPED_TAG_KEYS } from '../../lambda/core/budgets/tags';
import type { CostGuardConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { CostGuardFunction } from './cost-guard-function';
import { reaperActionStatements } from './idle-gpu-reaper';
import type { SharedResources } from './shared-resources';

/** Placeholder the created signing-secret secret starts with: every request is refused until it is replaced. */
export const SLACK_SIGNING_SECRET_PLACEHOLDER = 'REPLACE_WITH_SLACK_SIGNING_SECRET';

export interface SlackInteractivityProps {
  /** The validated config; the function reads `slack`, `tags`, `idleGpu` (and the shared keys). */
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /**
   * Requests handled at once: a throttle on a public endpoint (Slack answers a throttled press with an error; a person
   * presses again). @default 5
   */
  readonly reservedConcurrency?: number;
}

/**
 * The Slack interactivity endpoint (issue 12): a Lambda function URL (auth NONE: Slack signs every request, and the
 * function checks the signature, the timestamp, replays and the workspace before anything else), throttled by
 * reserved concurrency, its URL a stack output. The signing secret lives in Secrets Manager (`slack.signingSecretName`,
 * or a secret created with a placeholder to fill in), read at run time, never in the environment.
 *
 * Its role holds what a press can do and no more:
 * - the state table: keeps, once-only marks, leases and per-period counters (state), the warning it clears after a
 *   stop (warnings), the ledger and stop index (ledgerWrite); no Scan, no table action;
 * - with `dryRun` off: CreateTags only of the keep-until key (the mirror of a keep); the reaper's own stop/terminate
 *   statements and Denies (lambda/constructs/idle-gpu-reaper.ts reaperActionStatements: GPU types, opt-out,
 *   managed instances); StartInstances only on instances carrying the guard's stopped-by tag, and DeleteTags only
 *   of the guard's stopped-* keys (restore); Denies on writing the opt-out and essential tags;
 * - with `dryRun` on: none of the writes above (a keep is still recorded in the table: it only protects);
 * - invoking itself (the hand-over of a verified press), reading its two secrets, Describe calls.
 */
export class SlackInteractivity extends Construct {
  readonly fn: CostGuardFunction;
  readonly url: lambda.FunctionUrl;
  readonly signingSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SlackInteractivityProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    const name = config.slack.signingSecretName;
    if (name) {
      this.signingSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SigningSecret', name);
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????]`,
        reason: 'A secret referenced by name is matched by its name and the six-character suffix Secrets Manager adds.',
      });
    } else {
      const secret = new secretsmanager.Secret(this, 'SigningSecret', {
        description:
          'ml-cost-guard Slack app signing secret (Basic Information > App Credentials). Replace the placeholder after deploying.',
        secretStringValue: SecretValue.unsafePlainText(SLACK_SIGNING_SECRET_PLACEHOLDER),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A Slack signing secret is issued by Slack and cannot be rotated by a Secrets Manager rotation function; ' +
          'regenerate it in the Slack app settings and update the secret.',
      });
      this.signingSecret = secret;
    }

    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'slack',
      handlerFile: 'slack-interactivity.ts',
      config,
      configKeys: ['idleGpu'],
      timeout: Duration.minutes(1),
      memorySize: 512,
      reservedConcurrency: props.reservedConcurrency ?? 5,
      // Each press is marked once in the state table; a failed hand-over is not retried (the person presses again).
      retryAttempts: 0,
      stateTable: props.shared.stateTable,
      stateTableUses: ['ledgerWrite', 'state', 'warnings'],
      slackSecret: props.shared.slackSecret,
      pricesInstances: false,
      environment: { [ENV.slackSigningSecret]: this.signingSecret.secretArn },
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
    });
    this.signingSecret.grantRead(this.fn.function);

    this.url = this.fn.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(stack, 'SlackInteractivityUrl', {
      value: this.url.url,
      description: 'Request URL for the Slack app (Interactivity & Shortcuts); see docs/slack.md',
    });

    const role = this.fn.role;
    const regions = config.regions.length > 0 ? config.regions : [stack.region];
    const instanceArns = regions.map((region) =>
      stack.formatArn({ service: 'ec2', region, resource: 'instance', resourceName: '*' }),
    );
    // Stop / terminate now: exactly the reaper's statements (and its Denies, in every mode).
    for (const statement of reaperActionStatements(config, instanceArns)) role.addToPolicy(statement);
    if (!config.dryRun) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'TagKeepUntilOnly',
          actions: ['ec2:CreateTags'],
          resources: instanceArns,
          conditions: {
            'ForAllValues:StringEquals': { 'aws:TagKeys': [config.tags.keepUntil] },
            Null: { 'aws:TagKeys': 'false' },
          },
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'StartOnlyGuardStopped',
          actions: ['ec2:StartInstances'],
          resources: instanceArns,
          conditions: { Null: { [`aws:ResourceTag/${STOPPED_BY_TAG}`]: 'false' } },
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UntagStoppedOnly',
          actions: ['ec2:DeleteTags'],
          resources: instanceArns,
          conditions: {
            'ForAllValues:StringEquals': { 'aws:TagKeys': [...STOPPED_TAG_KEYS] },
            Null: { 'aws:TagKeys': 'false' },
          },
        }),
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NeverTouchProtectionTags',
        effect: iam.Effect.DENY,
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: instanceArns,
        conditions: {
          'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': [config.tags.optOut, config.tags.essential] },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTerminationProtection',
        actions: ['ec2:DescribeInstanceAttribute'],
        resources: instanceArns,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadInstances',
        actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSpotInstanceRequests'],
        resources: ['*'],
      }),
    );
    // The hand-over to itself: a separate policy, so the function does not depend on a statement naming it.
    new iam.Policy(this, 'InvokeSelf', {
      statements: [
        new iam.PolicyStatement({
          sid: 'HandOverToItself',
          actions: ['lambda:InvokeFunction'],
          resources: [this.fn.function.functionArn],
        }),
      ],
    }).attachToRole(role);

    Validations.of(this.fn.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The runtime is the one every ml-cost-guard function uses (Node.js 24, set in CostGuardFunction).',
    });
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeInstances, DescribeInstanceTypes and DescribeSpotInstanceRequests do not support resource-level permissions; they only read.',
      },
      ...regions.map((region) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${shown(region, 'Region')}:${shown(stack.account, 'AccountId')}:instance/*]`,
        reason:
          'A button may name any instance; what the function may do is limited by conditions: stop/terminate as the ' +
          'reaper (GPU types, not opted out, no Auto Scaling, fleet or Kubernetes tag), start only instances carrying ' +
          'the stopped-by tag, tags only the keep-until key (and the stopped-* keys on restore), and none of it with dryRun on.',
      })),
    );
  }
}
