/**
 * Proof suite, safety of the storage lifecycle (issue 9, "Lifecycle blast radius").
 *
 * Rules proven here, each with a case the capability got wrong before:
 * - lifecycle rules are never written on the CDK bootstrap/asset buckets (by name, by the bootstrap stack's tag, or by
 *   the bootstrap template's logical ID), on buckets of the guard's own stack (COST_GUARD_STACK_NAME, default
 *   MlCostGuard, nested stacks included), on buckets whose policy lets CloudTrail, AWS Config, S3 server access
 *   logging or vended logs put objects, or on buckets in `storage.excludeBuckets`, whether the bucket is selected by
 *   its tag or by name; each is reported (`protected`, with its reason) in the summary, the plan text and the digest;
 * - when a bucket's policy or tags cannot be read (AccessDenied), the bucket is reported and not written;
 * - the first write that puts rules deleting data (expiration, noncurrent-version expiration) on a bucket is announced
 *   in Slack, naming the bucket, the prefixes and the days, before the write; when the announcement is not delivered
 *   the write is held; a later write to a bucket that already carries one of our deleting rules is not announced again.
 *
 * The property runs the whole capability over random accounts (1-40 buckets with random names, selection, CloudFormation
 * tags, policies and unreadable reads) and checks every PutBucketLifecycleConfiguration / DeleteBucketLifecycle call the
 * fake S3 recorded against an oracle written from the rules above, independently of lambda/core/lifecycle/protection.
 */
import assert from 'node:assert/strict';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  type LifecycleRule,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  type PutBucketLifecycleConfigurationCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Notifier, PostResult } from '../../lambda/adapters/slack';
import { formatLifecycleText } from '../../lambda/cli/format/lifecycle';
import type { CostGuardConfigInput } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import type { SlackMessage } from '../../lambda/core/slack-blocks';
import { type LifecycleRunSummary, lifecycleCapability } from '../../lambda/services/lifecycle';
import { SlackDeliveryError } from '../../lambda/shared/errors';
import { testContext } from '../helpers/context';
import { RoutedFakes } from '../helpers/routed-fakes';

const s3Mock = mockClient(S3Client);
const cwMock = mockClient(CloudWatchClient);

const RUNS = 300;
const ACCOUNT = '123456789012';
const SELECT = { Key: 'cost-guard:lifecycle', Value: 'managed' };
const STACK_TAG = 'aws:cloudformation:stack-name';
const LOGICAL_ID_TAG = 'aws:cloudformation:logical-id';

// ---------------------------------------------------------------------------------------------------------------
// A fake account: S3 keeps each bucket's tags, policy and lifecycle configuration; every call is recorded in order
// ---------------------------------------------------------------------------------------------------------------

interface FakeBucket {
  tags: Record<string, string> | 'denied';
  policy: string | 'denied' | undefined;
  rules: LifecycleRule[] | undefined;
}

const account = {
  buckets: new Map<string, FakeBucket>(),
  /** Every write and Slack post, in order: `put:<bucket>`, `delete:<bucket>`, `post:<text>`. */
  events: [] as string[],
  get(name: string): FakeBucket {
    const b = this.buckets.get(name);
    if (!b) throw awsError('NoSuchBucket', 404);
    return b;
  },
  writes(): string[] {
    return this.events.filter((e) => e.startsWith('put:') || e.startsWith('delete:')).map((e) => e.split(':')[1]!);
  },
  posts(): string[] {
    return this.events.filter((e) => e.startsWith('post:')).map((e) => e.slice('post:'.length));
  },
};

function awsError(code: string, status: number): Error {
  return Object.assign(new Error(`${code} (simulated)`), { name: code, $metadata: { httpStatusCode: status } });
}
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

