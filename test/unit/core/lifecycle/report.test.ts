import type { S3LifecycleRule } from '../../../../lambda/core/lifecycle/merge';
import {
  type BucketReport,
  deletingRules,
  deletionAnnouncement,
  deletionBlocks,
  firstDeletingRules,
  type LifecycleRunSummary,
  lifecycleDigest,
  savingsWords,
} from '../../../../lambda/core/lifecycle/report';
import { MAX_SECTION_TEXT, type SlackMessage } from '../../../../lambda/core/slack-blocks';

const managed = (id: string, prefix: string, over: Partial<S3LifecycleRule> = {}): S3LifecycleRule => ({
  ID: `cost-guard-${id}`,
  Filter: { Prefix: prefix },
  Status: 'Enabled',
  ...over,
});
const tiering = managed('tier', 'data/', { Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] });
const expireTmp = managed('tmp', 'tmp/', { Expiration: { Days: 30 } });
const noncurrent = managed('ckpt', 'checkpoints/', { NoncurrentVersionExpiration: { NoncurrentDays: 7 } });

const report = (bucket: string, over: Partial<BucketReport> = {}): BucketReport => ({
  bucket,
  region: 'us-east-1',
  selectedBy: ['tag'],
  decision: 'changed',
  rulesBefore: [],
  rulesAfter: [],
  diff: [],
  diffText: [],
  conflicts: [],
  errors: [],
  notices: [],
  ...over,
});

const summary = (buckets: BucketReport[], dryRun = false): LifecycleRunSummary => ({
  capability: 'lifecycle',
  dryRun,
  startedAt: '2026-11-15T12:00:00.000Z',
  actions: [],
  monthlySavingsUsd: 0,
  apiCalls: {},
  notes: [],
  buckets,
  bucketsScanned: buckets.length,
  bucketsChanged: buckets.filter((b) => b.decision === 'changed').length,
  conflicts: 0,
  projectedMonthlySavingsUsd: 0,
  projectedMonthlySavingsHighUsd: 0,
  tagReadFailures: [],
  slackMessages: 0,
});

const mrkdwnOf = (messages: readonly SlackMessage[]) =>
  messages.flatMap((m) =>
    m.blocks.flatMap((b) =>
      b.type === 'section' ? [b.text?.text ?? ''] : b.type === 'context' ? b.elements.map((e) => e.text) : [],
    ),
  );

