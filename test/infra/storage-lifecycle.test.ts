import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { SharedResources } from '../../lib/constructs/shared-resources';
import {
  LIFECYCLE_BUCKET_ACTIONS,
  LIFECYCLE_BUCKET_READ_ACTIONS,
  StorageLifecycle,
} from '../../lib/constructs/storage-lifecycle';
import { oncePerArgs } from '../helpers/once-per-args';
import { sdkCommands } from '../helpers/sdk-commands';

const synth = oncePerArgs(function synth(input: CostGuardConfigInput & { storage?: Record<string, unknown> } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  // selectByTag is read defensively until the schema has it: add it after parsing.
  const { selectByTag, ...storage } = (input.storage ?? {}) as { selectByTag?: boolean };
  const parsed = parseConfig({ ...input, storage });
  const config = selectByTag === undefined ? parsed : { ...parsed, storage: { ...parsed.storage, selectByTag } };
  const shared = new SharedResources(stack, 'Shared', { config });
  const lifecycle = new StorageLifecycle(stack, 'Lifecycle', { config, shared });
  return { app, stack, lifecycle, template: Template.fromStack(stack) };
});

/** Every statement of the lifecycle function's role policy, flattened to action -> resources. */
function grants(template: Template): Map<string, unknown[]> {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^LifecycleFunctionRole') }] },
  });
  const out = new Map<string, unknown[]>();
  for (const p of Object.values(policies)) {
    for (const s of (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
      .PolicyDocument.Statement) {
      const actions = ([] as string[]).concat(s.Action as string | string[]);
      const resources = ([] as unknown[]).concat(s.Resource);
      for (const a of actions) out.set(a, [...(out.get(a) ?? []), ...resources]);
    }
  }
  return out;
}

describe('Construct: StorageLifecycle', () => {
  it('schedules the function daily by default with the storage config slice', () => {
    // Act
    const { template } = synth();
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)' });
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'ml-cost-guard: lifecycle' },
    });
    const env = (Object.values(fns)[0] as { Properties: { Environment: { Variables: Record<string, string> } } })
      .Properties.Environment.Variables;
    const sliced = JSON.parse(env.COST_GUARD_CONFIG!) as Record<string, unknown>;
    expect(sliced).toHaveProperty('storage');
    expect(sliced).not.toHaveProperty('idleGpu');
  });

  it('uses storage.schedule', () => {
    const { template } = synth({ storage: { schedule: 'cron(0 3 * * ? *)' } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
  });

  it('grants exactly the lifecycle, tagging, location, versioning, listing and metric actions with tag selection', () => {
    // Act
    const g = grants(synth({ dryRun: false }).template);
    // Assess
    const s3Actions = [...g.keys()].filter((a) => a.startsWith('s3:')).sort();
    expect(s3Actions).toEqual([...LIFECYCLE_BUCKET_ACTIONS, 's3:GetBucketTagging', 's3:ListAllMyBuckets'].sort());
    expect(g.get('cloudwatch:GetMetricData')).toEqual(['*']);
    expect(g.get('s3:ListAllMyBuckets')).toEqual(['*']);
    expect(g.get('s3:PutLifecycleConfiguration')).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] },
    ]);
  });

  it('grants no lifecycle write in dry-run (the default): it reads and reports only', () => {
    // Act
    const g = grants(synth().template);
    // Assess
    const s3Actions = [...g.keys()].filter((a) => a.startsWith('s3:')).sort();
    expect(s3Actions).toEqual([...LIFECYCLE_BUCKET_READ_ACTIONS, 's3:GetBucketTagging', 's3:ListAllMyBuckets'].sort());
    expect(s3Actions.some((a) => /^s3:(Put|Delete)/.test(a))).toBe(false);
  });

  it('may add to the savings ledger and take the run lease in the state table, nothing else', () => {
    const g = grants(synth({ dryRun: false }).template);
    expect([...g.keys()].filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('grants every S3 and CloudWatch call the lifecycle adapters make (acting, with tag selection)', () => {
    // Prepare: the IAM action of each SDK command (an unknown command fails until it is added here and granted).
    const IAM_ACTION: Record<string, string> = {
      GetBucketLocation: 's3:GetBucketLocation',
      GetBucketVersioning: 's3:GetBucketVersioning',
      GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
      PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
      DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
      GetBucketTagging: 's3:GetBucketTagging',
      GetBucketPolicy: 's3:GetBucketPolicy',
      ListBuckets: 's3:ListAllMyBuckets',
      GetMetricData: 'cloudwatch:GetMetricData',
    };
    const adapters = path.join(__dirname, '..', '..', 'lambda', 'adapters');
    const commands = [
      ...sdkCommands(path.join(adapters, 's3-lifecycle.ts'), ['@aws-sdk/client-s3']),
      ...sdkCommands(path.join(adapters, 's3-metrics.ts'), ['@aws-sdk/client-cloudwatch']),
    ];
    // Act
    const g = grants(synth({ dryRun: false }).template);
    // Assess
    expect(commands.length).toBeGreaterThan(5);
    expect(commands.filter((c) => !IAM_ACTION[c])).toEqual([]);
    expect(commands.map((c) => IAM_ACTION[c]!).filter((a) => !g.has(a))).toEqual([]);
  });

  it('never grants an object action or an s3 wildcard action', () => {
    const g = grants(synth({ dryRun: false }).template);
    for (const action of g.keys()) {
      expect(action).not.toMatch(/^s3:(Get|Put|Delete)Object|^s3:\*|^\*$/);
    }
  });

  it('limits bucket actions to the listed bucket ARNs when tag selection is off', () => {
    // Act
    const g = grants(synth({ dryRun: false, storage: { selectByTag: false, buckets: ['ml-a', 'ml-b'] } }).template);
    // Assess
    expect(g.has('s3:ListAllMyBuckets')).toBe(false);
    const arn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}`]] });
    expect(g.get('s3:PutLifecycleConfiguration')).toEqual([arn('ml-a'), arn('ml-b')]);
    // Tags of listed buckets are read (a bootstrap or own-stack bucket is recognized by them), on those ARNs only.
    expect(g.get('s3:GetBucketTagging')).toEqual([arn('ml-a'), arn('ml-b')]);
  });

  it('leaves no unacknowledged cdk-nag finding on its own resources', () => {
    // Act
    const { app } = synth();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    // Assess
    const ours = report.violations
      .map((v) => ({ rule: v.ruleName, paths: v.violatingResources.map((r) => r.constructPath) }))
      .filter((v) => v.paths.some((p) => p?.startsWith('Test/Lifecycle/')));
    expect(ours).toEqual([]);
  });
});
