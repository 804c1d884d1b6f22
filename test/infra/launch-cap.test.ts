import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { launchCapPolicyArn, launchCapPolicyName } from '../../lambda/core/budgets/launch-cap';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { BudgetGuard } from '../../lib/constructs/budget-guard';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { oncePerArgs } from '../helpers/once-per-args';

const ACCOUNT = '111122223333';

const guardStack = oncePerArgs(function guardStack(raw: CostGuardConfigInput) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const config = parseConfig(raw);
  const shared = new SharedResources(stack, 'Shared', { config });
  const guard = new BudgetGuard(stack, 'BudgetGuard', { config, shared });
  return { app, stack, guard, template: Template.fromStack(stack) };
});

const CAPPED = (over: { dryRun?: boolean; launchCap?: boolean } = {}): CostGuardConfigInput => ({
  dryRun: over.dryRun ?? false,
  budgets: {
    launchCap: over.launchCap ?? true,
    items: [
      {
        name: 'ml-platform',
        limitUsd: 5000,
        scopeTags: { team: 'ml' },
        launchCapRoles: ['ml-training', 'ml-research'],
      },
      { name: 'search', limitUsd: 1000, launchCapRoles: ['search-batch'] },
      { name: 'no-cap', limitUsd: 100 },
    ],
  },
});

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statements = (template: Template): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
/** Template JSON with the partition resolved (`aws`) and joins joined. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (o.Ref === 'AWS::Partition') return 'aws';
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(plain).join(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
}
const iamStatements = (template: Template) =>
  statements(template).filter((s) => [s.Action].flat().some((a) => a.startsWith('iam:')));

describe('Construct: BudgetGuard (launch cap)', () => {
  it('creates one cap policy per budget item that lists launchCapRoles, named as the function finds it', () => {
    // Act
    const { template } = guardStack(CAPPED());
    // Assess
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as {
      Properties: { ManagedPolicyName: string; Roles?: unknown; PolicyDocument: { Statement: Statement[] } };
    }[];
    expect(policies.map((p) => p.Properties.ManagedPolicyName).sort()).toEqual(
      [launchCapPolicyName('ml-platform'), launchCapPolicyName('search')].sort(),
    );
    for (const p of policies) {
      // Attached to no one at deploy: the function attaches it at the action threshold.
      expect(p.Properties.Roles).toBeUndefined();
      expect(p.Properties.PolicyDocument.Statement).toEqual([
        {
          Sid: 'DenyGpuLaunchesWhileOverBudget',
          Effect: 'Deny',
          Action: ['ec2:RunInstances', 'ec2:StartInstances'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*:*:instance/*']] },
          Condition: { StringLike: { 'ec2:InstanceType': ['g*', 'p*', 'dl*'] } },
        },
      ]);
    }
  });

  it('lets the function attach and detach only the budget’s cap policy, only on the listed roles', () => {
    // Act
    const { template } = guardStack(CAPPED());
    // Assess
    const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    expect(plain(iamStatements(template))).toEqual([
      {
        Sid: 'LaunchCap0',
        Effect: 'Allow',
        Action: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
        Resource: [role('ml-training'), role('ml-research')],
        Condition: { ArnEquals: { 'iam:PolicyARN': launchCapPolicyArn('aws', ACCOUNT, 'ml-platform') } },
      },
      {
        Sid: 'LaunchCap1',
        Effect: 'Allow',
        Action: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
        Resource: role('search-batch'),
        Condition: { ArnEquals: { 'iam:PolicyARN': launchCapPolicyArn('aws', ACCOUNT, 'search') } },
      },
    ]);
  });

  it('grants no IAM action at all in dry run (the policies still exist)', () => {
    const { template } = guardStack(CAPPED({ dryRun: true }));
    expect(iamStatements(template)).toEqual([]);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
  });

  it('keeps only detach when launchCap is off, so a cap in force can still be lifted', () => {
    const { template } = guardStack(CAPPED({ launchCap: false }));
    const actions = iamStatements(template).flatMap((s) => [s.Action].flat());
    expect([...new Set(actions)]).toEqual(['iam:DetachRolePolicy']);
  });

  it('creates nothing for the launch cap when no item lists roles', () => {
    const { template } = guardStack({ dryRun: false, budgets: { items: [{ name: 'b', limitUsd: 10 }] } });
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(iamStatements(template)).toEqual([]);
  });

  it('passes cdk-nag (AwsSolutions and Serverless) with the cap on', () => {
    // Prepare
    const { app } = guardStack(CAPPED());
    // Act
    const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
    // Assess
    const mine = reports.flatMap((r) =>
      r.violations
        .filter((v) => v.violatingResources.some((res) => res.constructPath?.includes('/BudgetGuard/')))
        .map((v) => `${v.ruleName} at ${v.violatingResources.map((res) => res.constructPath).join(', ')}`),
    );
    expect(mine).toEqual([]);
  });
});