describe('Function: deletingRules', () => {
  it('lists expiration by days and by date and noncurrent-version expiration, with prefix and days', () => {
    const byDate = managed('old', '', { Expiration: { Date: new Date('2027-01-01T00:00:00Z') } });
    const kept = managed('kept', 'v/', {
      NoncurrentVersionExpiration: { NoncurrentDays: 9, NewerNoncurrentVersions: 3 },
    });
    expect(deletingRules([tiering, expireTmp, noncurrent, byDate, kept])).toEqual([
      { ruleId: 'cost-guard-tmp', prefix: 'tmp/', deletes: ['objects expire after 30 days'] },
      {
        ruleId: 'cost-guard-ckpt',
        prefix: 'checkpoints/',
        deletes: ['noncurrent versions expire after 7 days'],
      },
      { ruleId: 'cost-guard-old', prefix: '', deletes: ['objects expire on 2027-01-01'] },
      {
        ruleId: 'cost-guard-kept',
        prefix: 'v/',
        deletes: ['noncurrent versions expire after 9 days (the 3 newest kept)'],
      },
    ]);
  });

  it('does not count delete-marker cleanup, aborted uploads, disabled rules or the bucket owners’ rules', () => {
    const rules: S3LifecycleRule[] = [
      managed('markers', '', { Expiration: { ExpiredObjectDeleteMarker: true } }),
      managed('mpu', '', { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      managed('off', 'x/', { Status: 'Disabled', Expiration: { Days: 1 } }),
      { ID: 'team-logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 1 } },
    ];
    expect(deletingRules(rules)).toEqual([]);
  });
});

describe('Function: firstDeletingRules', () => {
  it('announces the deleting rules of the first write that brings any', () => {
    expect(firstDeletingRules([tiering], [tiering, expireTmp]).map((r) => r.ruleId)).toEqual(['cost-guard-tmp']);
  });

  it('announces nothing once one of our deleting rules was on the bucket', () => {
    expect(firstDeletingRules([expireTmp], [expireTmp, noncurrent])).toEqual([]);
  });

  it('does not count the owners’ own deleting rules as ours', () => {
    const team: S3LifecycleRule = {
      ID: 'team',
      Filter: { Prefix: 'logs/' },
      Status: 'Enabled',
      Expiration: { Days: 3 },
    };
    expect(firstDeletingRules([team], [team, expireTmp]).map((r) => r.ruleId)).toEqual(['cost-guard-tmp']);
  });
});

describe('Function: deletionBlocks', () => {
  it('names the bucket, the prefix and the days', () => {
    const [block] = deletionBlocks([{ bucket: 'ml-x', rules: deletingRules([expireTmp]) }], false);
    expect(block).toMatchObject({ type: 'section' });
    const text = mrkdwnOf([{ text: '', blocks: [block!] }])[0]!;
    expect(text).toContain('Rules that delete data');
    expect(text).toContain('bucket ml-x: prefix tmp/ objects expire after 30 days');
  });

  it('escapes the bucket name and prefix (AWS values)', () => {
    const hostile = managed('h', '<!channel> <https://evil.example|click>\nFAKE', { Expiration: { Days: 1 } });
    const text = mrkdwnOf([
      { text: '', blocks: deletionBlocks([{ bucket: '<!here>', rules: deletingRules([hostile]) }], false) },
    ]).join('\n');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil');
    expect(text.split('\n').filter((l) => l.startsWith('FAKE'))).toEqual([]);
  });

  it('splits a long list between lines, each section within the limit, and drops no bucket', () => {
    const notices = Array.from({ length: 120 }, (_, i) => ({
      bucket: `ml-bucket-${String(i).padStart(3, '0')}`,
      rules: deletingRules([expireTmp, noncurrent]),
    }));
    const blocks = deletionBlocks(notices, false);
    const texts = mrkdwnOf([{ text: '', blocks }]);
    expect(blocks.length).toBeGreaterThan(1);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    for (const n of notices) expect(texts.join('\n')).toContain(`bucket ${n.bucket}:`);
  });
});

describe('Function: deletionAnnouncement', () => {
  it('is one message naming each bucket, or none when nothing deletes', () => {
    const messages = deletionAnnouncement([
      { bucket: 'ml-a', rules: deletingRules([expireTmp]) },
      { bucket: 'ml-b', rules: deletingRules([noncurrent]) },
    ]);
    expect(messages.map((m) => m.text)).toEqual(['S3 lifecycle: rules that delete data go on 2 buckets']);
    const text = mrkdwnOf(messages).join('\n');
    expect(text).toContain('bucket ml-a: prefix tmp/ objects expire after 30 days');
    expect(text).toContain('bucket ml-b: prefix checkpoints/ noncurrent versions expire after 7 days');
    expect(deletionAnnouncement([])).toEqual([]);
  });
});

describe('Function: lifecycleDigest', () => {
  it('opens with the rules that delete data, before the per-bucket lines', () => {
    const messages = lifecycleDigest(
      summary([
        report('ml-a', { rulesBefore: [], rulesAfter: [expireTmp] }),
        report('ml-b', { rulesBefore: [expireTmp], rulesAfter: [expireTmp, noncurrent] }),
      ]),
    );
    const [first, ...rest] = messages[0]!.blocks.filter((b) => b.type === 'section');
    const firstText = first!.type === 'section' ? first!.text!.text : '';
    expect(firstText).toContain('Rules that delete data');
    expect(firstText).toContain('bucket ml-a: prefix tmp/ objects expire after 30 days');
    // ml-b already carried one of our deleting rules: not announced again.
    expect(firstText).not.toContain('ml-b');
    expect(rest.length).toBe(2);
  });

  it('says "would delete" in dry-run, and leaves out failed writes', () => {
    const messages = lifecycleDigest(
      summary(
        [
          report('ml-a', { decision: 'would-change', rulesAfter: [expireTmp] }),
          report('ml-f', { decision: 'failed', errorCode: 'AccessDenied', rulesAfter: [noncurrent] }),
        ],
        true,
      ),
    );
    const text = mrkdwnOf(messages).join('\n');
    expect(text).toContain('Rules that would delete data');
    expect(text).toContain('bucket ml-a:');
    expect(text).not.toContain('bucket ml-f:');
  });

  it('reports protected buckets with their reasons', () => {
    const messages = lifecycleDigest(
      summary([
        report('ml-a', { rulesAfter: [tiering] }),
        report('trail-logs', {
          decision: 'protected',
          protection: [{ kind: 'log-destination', message: 'its bucket policy lets CloudTrail write objects' }],
        }),
      ]),
    );
    const text = mrkdwnOf(messages).join('\n');
    expect(text).toContain('Protected, never written');
    expect(text).toContain('trail-logs: its bucket policy lets CloudTrail write objects');
  });

  it('posts for a selected bucket protected by evidence, but not for storage.excludeBuckets alone', () => {
    const excluded = report('ml-keep', {
      decision: 'protected',
      protection: [{ kind: 'excluded', message: 'listed in storage.excludeBuckets' }],
    });
    const denied = report('ml-locked', {
      decision: 'protected',
      protection: [{ kind: 'policy-unreadable', message: 'its bucket policy cannot be read (AccessDenied)' }],
    });
    expect(lifecycleDigest(summary([excluded]))).toEqual([]);
    expect(mrkdwnOf(lifecycleDigest(summary([excluded, denied]))).join('\n')).toContain(
      'ml-locked: its bucket policy cannot be read (AccessDenied)',
    );
  });
});

describe('Function: lifecycleDigest (savings)', () => {
  const projection = (usd: number) => ({
    standardGb: 1000,
    monthlySavingsUsd: usd,
    lowUsd: usd,
    highUsd: usd,
    basisRuleId: 'cost-guard-tier',
    method: 'test',
  });

  it('says "no size data" for a bucket without size metrics, never "$0.00" or "price unknown"', () => {
    // Prepare: one bucket CloudWatch has no size for, one it has
    const messages = lifecycleDigest(
      summary([
        report('ml-new', { rulesAfter: [tiering], sizeKnown: false }),
        report('ml-old', { rulesAfter: [tiering], sizeKnown: true, projection: projection(12.345) }),
      ]),
    );
    const text = mrkdwnOf(messages).join('\n');
    // Assess
    const newLine = text.split('\n').find((l) => l.includes('ml-new'))!;
    const newSection = text.slice(text.indexOf(newLine), text.indexOf('ml-old'));
    expect(newSection).toContain('no size data');
    expect(newSection).not.toMatch(/\$0\.00|price unknown/);
    expect(text).toContain('Savings ~$12.35/month projected; 1 bucket: no size data');
  });

  it('adds up in its headline exactly the figures of its lines', () => {
    const buckets = [0.004, 0.004, 10.005].map((usd, i) =>
      report(`ml-${i}`, { rulesAfter: [tiering], sizeKnown: true, projection: projection(usd) }),
    );
    const text = mrkdwnOf(lifecycleDigest(summary(buckets))).join('\n');
    const lines = [...text.matchAll(/^~\$([\d,.]+)\/month on/gm)].map((m) => Math.round(Number(m[1]) * 100));
    const head = /Savings ~\$([\d,.]+)\/month projected/.exec(text)!;
    expect(lines).toHaveLength(3);
    expect(Math.round(Number(head[1]) * 100)).toBe(lines.reduce((a, b) => a + b, 0));
  });
});

describe('Function: savingsWords', () => {
  it('has one label per cause', () => {
    expect(savingsWords(undefined, false)).toMatch(/^no size data/);
    expect(savingsWords(undefined, true)).toBe('no savings projected (no rule that moves objects to a cheaper class)');
  });
});