const fakes = new RoutedFakes();
fakes.route(ListBucketsCommand, () => ({
  Buckets: [...account.buckets.keys()].map((Name) => ({ Name, BucketRegion: 'us-east-1' })),
}));
fakes.route(GetBucketLocationCommand, (input: { Bucket?: string }) => {
  account.get(input.Bucket!);
  return {};
});
fakes.route(GetBucketTaggingCommand, (input: { Bucket?: string }) => {
  const { tags } = account.get(input.Bucket!);
  if (tags === 'denied') throw awsError('AccessDenied', 403);
  if (Object.keys(tags).length === 0) throw awsError('NoSuchTagSet', 404);
  return { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
});
fakes.route(GetBucketPolicyCommand, (input: { Bucket?: string }) => {
  const { policy } = account.get(input.Bucket!);
  if (policy === 'denied') throw awsError('AccessDenied', 403);
  if (policy === undefined) throw awsError('NoSuchBucketPolicy', 404);
  return { Policy: policy };
});
fakes.route(GetBucketVersioningCommand, () => ({ Status: 'Enabled' }));
fakes.route(GetBucketLifecycleConfigurationCommand, (input: { Bucket?: string }) => {
  const { rules } = account.get(input.Bucket!);
  if (!rules) throw awsError('NoSuchLifecycleConfiguration', 404);
  return { Rules: clone(rules) };
});
fakes.route(PutBucketLifecycleConfigurationCommand, (input: PutBucketLifecycleConfigurationCommandInput) => {
  account.events.push(`put:${input.Bucket}`);
  account.get(input.Bucket!).rules = clone(input.LifecycleConfiguration!.Rules!);
  return {};
});
fakes.route(DeleteBucketLifecycleCommand, (input: { Bucket?: string }) => {
  account.events.push(`delete:${input.Bucket}`);
  account.get(input.Bucket!).rules = undefined;
  return {};
});
fakes.route(GetMetricDataCommand, (input: GetMetricDataCommandInput) => ({
  MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, Values: [] })),
}));

/** Slack as a person sees it: a message counts once accepted; `refuse` makes the next posts fail. */
class RecordingNotifier implements Notifier {
  readonly kind = 'slack' as const;
  readonly accepted: SlackMessage[] = [];
  refuse = 0;
  async post(message: SlackMessage): Promise<PostResult> {
    if (this.refuse > 0) {
      this.refuse -= 1;
      throw new SlackDeliveryError('Slack did not accept the message: internal_error', 'internal_error');
    }
    this.accepted.push(message);
    account.events.push(`post:${message.text}`);
    return { ts: `1700000000.${this.accepted.length}`, channel: 'C0TEST' };
  }
  /** Every mrkdwn and plain text of the accepted messages, one string. */
  text(): string {
    return this.accepted
      .flatMap((m) =>
        m.blocks.flatMap((b) =>
          b.type === 'section'
            ? [b.text?.text ?? '']
            : b.type === 'context'
              ? b.elements.map((e) => e.text)
              : b.type === 'header'
                ? [b.text.text]
                : [],
        ),
      )
      .join('\n');
  }
}

beforeAll(() => {
  for (const m of [s3Mock, cwMock]) m.send.callsFake(fakes.dispatch as never);
});
afterAll(() => {
  for (const m of [s3Mock, cwMock]) m.restore();
});

const savedStackName = process.env[ENV.stackName];
function setStackName(name: string | undefined): void {
  if (name === undefined) delete process.env[ENV.stackName];
  else process.env[ENV.stackName] = name;
}
beforeEach(() => {
  account.buckets = new Map();
  account.events = [];
  setStackName(undefined);
});
afterEach(() => setStackName(savedStackName));

function addBucket(name: string, b: Partial<FakeBucket> = {}): void {
  account.buckets.set(name, { tags: { [SELECT.Key]: SELECT.Value }, policy: undefined, rules: undefined, ...b });
}

