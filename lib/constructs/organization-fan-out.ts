import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { FAN_OUT_KEY, type FanOutCapability } from '../../lambda/core/organization/fan-out';
import { maxRunGapMinutes, SCHEDULED_TIME_FIELD } from '../../lambda/core/schedule';

/**
 * The Lambda errors a fan-out step retries: the invocation did not reach the function (service fault, throttling,
 * client-side failure), so a retry cannot act twice. An error the function raised is never retried.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.TooManyRequestsException',
  'Lambda.SdkClientException',
] as const;

/** The Distributed Map's label: names its map runs. */
const MAP_LABEL = 'units';

/** The longest a fan-out execution may run, whatever its schedule. */
const MAX_EXECUTION_TIME = Duration.hours(24);

/**
 * How long an execution may run: twice the schedule's longest gap between runs (the window the missed-run alarm
 * uses, so a slow run may overlap the next one but never runs on unnoticed), at least three function timeouts (the
 * targets step, one wave of units and the digest), and at most 24 hours (also for schedules without a known gap).
 */
export function fanOutTimeout(schedule: string, functionTimeout: Duration): Duration {
  const gap = maxRunGapMinutes(schedule);
  const max = MAX_EXECUTION_TIME.toMinutes();
  const minutes = Math.min(max, Math.max(gap === undefined ? max : 2 * gap, 3 * functionTimeout.toMinutes()));
  return Duration.minutes(minutes);
}

export interface OrganizationFanOutProps {
  /** The fan-out capability (reaper, sagemaker, rightsizing, lifecycle). */
  readonly capability: FanOutCapability;
  /** The capability's function: it runs the targets step, every unit and the digest. */
  readonly fn: lambda.IFunction;
  /** The function's timeout, which bounds each step. */
  readonly functionTimeout: Duration;
  /** The validated config: accounts.concurrency, observability (log retention, tracing). */
  readonly config: CostGuardConfig;
  /** EventBridge Scheduler expression of the capability's run. */
  readonly schedule: string;
}

/**
 * A capability's scheduled run in organization mode (accounts.mode: organization), on Step Functions. The contract
 * with the function is lambda/core/organization/fan-out.ts:
 *
 * 1. `Targets`: the function gets `{costGuardFanOut: 'targets', runId, scheduledTime}` and answers
 *    `{runId, units: [{accountId, accountName, region}], skippedAccounts}`;
 * 2. `Units`, a Distributed Map over `$.units` (each unit a child execution, so a large organization never hits the
 *    25,000-event history limit), at most `accounts.concurrency` at a time: the same function gets
 *    `{costGuardFanOut: 'unit', runId, scheduledTime, accountId, accountName, region}` and answers a small status;
 *    only Lambda service errors are retried, any other failure is caught so one account never stops the others
 *    (the digest finds no report for it and counts it missing). The Map's results are discarded: the reports are in
 *    the state table and the state keeps only the targets;
 * 3. `Digest`: `{costGuardFanOut: 'digest', runId, scheduledTime, units, skippedAccounts}` → `{units, failedUnits,
 *    missingUnits}`; the organization digest goes to Slack;
 * 4. the execution fails when a unit failed or left no report, so the failed-executions alarm fires.
 *
 * `scheduledTime` is the execution's start time: every unit of a run counts its actions in the same scheduled
 * period. Logs (ALL, with execution data) go to a log group with the configured retention; X-Ray follows
 * observability.tracing. Alarms: executions failed, executions timed out (the stack sends them to its alarm topic).
 */
