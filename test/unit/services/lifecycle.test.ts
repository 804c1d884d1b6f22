import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  type LifecycleRule,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { formatLifecycleText } from '../../../lambda/cli/format/lifecycle';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { DEFAULT_LIFECYCLE_RULES } from '../../../lambda/core/lifecycle/rules';
import { BYTES_PER_GB, projectBucketSavings, round2 } from '../../../lambda/core/savings/calculators';
import { createPricing } from '../../../lambda/core/savings/pricing';
import { lifecycleCapability } from '../../../lambda/services/lifecycle';
import { testContext } from '../../helpers/context';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const s3 = mockClient(S3Client);
const cw = mockClient(CloudWatchClient);

const awsError = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

const TAG = [{ Key: 'cost-guard:lifecycle', Value: 'managed' }];
const userLogs: LifecycleRule = {
  ID: 'team-logs',
  Filter: { Prefix: 'logs/' },
  Status: 'Enabled',
  Expiration: { Days: 90 },
};
const userCheckpoints: LifecycleRule = {
  ID: 'team-checkpoints',
  Filter: { Prefix: 'checkpoints/' },
  Status: 'Enabled',
  NoncurrentVersionExpiration: { NoncurrentDays: 3 },
};
const STANDARD_GB = 2048;

/** A fake account: three buckets (two tagged), each with its lifecycle configuration kept between calls. */
function fakeAccount() {
  const lifecycle = new Map<string, { Rules: LifecycleRule[] } | undefined>([
    ['ml-artifacts', undefined],
    ['ml-eu', { Rules: [userLogs, userCheckpoints] }],
    ['web-assets', undefined],
  ]);
  s3.on(ListBucketsCommand).resolves({
    Buckets: [{ Name: 'ml-artifacts' }, { Name: 'ml-eu', BucketRegion: 'eu-west-1' }, { Name: 'web-assets' }],
  });
  s3.on(GetBucketLocationCommand).callsFake((input: { Bucket: string }) => {
    if (!lifecycle.has(input.Bucket)) throw awsError('NoSuchBucket', 404);
    return {};
  });
  s3.on(GetBucketTaggingCommand).callsFake((input: { Bucket: string }) => {
    if (input.Bucket === 'web-assets') throw awsError('NoSuchTagSet', 404);
    return { TagSet: TAG };
  });
  s3.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy', 404));
  s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
  s3.on(GetBucketLifecycleConfigurationCommand).callsFake((input: { Bucket: string }) => {
    const config = lifecycle.get(input.Bucket);
    if (!config) throw awsError('NoSuchLifecycleConfiguration', 404);
    return structuredClone(config);
  });
  s3.on(PutBucketLifecycleConfigurationCommand).callsFake(
    (input: { Bucket: string; LifecycleConfiguration: { Rules: LifecycleRule[] } }) => {
      lifecycle.set(input.Bucket, structuredClone(input.LifecycleConfiguration));
      return {};
    },
  );
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => {
      const type = q.MetricStat?.Metric?.Dimensions?.find((d) => d.Name === 'StorageType')?.Value;
      return { Id: q.Id, Values: type === 'StandardStorage' ? [STANDARD_GB * BYTES_PER_GB] : [] };
    }),
  }));
  return lifecycle;
}

const config: CostGuardConfigInput = { storage: { buckets: ['ml-artifacts', 'listed-missing'] } };

