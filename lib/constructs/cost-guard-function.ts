import * as path from 'node:path';
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError, type CostGuardConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { isFanOutCapability, isOrganizationMode } from '../../lambda/core/organization/fan-out';
import { SCHEDULED_TIME_FIELD } from '../../lambda/core/schedule';
import { configSlice } from '../config';
import { OrganizationFanOut } from './organization-fan-out';
import { hubRoleName, hubRolePolicySet, reachesIntoSpokes } from './organization-roles';
import { grantPolicySet } from './policy-set';
import { pricingPolicySet } from './pricing-policy';
import { STATE_TABLE_ACCESS, type StateTableUse } from './state-table-access';

/** Lambda caps the size of a function's environment at 4 KB. */
const MAX_ENVIRONMENT_BYTES = 4096;
/** Room kept under the 4 KB for what the stack or Lambda adds later. */
const ENVIRONMENT_HEADROOM_BYTES = 512;

/**
 * The configuration does not fit in a Lambda environment (4 KB). A config problem: `cdk synth` prints the message
 * without a stack trace and exits 1.
 */
export class LambdaEnvironmentTooLargeError extends ConfigError {
  constructor(
    readonly capability: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `ml-cost-guard: the ${capability} function's configuration is ${bytes} bytes; Lambda allows 4 KB of ` +
        `environment (${limitBytes} bytes left for the config). Shorten costGuard.storage.rules or costGuard.budgets.items (in organization mode, also the costGuard.accounts lists).`,
      [`${capability}: Lambda environment of ${bytes} bytes (limit ${limitBytes})`],
    );
    this.name = 'LambdaEnvironmentTooLargeError';
  }
}

export interface CostGuardFunctionProps {
  /** Short name of the capability (reaper, lifecycle, budgets…); names the function's metrics and logs. */
  readonly capability: string;
  /** Handler file, relative to lambda/handlers (e.g. `idle-gpu-reaper.ts`), or an absolute path. */
  readonly handlerFile: string;
  /** The validated config; the function receives the shared keys plus `configKeys`. */
  readonly config: CostGuardConfig;
  /** Config sections this capability reads besides the shared ones. */
  readonly configKeys: readonly (keyof CostGuardConfig)[];
  /** State table: the function gets its name in the environment and the actions of `stateTableUses`. @default - none */
  readonly stateTable?: dynamodb.ITable;
  /**
   * What the function does with the state table; it is granted only those DynamoDB actions (see STATE_TABLE_ACCESS).
   * @default ['ledgerWrite'] (the Lambda runtime records each run's actions in the savings ledger)
   */
  readonly stateTableUses?: readonly StateTableUse[];
  /** Secret holding the Slack bot token. @default - messages go to the log */
  readonly slackSecret?: secretsmanager.ISecret;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** One run at a time keeps two runs from acting on the same target. @default 1 */
  readonly reservedConcurrency?: number;
  /** EventBridge Scheduler expression; @default - not scheduled */
  readonly schedule?: string;
  /** Extra environment variables. @default - none */
  readonly environment?: Record<string, string>;
  /** Log retention in days. @default config.observability.logRetentionDays (30) */
  readonly logRetentionDays?: number;
  /** X-Ray tracing. @default config.observability.tracing (false) */
  readonly tracing?: boolean;
  /** The function prices instances and may read the Price List API when `pricing.live` is on. @default true */
  readonly pricesInstances?: boolean;
  /**
   * Automatic re-tries (0-2) of an asynchronous invocation that failed (schedule, SNS). A function that acts (stops,
   * terminates, writes lifecycle rules) must keep 0: a retried run would act again within the same period, past
   * its per-period action limit; the next scheduled run is its retry. Only functions that never act (alarm
   * forwarding, monthly summary) may set more.
   * @default 0
   */
  readonly retryAttempts?: number;
}

/**
 * The shared Lambda of every capability: Node.js 24 on arm64, bundled by the local esbuild (no Docker), JSON logs to
 * an explicit log group with retention, X-Ray off by default, reserved concurrency, a role that may write only its
 * own log group, an errors alarm, and an optional EventBridge Scheduler schedule.
 */