async function run(config: CostGuardConfigInput = {}, notifier = new RecordingNotifier(), dryRun = false) {
  const ctx = testContext({ config, notifier, accountId: ACCOUNT, dryRun });
  try {
    return { summary: await lifecycleCapability.run(ctx), notifier };
  } catch (error) {
    const summary = (error as { summary?: LifecycleRunSummary }).summary;
    assert.ok(summary, `the run failed without a summary: ${String(error)}`);
    return { summary, notifier, error: error as Error };
  }
}

const reportOf = (s: LifecycleRunSummary, name: string) => {
  const b = s.buckets.find((x) => x.bucket === name);
  assert.ok(b, `${name} is not in the summary`);
  return b;
};

/** The bucket is reported as protected with `reason` in the summary, the plan text and the digest, and not written. */
function assertProtected(s: LifecycleRunSummary, notifier: RecordingNotifier, name: string, reason: RegExp): void {
  const b = reportOf(s, name);
  assert.equal(b.decision, 'protected', `${name}: ${b.decision}`);
  assert.match(b.notices.join('\n'), reason);
  assert.ok(!account.writes().includes(name), `${name} was written`);
  assert.ok(!s.actions.some((a) => a.target === name), `${name} has an action`);
  const plan = formatLifecycleText(s);
  assert.match(plan, new RegExp(`${name} \\(us-east-1\\): protected`));
  assert.ok(
    s.notes.some((n) => n.startsWith(`${name}: protected`) && reason.test(n)),
    s.notes.join('\n'),
  );
  assert.match(notifier.text(), new RegExp(`${name}: .*${reason.source}`));
}

const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const cloudTrailPolicy = (bucket: string) =>
  policy(
    {
      Sid: 'AWSCloudTrailAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: `arn:aws:s3:::${bucket}`,
    },
    {
      Sid: 'AWSCloudTrailWrite',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/AWSLogs/${ACCOUNT}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
    },
  );
const logPolicy = (service: string) =>
  policy({ Effect: 'Allow', Principal: { Service: service }, Action: ['s3:PutObject'], Resource: '*' });

// ---------------------------------------------------------------------------------------------------------------
// Protected buckets
// ---------------------------------------------------------------------------------------------------------------