describe('Function: lifecycleCapability.run', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    s3.reset();
    cw.reset();
    server = await startSlackServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const notifier = () =>
    new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 1, minRetryDelayMs: 5 });

  it('writes the merged rules to the tagged buckets, keeps user rules, reports the conflict and posts one digest', async () => {
    // Prepare
    fakeAccount();
    const ctx = testContext({ config, notifier: notifier() });
    // Act
    const summary = await lifecycleCapability.run(ctx);
    // Assess: decisions
    const decisions = Object.fromEntries(summary.buckets.map((b) => [b.bucket, b.decision]));
    expect(decisions).toEqual({ 'ml-artifacts': 'changed', 'ml-eu': 'changed', 'listed-missing': 'missing' });
    expect(summary.buckets.find((b) => b.bucket === 'ml-artifacts')!.selectedBy).toEqual(['tag', 'config']);
    // Assess: the puts
    expect(s3).toHaveReceivedCommandTimes(PutBucketLifecycleConfigurationCommand, 2);
    const euPut = s3.commandCalls(PutBucketLifecycleConfigurationCommand, { Bucket: 'ml-eu' })[0]!;
    const euRules = euPut.args[0].input.LifecycleConfiguration!.Rules!;
    expect(euRules.map((r) => r.ID)).toEqual(['team-logs', 'team-checkpoints', 'cost-guard-experiment-artifacts']);
    expect(euRules.slice(0, 2)).toEqual([userLogs, userCheckpoints]);
    expect(await (euPut.thisValue as S3Client).config.region()).toBe('eu-west-1');
    // Assess: conflict and missing bucket
    const eu = summary.buckets.find((b) => b.bucket === 'ml-eu')!;
    expect(eu.conflicts.map((c) => [c.ruleId, c.userRuleId])).toEqual([
      ['cost-guard-model-checkpoints', 'team-checkpoints'],
    ]);
    expect(summary.buckets.find((b) => b.bucket === 'listed-missing')!.errors[0]).toContain('does not exist');
    // Assess: savings come from the savings model (low end: the checkpoints rule for ml-artifacts)
    const pricing = createPricing();
    const bytes = { bytesByClass: { STANDARD: STANDARD_GB * BYTES_PER_GB } };
    const [experiments, checkpoints] = DEFAULT_LIFECYCLE_RULES.map(
      (r) => projectBucketSavings(bytes, r, pricing).monthlySavingsUsd,
    ) as [number, number];
    expect(summary.projectedMonthlySavingsUsd).toBeCloseTo(Math.min(experiments, checkpoints) + experiments, 9);
    expect(summary.monthlySavingsUsd).toBeCloseTo(summary.projectedMonthlySavingsUsd, 9);
    expect(summary.actions.map((a) => [a.target, a.kind, a.status])).toEqual(
      expect.arrayContaining([
        ['ml-artifacts', 'lifecycle-put', 'done'],
        ['ml-eu', 'lifecycle-put', 'done'],
      ]),
    );
    // Assess: one GetMetricData per region, for the changed buckets only
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    // Assess: metrics
    expect(ctx.metrics.value('BucketsScanned')).toBe(3);
    expect(ctx.metrics.value('BucketsChanged')).toBe(2);
    expect(ctx.metrics.value('LifecycleConflicts')).toBe(1);
    expect(ctx.metrics.value('ProjectedMonthlySavingsUsd')).toBe(round2(summary.projectedMonthlySavingsUsd));
    // Assess: Slack (the default rules expire data: announced before the writes, then the digest)
    const posts = server.posts();
    expect(posts.map((p) => p.text)).toEqual([
      'S3 lifecycle: rules that delete data go on 2 buckets',
      'S3 lifecycle: 2 buckets changed',
    ]);
    expect(summary.slackMessages).toBe(2);
    const text = JSON.stringify(posts[1]!.blocks);
    expect(text).toContain('added cost-guard-experiment-artifacts');
    expect(text).toContain('team-checkpoints');
    expect(text).toContain('listed-missing (missing: NoSuchBucket)');
  });

  it('makes zero puts and posts nothing on a second run over the same buckets', async () => {
    // Prepare
    fakeAccount();
    await lifecycleCapability.run(testContext({ config, notifier: notifier() }));
    s3.resetHistory();
    cw.resetHistory();
    const postsBefore = server.posts().length;
    const ctx = testContext({ config, notifier: notifier() });
    // Act
    const summary = await lifecycleCapability.run(ctx);
    // Assess
    expect(s3).not.toHaveReceivedCommand(PutBucketLifecycleConfigurationCommand);
    // Sizes are still read (one call per region): the storage efficiency covers every managed bucket.
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(summary.buckets.filter((b) => b.decision === 'unchanged').map((b) => b.bucket)).toEqual([
      'ml-artifacts',
      'ml-eu',
    ]);
    expect(summary.actions).toEqual([]);
    expect(server.posts()).toHaveLength(postsBefore);
    expect(ctx.metrics.value('BucketsChanged')).toBe(0);
    // The conflict is still reported in the summary
    expect(summary.conflicts).toBe(1);
  });

  it('shows the before/after diff in dry-run and writes nothing', async () => {
    // Prepare
    const lifecycle = fakeAccount();
    const ctx = testContext({ config, notifier: notifier(), dryRun: true });
    // Act
    const summary = await lifecycleCapability.run(ctx);
    // Assess
    expect(s3).not.toHaveReceivedCommand(PutBucketLifecycleConfigurationCommand);
    expect(lifecycle.get('ml-artifacts')).toBeUndefined();
    const artifacts = summary.buckets.find((b) => b.bucket === 'ml-artifacts')!;
    expect(artifacts.decision).toBe('would-change');
    expect(artifacts.rulesBefore).toEqual([]);
    expect(artifacts.rulesAfter.map((r) => r.ID)).toEqual([
      'cost-guard-experiment-artifacts',
      'cost-guard-model-checkpoints',
    ]);
    expect(artifacts.diffText).toEqual([
      expect.stringMatching(
        /^\+ cost-guard-experiment-artifacts experiments\/: STANDARD_IA day 30 -> GLACIER_IR day 90/,
      ),
      expect.stringMatching(/^\+ cost-guard-model-checkpoints checkpoints\/: STANDARD_IA day 30/),
    ]);
    expect(summary.actions.every((a) => a.status === 'dry-run')).toBe(true);
    expect(server.posts()[0]!.text).toBe('S3 lifecycle: 2 buckets would change (dry-run)');
    const text = formatLifecycleText(summary);
    expect(text).toContain('+ cost-guard-experiment-artifacts');
    expect(text).toContain('listed-missing (?): missing');
  });

  it('reports a listed bucket it may not read and a tag it may not read, and carries on', async () => {
    // Prepare
    fakeAccount();
    s3.on(GetBucketLocationCommand, { Bucket: 'listed-missing' }).rejects(awsError('AccessDenied', 403));
    s3.on(GetBucketTaggingCommand, { Bucket: 'web-assets' }).rejects(awsError('AccessDenied', 403));
    // Act
    const summary = await lifecycleCapability.run(testContext({ config, notifier: notifier() }));
    // Assess
    expect(summary.buckets.find((b) => b.bucket === 'listed-missing')).toMatchObject({
      decision: 'unreadable',
      errorCode: 'AccessDenied',
    });
    expect(summary.tagReadFailures).toEqual([{ bucket: 'web-assets', code: 'AccessDenied' }]);
    expect(summary.bucketsChanged).toBe(2);
  });

  it('records a failed put as failed and keeps going with the other buckets', async () => {
    // Prepare
    fakeAccount();
    s3.on(PutBucketLifecycleConfigurationCommand, { Bucket: 'ml-eu' }).rejects(awsError('AccessDenied', 403));
    const ctx = testContext({ config, notifier: notifier() });
    // Act
    const summary = await lifecycleCapability.run(ctx);
    // Assess
    expect(summary.buckets.find((b) => b.bucket === 'ml-eu')).toMatchObject({
      decision: 'failed',
      errorCode: 'AccessDenied',
    });
    expect(summary.buckets.find((b) => b.bucket === 'ml-artifacts')!.decision).toBe('changed');
    expect(ctx.metrics.value('BucketsChanged')).toBe(1);
    expect(JSON.stringify(server.posts().at(-1)!.blocks)).toContain('write failed (AccessDenied)');
  });

  it('does nothing when storage.enabled is false', async () => {
    fakeAccount();
    const summary = await lifecycleCapability.run(testContext({ config: { storage: { enabled: false } } }));
    expect(summary.notes).toEqual(['storage.enabled is false: nothing done']);
    expect(s3).not.toHaveReceivedCommand(ListBucketsCommand);
  });
});