export class CostGuardFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly errorsAlarm: cloudwatch.Alarm;
  /** Failed asynchronous invocations (after Lambda's retries) land here with their payload and error. */
  readonly failureQueue: sqs.Queue;
  /** Alarms when a failed invocation is waiting in the failure queue. */
  readonly failureQueueAlarm: cloudwatch.Alarm;
  readonly schedule?: scheduler.Schedule;
  /**
   * Organization mode (accounts.mode: organization), fan-out capabilities: the state machine the schedule starts
   * instead of invoking the function (lib/constructs/organization-fan-out.ts).
   */
  readonly fanOut?: OrganizationFanOut;

  constructor(scope: Construct, id: string, props: CostGuardFunctionProps) {
    super(scope, id);
    const config = JSON.stringify(configSlice(props.config, props.configKeys));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: (props.logRetentionDays ?? props.config.observability.logRetentionDays) as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Organization mode: a function that reaches into member accounts has a fixed role name, which the spoke role
    // trusts by ARN (lib/constructs/organization-roles.ts). Single-account mode: a generated name, as before.
    const reachesOut = reachesIntoSpokes(props.config, props.capability);
    const fansOut = isOrganizationMode(props.config.accounts) && isFanOutCapability(props.capability);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `ml-cost-guard ${props.capability} function`,
      ...(reachesOut ? { roleName: hubRoleName(Stack.of(this).stackName, props.capability) } : {}),
    });
    // Only its own log group: no AWSLambdaBasicExecutionRole (which allows every log group).
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    );

    const environment: Record<string, string> = {
      [ENV.config]: config,
      [ENV.accountId]: Stack.of(this).account,
      [ENV.stackName]: Stack.of(this).stackName,
      POWERTOOLS_SERVICE_NAME: 'ml-cost-guard',
      POWERTOOLS_METRICS_NAMESPACE: 'MlCostGuard',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(props.stateTable ? { [ENV.stateTable]: props.stateTable.tableName } : {}),
      ...(props.slackSecret ? { [ENV.slackSecret]: props.slackSecret.secretArn } : {}),
      ...props.environment,
    };
    const size = Object.entries(environment).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > MAX_ENVIRONMENT_BYTES - ENVIRONMENT_HEADROOM_BYTES) {
      throw new LambdaEnvironmentTooLargeError(
        props.capability,
        size,
        MAX_ENVIRONMENT_BYTES - ENVIRONMENT_HEADROOM_BYTES,
      );
    }

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the failure destination of the function (a dead-letter queue); it needs no DLQ itself.',
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the dead-letter destination; messages wait here (14 days) for a person, with an alarm.',
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.isAbsolute(props.handlerFile)
        ? props.handlerFile
        : path.join(__dirname, '..', '..', 'lambda', 'handlers', props.handlerFile),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(5),
      // A fan-out runs up to accounts.concurrency units at once (each on its own account and region), plus one step of
      // an overlapping run; one at a time would throttle the Map.
      reservedConcurrentExecutions: fansOut ? props.config.accounts.concurrency + 1 : (props.reservedConcurrency ?? 1),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: (props.tracing ?? props.config.observability.tracing) ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      retryAttempts: props.retryAttempts ?? 0,
      onFailure: new lambdaDestinations.SqsDestination(this.failureQueue),
      environment,
      bundling: {
        minify: true,
        sourceMap: false,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        // The Node.js runtime ships AWS SDK v3; bundling it would triple the package for no gain.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
      },
      description: `ml-cost-guard: ${props.capability}`,
    });
    const pricing = (props.pricesInstances ?? true) ? pricingPolicySet(props.config) : undefined;
    if (pricing) grantPolicySet(this.role, pricing);
    props.slackSecret?.grantRead(this.function);
    if (props.stateTable) {
      const uses = new Set<StateTableUse>(props.stateTableUses ?? ['ledgerWrite']);
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'StateTable',
          actions: [...new Set([...uses].flatMap((use) => STATE_TABLE_ACCESS[use]))].sort(),
          resources: [props.stateTable.tableArn],
        }),
      );
    }

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `ml-cost-guard ${props.capability}: a run failed`,
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.failureQueueAlarm = new cloudwatch.Alarm(this, 'FailureQueueAlarm', {
      alarmDescription: `ml-cost-guard ${props.capability}: a failed run is waiting in the failure queue`,
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const stack = Stack.of(this);
    const logicalId = (c: Construct) => stack.resolve(stack.getLogicalId(c.node.defaultChild as CfnElement)) as string;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(this.logGroup)}.Arn>:log-stream:*]`,
      reason:
        "Lambda names its log streams at run time; the grant is limited to streams of this function's own log group.",
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to an on-failure destination queue (with request, error and payload), ' +
        'which replaces the older dead-letter queue setting.',
    });
    if (props.tracing ?? props.config.observability.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource "*").',
      });
    } else {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason: 'X-Ray is off by default to keep a cost guard cheap; costGuard.observability.tracing turns it on.',
      });
    }

    if (reachesOut) {
      grantPolicySet(this.role, hubRolePolicySet(stack, props.config, props.capability));
    }

    if (props.schedule && fansOut && isFanOutCapability(props.capability)) {
      this.fanOut = new OrganizationFanOut(this, 'FanOut', {
        capability: props.capability,
        fn: this.function,
        functionTimeout: props.timeout ?? Duration.minutes(5),
        config: props.config,
        schedule: props.schedule,
      });
    } else if (props.schedule) {
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        description: `ml-cost-guard ${props.capability} run`,
        schedule: scheduler.ScheduleExpression.expression(props.schedule),
        target: new targets.LambdaInvoke(this.function, {
          // The scheduled time rides in the event, so every delivery of one event counts in one action period.
          input: scheduler.ScheduleTargetInput.fromObject({
            source: 'ml-cost-guard.schedule',
            [SCHEDULED_TIME_FIELD]: scheduler.ContextAttribute.scheduledTime,
          }),
          retryAttempts: 0,
        }),
      });
      // The scheduler's role is one per stack and target kind; acknowledge exactly this function's grant there.
      Validations.of(stack).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(this.function)}.Arn>:*]`,
        reason: 'EventBridge Scheduler may invoke this one function and its versions; nothing else.',
      });
    }
  }
}
