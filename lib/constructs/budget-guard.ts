import { Annotations, type Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  launchCapPolicyArn,
  launchCapPolicyName,
  launchCapStatement,
  roleArn,
} from '../../lambda/core/budgets/launch-cap';
import { STOPPED_TAG_KEYS } from '../../lambda/core/budgets/tags';
import type { CostGuardConfig } from '../../lambda/core/config';
import { MANAGED_TAG_KEYS } from '../../lambda/core/managed';
import { CostGuardFunction } from './cost-guard-function';
import { denyWhenTagTrue } from './iam-conditions';
import { grantPolicySet, type PolicySet } from './policy-set';
import type { SharedResources } from './shared-resources';

const BUDGETS_PRINCIPAL = 'budgets.amazonaws.com';

export interface BudgetGuardProps {
  /** The validated config; `budgets`, `tags` and `observability` are read here. */
  readonly config: CostGuardConfig;
  /** State table (alert de-duplication, savings ledger) and Slack token secret. */
  readonly shared: SharedResources;
  /** Function timeout; must stay below the state store's 10-minute claim lease. @default Duration.minutes(5) */
  readonly timeout?: Duration;
}

/** `user:<key>$<value>`: how AWS Budgets cost filters name a cost allocation tag value. */
export function tagKeyValueFilter(key: string, value: string): string {
  return `user:${key}$${value}`;
}

/**
 * What the budget guard may do to the instances of one account: describe them, and only with `dryRun: false` and
 * `budgets.action: stop-non-essential` stop those whose essential and opt-out tags are not true and write its own
 * `cost-guard:stopped-*` tags; explicit Denies on protected and managed (Auto Scaling, fleet, Kubernetes) instances
 * in every mode. Its function role gets it in the stack's account; in organization mode, the spoke role of the
 * member accounts too (budget items' linked `accounts`). Never StartInstances.
 */