describe('Proof: the lifecycle never writes protected buckets', () => {
  it('never writes the CDK bootstrap asset bucket, even when someone tagged it for selection', async () => {
    // Prepare: the bootstrap bucket carries the selection tag (and its stack tags); an ordinary bucket beside it.
    const bootstrap = `cdk-hnb659fds-assets-${ACCOUNT}-us-east-1`;
    addBucket(bootstrap, { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'CDKToolkit' } });
    addBucket('ml-artifacts');
    // Act
    const { summary, notifier } = await run();
    // Assess
    assertProtected(summary, notifier, bootstrap, /CDK bootstrap/);
    assert.deepEqual(account.writes(), ['ml-artifacts']);
  });

  it('never writes a bootstrap bucket known only by its tags (renamed toolkit stack) or only by its name', async () => {
    // Prepare
    addBucket('custom-staging', {
      tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'MyToolkit', [LOGICAL_ID_TAG]: 'StagingBucket' },
    });
    addBucket('toolkit-assets', { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'CDKToolkit' } });
    const byName = `cdk-myqual-assets-${ACCOUNT}-eu-west-1`;
    addBucket(byName, { tags: {} });
    // Act: the name-only bucket is selected by name
    const { summary, notifier } = await run({ storage: { buckets: [byName] } });
    // Assess
    assertProtected(summary, notifier, 'custom-staging', /StagingBucket/);
    assertProtected(summary, notifier, 'toolkit-assets', /CDKToolkit/);
    assertProtected(summary, notifier, byName, /CDK bootstrap/);
    assert.deepEqual(account.writes(), []);
  });

  it("never writes the guard's own stack's buckets (default name, configured name, nested stacks)", async () => {
    // Prepare
    setStackName('CostGuardProd');
    addBucket('own-default', { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'MlCostGuard' } });
    addBucket('own-configured', { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'CostGuardProd' } });
    addBucket('own-nested', { tags: { [STACK_TAG]: 'CostGuardProd-Storage-1ABCDEF' } });
    addBucket('other-stack', { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'DataPlatform' } });
    // Act
    const { summary, notifier } = await run({ storage: { buckets: ['own-nested'] } });
    // Assess
    assertProtected(summary, notifier, 'own-default', /own stack/);
    assertProtected(summary, notifier, 'own-configured', /own stack.*CostGuardProd/);
    assertProtected(summary, notifier, 'own-nested', /own stack/);
    assert.deepEqual(account.writes(), ['other-stack']);
  });

  it('protects the default stack name when COST_GUARD_STACK_NAME is blank', async () => {
    // Prepare
    setStackName('   ');
    addBucket('own', { tags: { [SELECT.Key]: SELECT.Value, [STACK_TAG]: 'MlCostGuard' } });
    // Act
    const { summary, notifier } = await run();
    // Assess
    assertProtected(summary, notifier, 'own', /own stack/);
  });

  it('never writes a bucket that receives CloudTrail logs', async () => {
    // Prepare
    addBucket('org-trail', { policy: cloudTrailPolicy('org-trail') });
    addBucket('ml-artifacts', {
      policy: policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/ml` }, Action: 's3:*' }),
    });
    // Act
    const { summary, notifier } = await run();
    // Assess
    assertProtected(summary, notifier, 'org-trail', /CloudTrail/);
    assert.deepEqual(account.writes(), ['ml-artifacts']);
  });

  it.each([
    ['config.amazonaws.com', /AWS Config/],
    ['logging.s3.amazonaws.com', /S3 server access logs/],
    ['delivery.logs.amazonaws.com', /vended logs/],
  ])('never writes a bucket whose policy lets %s put objects (selected by name)', async (service, reason) => {
    // Prepare
    addBucket('log-bucket', { tags: {}, policy: logPolicy(service) });
    // Act
    const { summary, notifier } = await run({ storage: { buckets: ['log-bucket'] } });
    // Assess
    assertProtected(summary, notifier, 'log-bucket', reason);
  });

  it('never writes a bucket in storage.excludeBuckets, and reports it with the reason', async () => {
    // Prepare
    addBucket('ml-keep');
    addBucket('ml-artifacts');
    // Act
    const { summary, notifier } = await run({ storage: { excludeBuckets: ['ml-keep'] } });
    // Assess
    assertProtected(summary, notifier, 'ml-keep', /storage\.excludeBuckets/);
    assert.deepEqual(account.writes(), ['ml-artifacts']);
  });

  it('does not write a bucket whose policy it may not read (AccessDenied), and reports it', async () => {
    // Prepare
    addBucket('ml-locked', { policy: 'denied' });
    addBucket('ml-artifacts');
    // Act
    const { summary, notifier } = await run();
    // Assess
    assertProtected(summary, notifier, 'ml-locked', /bucket policy cannot be read \(AccessDenied\)/);
    assert.deepEqual(account.writes(), ['ml-artifacts']);
  });

  it('does not write a listed bucket whose tags it may not read (its owner is unknown)', async () => {
    // Prepare: tag selection off, so only the listed names are candidates
    addBucket('ml-listed', { tags: 'denied' });
    // Act
    const { summary, notifier } = await run({ storage: { selectByTag: false, buckets: ['ml-listed'] } });
    // Assess
    assertProtected(summary, notifier, 'ml-listed', /tags cannot be read \(AccessDenied\)/);
  });

  it('leaves rules an earlier run wrote on a now-protected bucket in place and says so', async () => {
    // Prepare: a CloudTrail bucket that got our expiration before protection existed
    const old: LifecycleRule = {
      ID: 'cost-guard-experiment-artifacts',
      Filter: { Prefix: 'experiments/' },
      Status: 'Enabled',
      Expiration: { Days: 730 },
    };
    addBucket('org-trail', { policy: cloudTrailPolicy('org-trail'), rules: [old] });
    // Act
    const { summary } = await run();
    // Assess
    assert.match(
      reportOf(summary, 'org-trail').notices.join('\n'),
      /still carries 1 cost-guard rule.*remove them by hand/,
    );
    assert.deepEqual(account.writes(), []);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Rules that delete data
// ---------------------------------------------------------------------------------------------------------------

const TIER_ONLY: CostGuardConfigInput = {
  storage: { rules: [{ id: 'tier', prefix: 'data/', transitions: [{ days: 30, storageClass: 'STANDARD_IA' }] }] },
};
const WITH_EXPIRY = (days: number): CostGuardConfigInput => ({
  storage: {
    rules: [
      { id: 'tier', prefix: 'data/', transitions: [{ days: 30, storageClass: 'STANDARD_IA' }] },
      { id: 'tmp', prefix: 'tmp/', expirationDays: days },
    ],
  },
});

describe('Proof: the first write of rules that delete data is announced', () => {
  it('announces bucket, prefixes and days in Slack before the write, and at the top of the digest', async () => {
    // Prepare
    addBucket('ml-artifacts');
    // Act
    const { summary, notifier } = await run();
    // Assess: the announcement was accepted before the put
    const events = account.events;
    const announced = events.findIndex((e) => e.startsWith('post:') && /rules that delete data/.test(e));
    const put = events.indexOf('put:ml-artifacts');
    assert.ok(announced >= 0 && put > announced, events.join('\n'));
    const text = notifier.text();
    assert.match(
      text,
      /bucket ml-artifacts: prefix experiments\/ objects expire after 730 days; prefix checkpoints\/ noncurrent versions expire after 30 days/,
    );
    // The digest opens with the same section
    const digest = notifier.accepted.at(-1)!;
    const firstSection = digest.blocks.find((b) => b.type === 'section');
    assert.ok(firstSection?.type === 'section');
    assert.match(firstSection.text!.text, /Rules that delete data[\s\S]*bucket ml-artifacts: prefix experiments\//);
    assert.equal(reportOf(summary, 'ml-artifacts').decision, 'changed');
  });

  it('announces when tiering-only rules were there before and an expiration is added', async () => {
    // Prepare: the bucket already carries our tiering rule (no deletion)
    addBucket('ml-artifacts');
    await run(TIER_ONLY);
    account.events = [];
    // Act
    const { notifier } = await run(WITH_EXPIRY(30));
    // Assess
    assert.match(notifier.text(), /bucket ml-artifacts: prefix tmp\/ objects expire after 30 days/);
    assert.ok(account.events.findIndex((e) => e.startsWith('post:')) < account.events.indexOf('put:ml-artifacts'));
  });

  it('does not write the deleting rules when Slack refuses the announcement; the next run announces and writes', async () => {
    // Prepare
    addBucket('ml-artifacts');
    const refusing = new RecordingNotifier();
    refusing.refuse = 1;
    // Act
    const first = await run({}, refusing);
    // Assess
    assert.deepEqual(account.writes(), []);
    assert.equal(reportOf(first.summary, 'ml-artifacts').decision, 'held');
    assert.match(first.error?.message ?? '', /announcement of rules that delete data was not delivered/);
    // Act: the next run
    const second = await run();
    // Assess
    assert.deepEqual(account.writes(), ['ml-artifacts']);
    assert.match(second.notifier.text(), /bucket ml-artifacts: prefix experiments\/ objects expire after 730 days/);
  });

  it('does not announce again on the second run, nor when a bucket that had our deleting rules is rewritten', async () => {
    // Prepare
    addBucket('ml-artifacts');
    const first = await run(WITH_EXPIRY(30));
    assert.match(first.notifier.text(), /bucket ml-artifacts: prefix tmp\/ objects expire after 30 days/);
    account.events = [];
    // Act: the same config (no write), then a changed expiry (a write)
    const same = await run(WITH_EXPIRY(30));
    const changed = await run(WITH_EXPIRY(60));
    // Assess
    assert.deepEqual(same.notifier.accepted, []);
    assert.deepEqual(account.writes(), ['ml-artifacts']);
    assert.equal(reportOf(changed.summary, 'ml-artifacts').decision, 'changed');
    assert.doesNotMatch(changed.notifier.text(), /delete data/);
  });

  it('says what would be deleted in dry-run and writes nothing', async () => {
    // Prepare
    addBucket('ml-artifacts');
    // Act
    const { notifier } = await run({}, new RecordingNotifier(), true);
    // Assess
    assert.deepEqual(account.writes(), []);
    assert.match(notifier.text(), /Rules that would delete data[\s\S]*bucket ml-artifacts: prefix experiments\//);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property: no protected bucket is ever written
// ---------------------------------------------------------------------------------------------------------------

type PolicyKind = 'none' | 'cloudtrail' | 'config' | 'access-logs' | 'vended-logs' | 'unrelated' | 'denied' | 'garbled';
type StackKind = 'none' | 'default' | 'configured' | 'nested' | 'toolkit' | 'renamed-toolkit' | 'other' | 'lookalike';

interface BucketSpec {
  readonly bootstrapName: boolean;
  readonly tagged: boolean;
  readonly listed: boolean;
  readonly excluded: boolean;
  readonly stack: StackKind;
  readonly tagsDenied: boolean;
  readonly policy: PolicyKind;
  readonly ownRules: boolean;
}

const bucketSpecArb: fc.Arbitrary<BucketSpec> = fc.record({
  bootstrapName: fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
  tagged: fc.boolean(),
  listed: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  excluded: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
  stack: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 8 },
    {
      arbitrary: fc.constantFrom<StackKind>(
        'default',
        'configured',
        'nested',
        'toolkit',
        'renamed-toolkit',
        'other',
        'lookalike',
      ),
      weight: 4,
    },
  ),
  tagsDenied: fc.oneof({ arbitrary: fc.constant(false), weight: 10 }, { arbitrary: fc.constant(true), weight: 1 }),
  policy: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 8 },
    {
      arbitrary: fc.constantFrom<PolicyKind>(
        'cloudtrail',
        'config',
        'access-logs',
        'vended-logs',
        'unrelated',
        'denied',
        'garbled',
      ),
      weight: 4,
    },
  ),
  ownRules: fc.boolean(),
});

const accountArb = fc.record({
  buckets: fc.array(bucketSpecArb, { minLength: 1, maxLength: 40 }),
  stackName: fc.constantFrom<string | undefined>(undefined, 'CostGuardProd'),
  selectByTag: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
});

const bucketName = (i: number, spec: BucketSpec) =>
  spec.bootstrapName ? `cdk-q${i}x-assets-${ACCOUNT}-us-east-1` : `bucket-${String(i).padStart(3, '0')}`;

function stackTags(stack: StackKind, configured: string | undefined): Record<string, string> {
  switch (stack) {
    case 'none':
      return {};
    case 'default':
      return { [STACK_TAG]: 'MlCostGuard' };
    case 'configured':
      return { [STACK_TAG]: configured ?? 'CostGuardProd' };
    case 'nested':
      return { [STACK_TAG]: `${configured ?? 'MlCostGuard'}-Nested-0ABC` };
    case 'toolkit':
      return { [STACK_TAG]: 'CDKToolkit', [LOGICAL_ID_TAG]: 'StagingBucket' };
    case 'renamed-toolkit':
      return { [STACK_TAG]: 'MyToolkit', [LOGICAL_ID_TAG]: 'StagingBucket' };
    case 'other':
      return { [STACK_TAG]: 'DataPlatform', [LOGICAL_ID_TAG]: 'Bucket' };
    case 'lookalike':
      return { [STACK_TAG]: 'MlCostGuardian' };
  }
}

function policyText(kind: PolicyKind, name: string): string | 'denied' | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'cloudtrail':
      return cloudTrailPolicy(name);
    case 'config':
      return logPolicy('config.amazonaws.com');
    case 'access-logs':
      return policy({ Effect: 'Allow', Principal: { Service: ['logging.s3.amazonaws.com'] }, Action: 's3:*' });
    case 'vended-logs':
      return policy({ Effect: 'Allow', Principal: { Service: 'delivery.logs.amazonaws.com' }, Action: 's3:Put*' });
    case 'unrelated':
      return policy(
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl' },
      );
    case 'denied':
      return 'denied';
    case 'garbled':
      return '{"Statement": [';
  }
}

/**
 * The oracle, from the rules of issue 9 and the brief: a bucket may be written only when nothing marks it as one the
 * guard must not touch, and nothing that could mark it was unreadable.
 */
function mayBeWritten(spec: BucketSpec, configured: string | undefined): boolean {
  if (spec.excluded || spec.bootstrapName) return false;
  if (spec.tagsDenied) return false;
  // The guard's stack: the default name always (another copy of the guard), the configured one when set, and their
  // nested stacks; the bootstrap stack by name or by its template's logical ID.
  if (spec.stack === 'default' || spec.stack === 'nested') return false;
  if (spec.stack === 'configured' && configured !== undefined) return false;
  if (spec.stack === 'toolkit' || spec.stack === 'renamed-toolkit') return false;
  return spec.policy === 'none' || spec.policy === 'unrelated';
}

describe('Proof: property over random accounts', () => {
  it('never writes a protected bucket, reports each selected one as protected, and writes every other selected one', async () => {
    await fc.assert(
      fc.asyncProperty(accountArb, async ({ buckets, stackName, selectByTag }) => {
        // Prepare
        account.buckets = new Map();
        account.events = [];
        setStackName(stackName);
        const specs = new Map<string, BucketSpec>();
        buckets.forEach((spec, i) => {
          const name = bucketName(i, spec);
          specs.set(name, spec);
          const tags = { ...(spec.tagged ? { [SELECT.Key]: SELECT.Value } : {}), ...stackTags(spec.stack, stackName) };
          account.buckets.set(name, {
            tags: spec.tagsDenied ? 'denied' : tags,
            policy: policyText(spec.policy, name),
            rules: spec.ownRules
              ? [{ ID: 'team-logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 14 } }]
              : undefined,
          });
        });
        const names = [...specs.keys()];
        // A name may not be both listed and excluded (the config refuses it): listing wins in the generator.
        const listed = names.filter((n) => specs.get(n)!.listed);
        const excluded = names.filter((n) => specs.get(n)!.excluded && !specs.get(n)!.listed);
        for (const n of names) {
          const s = specs.get(n)!;
          if (s.excluded && s.listed) specs.set(n, { ...s, excluded: false });
        }
        if (!selectByTag && listed.length === 0) return; // the config requires a listed bucket then
        // Act
        const { summary } = await run({ storage: { selectByTag, buckets: listed, excludeBuckets: excluded } });
        // Assess
        const written = new Set(account.writes());
        for (const name of names) {
          const spec = specs.get(name)!;
          // Selected: tagged (readable tags, tag selection on) or listed by name
          const selected = spec.listed || (selectByTag && spec.tagged && !spec.tagsDenied);
          const allowed = mayBeWritten(spec, stackName);
          if (!allowed) assert.ok(!written.has(name), `${name} is protected but was written: ${JSON.stringify(spec)}`);
          if (!selected) {
            assert.ok(!written.has(name), `${name} was not selected but was written`);
            continue;
          }
          const report = summary.buckets.find((b) => b.bucket === name);
          assert.ok(report, `${name} was selected but is not reported`);
          if (allowed) assert.ok(written.has(name), `${name} may be written but was not: ${report.decision}`);
          else {
            assert.equal(report.decision, 'protected', `${name}: ${report.decision} ${JSON.stringify(spec)}`);
            assert.ok(report.notices.length > 0, `${name} is protected without a reason`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