export class OrganizationFanOut extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly schedule: scheduler.Schedule;
  readonly failedAlarm: cloudwatch.Alarm;
  readonly timedOutAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OrganizationFanOutProps) {
    super(scope, id);
    const { capability, config, fn } = props;
    const startTime = sfn.JsonPath.stringAt('$$.Execution.StartTime');
    const invoke = (stepId: string, payload?: sfn.TaskInput) => {
      const task = new tasks.LambdaInvoke(this, stepId, {
        lambdaFunction: fn,
        ...(payload ? { payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
      });
      task.addRetry({
        errors: [...LAMBDA_SERVICE_ERRORS],
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    const targets = invoke(
      'Targets',
      sfn.TaskInput.fromObject({
        [FAN_OUT_KEY]: 'targets',
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        [SCHEDULED_TIME_FIELD]: startTime,
      }),
    );

    // No payload: the function gets the Map item as the ItemSelector builds it (the unit event).
    const unit = invoke('Unit');
    unit.addCatch(
      new sfn.Pass(this, 'UnitFailed', {
        comment: 'The unit left no report; the digest counts it missing and the execution fails after the others ran.',
      }),
      { errors: [sfn.Errors.ALL], resultPath: '$.error' },
    );

    const units = new sfn.DistributedMap(this, 'Units', {
      itemsPath: sfn.JsonPath.stringAt('$.units'),
      itemSelector: {
        [FAN_OUT_KEY]: 'unit',
        runId: sfn.JsonPath.stringAt('$.runId'),
        [SCHEDULED_TIME_FIELD]: startTime,
        accountId: sfn.JsonPath.stringAt('$$.Map.Item.Value.accountId'),
        accountName: sfn.JsonPath.stringAt('$$.Map.Item.Value.accountName'),
        region: sfn.JsonPath.stringAt('$$.Map.Item.Value.region'),
      },
      maxConcurrency: config.accounts.concurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: sfn.JsonPath.DISCARD,
      label: MAP_LABEL,
    });
    units.itemProcessor(unit);

    const digest = invoke(
      'Digest',
      sfn.TaskInput.fromObject({
        [FAN_OUT_KEY]: 'digest',
        runId: sfn.JsonPath.stringAt('$.runId'),
        [SCHEDULED_TIME_FIELD]: startTime,
        units: sfn.JsonPath.listAt('$.units'),
        skippedAccounts: sfn.JsonPath.listAt('$.skippedAccounts'),
      }),
    );

    const failed = new sfn.Fail(this, 'UnitsFailed', {
      error: 'UnitsFailed',
      causePath: sfn.JsonPath.format(
        'Of {} units, {} failed and {} left no report (see the organization digest in Slack).',
        sfn.JsonPath.stringAt('$.units'),
        sfn.JsonPath.stringAt('$.failedUnits'),
        sfn.JsonPath.stringAt('$.missingUnits'),
      ),
    });
    const outcome = new sfn.Choice(this, 'AnyUnitFailed')
      .when(
        sfn.Condition.or(
          sfn.Condition.numberGreaterThan('$.failedUnits', 0),
          sfn.Condition.numberGreaterThan('$.missingUnits', 0),
        ),
        failed,
      )
      .otherwise(new sfn.Succeed(this, 'AllUnitsReported'));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: config.observability.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `ml-cost-guard ${capability}: one run over the organization's accounts and regions`,
      definitionBody: sfn.DefinitionBody.fromChainable(targets.next(units).next(digest).next(outcome)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: fanOutTimeout(props.schedule, props.functionTimeout),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: config.observability.tracing,
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `ml-cost-guard ${capability} run (organization fan-out)`,
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'ml-cost-guard.schedule',
          [SCHEDULED_TIME_FIELD]: scheduler.ContextAttribute.scheduledTime,
        }),
        // A second execution would be a second run of the period; the next scheduled run is the retry.
        retryAttempts: 0,
      }),
    });

    const alarm = (alarmId: string, metric: cloudwatch.Metric, what: string) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `ml-cost-guard ${capability}: an organization run ${what}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const period = { period: Duration.minutes(5), statistic: 'Sum' };
    this.failedAlarm = alarm(
      'ExecutionsFailedAlarm',
      this.stateMachine.metricFailed(period),
      'failed (a unit failed or left no report, or a step failed): see the organization digest and the execution',
    );
    this.timedOutAlarm = alarm(
      'ExecutionsTimedOutAlarm',
      this.stateMachine.metricTimedOut(period),
      'timed out before every unit ran: raise accounts.concurrency or narrow the accounts',
    );

    const stack = Stack.of(this);
    const logicalId = (c: Construct) => stack.resolve(stack.getLogicalId(c.node.defaultChild as CfnElement)) as string;
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const executions = `arn:<AWS::Partition>:states:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    Validations.of(this.stateMachine).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
        reason: "The state machine may invoke this capability's function (and its versions); nothing else.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Step Functions log delivery to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, ' +
          'PutResourcePolicy, DescribeLogGroups...) supports no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executions}:*]`,
        reason:
          'The Distributed Map describes and stops the child executions of this state machine only; their names are ' +
          'chosen by Step Functions at run time.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executions}/${MAP_LABEL}:*]`,
        reason: 'The Distributed Map may redrive its own map runs (label units) of this state machine only.',
      },
    );
    if (!config.observability.tracing) {
      Validations.of(this.stateMachine).acknowledge(
        {
          id: 'AwsSolutions-SF2',
          reason: 'X-Ray is off by default to keep a cost guard cheap; costGuard.observability.tracing turns it on.',
        },
        {
          id: 'Serverless-StepFunctionStateMachineXray',
          reason: 'X-Ray is off by default to keep a cost guard cheap; costGuard.observability.tracing turns it on.',
        },
      );
    }
  }

  /** The alarms on this fan-out's executions. */
  get alarms(): cloudwatch.Alarm[] {
    return [this.failedAlarm, this.timedOutAlarm];
  }
}