export function budgetStopPolicySet(stack: Stack, config: CostGuardConfig): PolicySet {
  const instances = `arn:${stack.partition}:ec2:*:${stack.account}:instance/*`;
  const protectedTags = [config.tags.essential, config.tags.optOut];
  const statements: iam.PolicyStatement[] = [];
  statements.push(
    new iam.PolicyStatement({
      sid: 'DescribeInstances',
      actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes'],
      resources: ['*'],
    }),
  );
  // Destructive grants only when the guard may act: in dry-run or notify mode the role cannot stop or tag at all.
  const acts = !config.dryRun && config.budgets.action === 'stop-non-essential';
  if (acts) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'StopUnprotectedInstances',
        actions: ['ec2:StopInstances'],
        resources: [instances],
        conditions: {
          StringNotEqualsIgnoreCase: Object.fromEntries(protectedTags.map((k) => [`aws:ResourceTag/${k}`, 'true'])),
        },
      }),
    );
    statements.push(
      new iam.PolicyStatement({
        sid: 'TagStoppedInstances',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [instances],
        conditions: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...STOPPED_TAG_KEYS] },
          // DeleteTags without keys deletes every tag: require the keys to be named.
          Null: { 'aws:TagKeys': 'false' },
        },
      }),
    );
  }
  // Negated operators are true when the tag is absent; the explicit Deny makes the protection hold regardless
  // (kept in every mode: it also binds any policy attached to the role later).
  protectedTags.forEach((key, i) => {
    for (const deny of denyWhenTagTrue(`NeverStopProtected${i}`, ['ec2:StopInstances'], [instances], key)) {
      statements.push(deny);
    }
  });
  // Never an instance an Auto Scaling group, a fleet or a Kubernetes cluster manages: it would be replaced. One
  // statement per key (the keys of one Null block are ANDed, and any one of these tags must deny).
  MANAGED_TAG_KEYS.forEach((key, i) => {
    statements.push(
      new iam.PolicyStatement({
        sid: `NeverStopManagedInstances${i}`,
        effect: iam.Effect.DENY,
        actions: ['ec2:StopInstances'],
        resources: [instances],
        conditions: { Null: { [`aws:ResourceTag/${key}`]: 'false' } },
      }),
    );
  });

  // cdk-nag names resources as the template has them: a literal account, or <AWS::AccountId> when env-agnostic.
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return {
    statements,
    acknowledgements: [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeInstances and ec2:DescribeInstanceTypes do not support resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:${account}:instance/*]`,
        reason:
          'The instances to stop are chosen by tag at run time in the configured regions; stop is allowed only with ' +
          'dryRun off and action stop-non-essential, and only when the essential and opt-out tags are not true ' +
          '(explicit Deny); tagging only for the cost-guard:stopped-* keys.',
      },
    ],
  };
}

/**
 * The budget guard: an AWS Budget per `budgets.items` entry with `limitUsd` (COST, MONTHLY, filtered by the
 * entry's scope tags) notifying a KMS-encrypted SNS topic at `alertPercent` and `actionPercent` (ACTUAL) and at 100%
 * (FORECASTED); one Lambda run hourly (`budgets.schedule`) and on every notification, one at a time; a failed
 * event is not retried automatically (a retry could stop instances twice in one period; the next hourly run is the
 * retry) and goes to an encrypted failure queue with an alarm. The Lambda may read budgets and instances; only with
 * `dryRun: false` and `budgets.action: stop-non-essential` may it stop instances not tagged essential or opted out
 * and write its own `cost-guard:stopped-*` tags. It never starts instances: `cost-guard restore` does, with the
 * user's own credentials.
 */
export class BudgetGuard extends Construct {
  readonly fn: CostGuardFunction;
  readonly key: kms.Key;
  readonly topic: sns.Topic;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** The budgets the stack creates, by name. */
  readonly budgets: ReadonlyMap<string, budgets.CfnBudget>;
  /** The launch cap policy of each budget item that lists `launchCapRoles`, by budget name (attached at run time). */
  readonly launchCapPolicies: ReadonlyMap<string, iam.ManagedPolicy>;

  constructor(scope: Construct, id: string, props: BudgetGuardProps) {
    super(scope, id);
    const { config } = props;
    const cfg = config.budgets;
    const stack = Stack.of(this);
    const sourceConditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:budgets::${stack.account}:*` },
    };

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'ml-cost-guard: encrypts the AWS Budgets notification topic',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAwsBudgetsToPublishEncrypted',
        principals: [new iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: sourceConditions,
      }),
    );

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'ml-cost-guard AWS Budgets notifications',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAwsBudgetsToPublish',
        principals: [new iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: sourceConditions,
      }),
    );

    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'budgets',
      handlerFile: 'budget-guard.ts',
      config,
      configKeys: ['budgets', 'state'],
      stateTable: props.shared.stateTable,
      stateTableUses: ['ledgerWrite', 'state'],
      slackSecret: props.shared.slackSecret,
      schedule: cfg.schedule,
      reservedConcurrency: 1,
      retryAttempts: 0,
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
      ...(props.timeout ? { timeout: props.timeout } : {}),
    });
    // A notification the function could not receive waits in its failure queue (and raises its alarm).
    this.topic.addSubscription(
      new subscriptions.LambdaSubscription(this.fn.function, { deadLetterQueue: this.fn.failureQueue }),
    );

    // Failed runs (e.g. Slack down through every retry) land in the shared function's failure queue, with the
    // event as payload, and raise its alarm.
    this.deadLetterQueue = this.fn.failureQueue;
    this.deadLetterAlarm = this.fn.failureQueueAlarm;

    this.grantGuard(config);
    this.launchCapPolicies = this.launchCap(config);

    const created = new Map<string, budgets.CfnBudget>();
    for (const item of cfg.items) {
      if (item.limitUsd === undefined) continue;
      const scope = Object.entries(item.scopeTags);
      if (scope.length > 1) {
        Annotations.of(this).addWarningV2(
          'ml-cost-guard:budget-scope-or',
          `budget '${item.name}': AWS Budgets counts cost carrying ANY of its ${scope.length} scope tags (values of ` +
            'one cost filter are ORed), while the stop action only stops instances carrying ALL of them.',
        );
      }
      const budget = new budgets.CfnBudget(this, `Budget-${item.name.replace(/[^A-Za-z0-9-]/g, '_')}`, {
        budget: {
          budgetName: item.name,
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount: item.limitUsd, unit: 'USD' },
          ...(scope.length > 0 ? { costFilters: { TagKeyValue: scope.map(([k, v]) => tagKeyValueFilter(k, v)) } } : {}),
        },
        notificationsWithSubscribers: [
          notification('ACTUAL', cfg.alertPercent, this.topic),
          notification('ACTUAL', cfg.actionPercent, this.topic),
          notification('FORECASTED', 100, this.topic),
        ],
      });
      // Budgets checks that it may publish when the notification is created.
      budget.node.addDependency(this.topic);
      created.set(item.name, budget);
    }
    this.budgets = created;
  }

  /**
   * The launch cap: per budget item with `launchCapRoles`, a customer managed policy (attached to no one at deploy)
   * that denies launching or starting GPU instances; the function attaches it to the listed roles at the action
   * threshold and detaches it at the period's end. The role may attach only that policy (condition `iam:PolicyARN`)
   * and only to those roles, and only with `dryRun` off; attach needs `budgets.launchCap` too, while detach stays
   * whenever roles are listed, so a cap in force can still be lifted after `launchCap` is turned off.
   */
  private launchCap(config: CostGuardConfig): Map<string, iam.ManagedPolicy> {
    const stack = Stack.of(this);
    const policies = new Map<string, iam.ManagedPolicy>();
    config.budgets.items.forEach((item, i) => {
      if (item.launchCapRoles.length === 0) return;
      const statement = launchCapStatement(stack.partition);
      const policy = new iam.ManagedPolicy(this, `LaunchCap${i}`, {
        managedPolicyName: launchCapPolicyName(item.name),
        description: `ml-cost-guard: no GPU launches while budget ${item.name} is past its action threshold`.slice(
          0,
          1000,
        ),
        statements: [
          new iam.PolicyStatement({
            sid: statement.Sid,
            effect: iam.Effect.DENY,
            actions: statement.Action,
            resources: [statement.Resource],
            conditions: statement.Condition,
          }),
        ],
      });
      policies.set(item.name, policy);
      if (config.dryRun) return;
      const roles = item.launchCapRoles.map((r) => roleArn(stack.partition, stack.account, r));
      // The ARN the function computes from the name (lambda/core/budgets/launch-cap.ts): IAM and code agree by construction.
      const policyArn = launchCapPolicyArn(stack.partition, stack.account, item.name);
      this.fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid: `LaunchCap${i}`,
          actions: config.budgets.launchCap
            ? ['iam:AttachRolePolicy', 'iam:DetachRolePolicy']
            : ['iam:DetachRolePolicy'],
          resources: roles,
          conditions: { ArnEquals: { 'iam:PolicyARN': policyArn } },
        }),
      );
      // Deploy the policy before the function may use it.
      this.fn.function.node.addDependency(policy);
    });
    return policies;
  }

  private grantGuard(config: CostGuardConfig): void {
    const stack = Stack.of(this);
    const role = this.fn.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBudgets',
        actions: ['budgets:ViewBudget'],
        resources: [`arn:${stack.partition}:budgets::${stack.account}:budget/*`],
      }),
    );
    const policy = role.node.tryFindChild('DefaultPolicy') ?? role;
    grantPolicySet(role, budgetStopPolicySet(stack, config), policy);
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:budgets::${account}:budget/*]`,
      reason: 'DescribeBudgets lists the budgets of the account; the guard reads only the budgets named in its config.',
    });
  }
}

function notification(
  type: 'ACTUAL' | 'FORECASTED',
  threshold: number,
  topic: sns.ITopic,
): budgets.CfnBudget.NotificationWithSubscribersProperty {
  return {
    notification: {
      notificationType: type,
      comparisonOperator: 'GREATER_THAN',
      threshold,
      thresholdType: 'PERCENTAGE',
    },
    subscribers: [{ subscriptionType: 'SNS', address: topic.topicArn }],
  };
}
