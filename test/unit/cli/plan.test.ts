import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliCapability } from '../../../lambda/cli/capabilities';
import { main } from '../../../lambda/cli/main';
import { planCommandFor, renderPlan } from '../../../lambda/cli/plan';
import { Progress, progressText } from '../../../lambda/cli/progress';
import { runCommandFor } from '../../../lambda/cli/run';
import { header } from '../../../lambda/core/slack-blocks';
import type { CapabilityName } from '../../../lambda/runtime/capability';
import { type RunContext, RunIncompleteError, type RunSummary } from '../../../lambda/runtime/context';
import { fakeIO } from '../../helpers/cli-io';

const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBClient);
/** The deployed stack's state table does not exist in this account. */
const noStateTable = () =>
  dynamodb
    .on(DescribeTableCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));

/** A capability that stops one instance through the action runner and posts one message. */
const fakeReaper: CliCapability = {
  name: 'reaper',
  description: 'fake',
  async run(ctx: RunContext): Promise<RunSummary> {
    const effect = jest.fn();
    await ctx.actions.perform(
      {
        capability: 'reaper',
        kind: 'stop',
        target: 'i-0abc',
        region: 'us-east-1',
        reason: 'idle 3 h',
        monthlySavingsUsd: 734.38,
      },
      effect,
    );
    await ctx.notifier.post({ text: 'digest', blocks: [header('digest')] });
    expect(effect).not.toHaveBeenCalled();
    return {
      capability: 'reaper',
      dryRun: ctx.dryRun,
      startedAt: ctx.now.toISOString(),
      actions: ctx.actions.records(),
      monthlySavingsUsd: ctx.actions.totals().monthlySavingsUsd,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: ['1 instance skipped: opt-out tag'],
    };
  },
  formatText: (s) => `reaper: ${s.actions.length} action(s)`,
};
const failing: CliCapability = {
  name: 'budgets',
  description: 'fails',
  run: () => Promise.reject(new Error('budget ml not found')),
  formatText: () => '',
};
const modules = new Map<CapabilityName, CliCapability>([
  ['reaper', fakeReaper],
  ['budgets', failing],
]);

describe('Command: plan', () => {
  beforeEach(() => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
    noStateTable();
  });

  it('runs every capability in dry-run and prints one markdown report with totals', async () => {
    // Prepare
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await planCommandFor(modules)(['--format', 'markdown'], io);
    // Assess
    const text = io.stdout();
    expect(text).toContain('## ml-cost-guard plan (dry-run)');
    expect(text).toContain('| stop | i-0abc (us-east-1) | $734.38/mo | dry-run | idle 3 h |');
    expect(text).toContain('- 1 instance skipped: opt-out tag');
    expect(text).toContain('1 Slack message(s) would be sent');
    expect(text).toContain('**error**: budget ml not found');
    expect(text).toContain('Total: $734.38/month ($8,812.56/year), the sum of the subtotals above; 1 action(s)');
    expect(code).toBe(1);
  });

  it('prints JSON that parses, with the account and each section', async () => {
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1' } });
    await planCommandFor(modules)(['--format', 'json', '--only', 'reaper'], io);
    const report = JSON.parse(io.stdout());
    expect(report.account).toBe('111122223333');
    expect(report.sections).toHaveLength(1);
    expect(report.sections[0].summary.actions[0]).toMatchObject({ status: 'dry-run', target: 'i-0abc' });
    expect(report.totals.monthlySavingsUsd).toBeCloseTo(734.38, 2);
  });

  it('exits 1 with a clear message and no secret when credentials are missing', async () => {
    // Prepare
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }));
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1', AWS_SECRET_ACCESS_KEY: 'SHOULD-NOT-APPEAR' } });
    // Act
    const code = await main(['plan', '--only', 'reaper'], io);
    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toContain('Cannot reach the AWS account (CredentialsProviderError');
    expect(io.stderr()).toContain('AWS_PROFILE');
    expect(io.stderr() + io.stdout()).not.toContain('SHOULD-NOT-APPEAR');
  });

  it('exits 1 naming AWS_REGION when no region is set', async () => {
    const io = fakeIO({ env: {} });
    expect(await main(['plan', '--only', 'reaper'], io)).toBe(1);
    expect(io.stderr()).toContain('set AWS_REGION');
  });

  it.each([
    [
      ['--region', 'us-east1'],
      {},
      "--region 'us-east1' is not an AWS region code (like us-east-1); did you mean us-east-1?",
    ],
    [
      [],
      { AWS_REGION: 'eu-west1' },
      "AWS_REGION 'eu-west1' is not an AWS region code (like us-east-1); did you mean eu-west-1?",
    ],
    [[], { AWS_DEFAULT_REGION: 'uswest-2' }, "AWS_DEFAULT_REGION 'uswest-2' is not an AWS region code"],
  ])('exits 2 on a malformed region (%j, %j) before any AWS call', async (argv, env, message) => {
    // Prepare
    sts.reset();
    const io = fakeIO({ env });
    // Act
    const code = await main(['plan', '--only', 'reaper', ...argv], io);
    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain(message);
    expect(sts.calls()).toHaveLength(0);
  });

  it('goes on with a well-formed region it does not know, warning with the closest known one', async () => {
    // Prepare
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
    noStateTable();
    const io = fakeIO({ env: { AWS_REGION: 'eu-wset-1' } });
    // Act
    await main(['plan', '--only', 'reaper'], io);
    // Assess
    expect(io.stderr()).toContain(
      "warning: AWS_REGION 'eu-wset-1' is not a region this version knows; did you mean eu-west-1? going on with it as given",
    );
    expect(sts.calls().length).toBeGreaterThan(0);
  });

  it.each([
    [['--format', 'xml'], "--format must be table, json or markdown; got 'xml'"],
    [['--only', 'reaper,nope'], "--only: unknown capability 'nope'"],
    [['--bogus'], 'unknown option --bogus'],
    [['--regoin', 'us-east-1'], 'unknown option --regoin; did you mean --region?'],
  ])('rejects %j with a usage error', async (argv, message) => {
    await expect(planCommandFor(modules)(argv, fakeIO())).rejects.toThrow(message);
  });
});

describe('Command: run', () => {
  beforeEach(() => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
    dynamodb.reset();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'ml-cost-guard-state' } });
  });

  it('runs one capability and prints its text report', async () => {
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1' } });
    // The default config is dry-run, so the fake's effect is not called.
    expect(await runCommandFor(modules)(['reaper'], io)).toBe(0);
    expect(io.stdout()).toContain('reaper: 1 action(s)');
  });

  it('prints what a failed run did, then exits 1 with its error', async () => {
    // Prepare: a capability that acted, then could not deliver its digest
    const partial: CliCapability = {
      name: 'reaper',
      description: 'acts then fails',
      async run(ctx: RunContext): Promise<RunSummary> {
        const summary = await fakeReaper.run(ctx);
        throw new RunIncompleteError('Slack refused the digest', summary);
      },
      formatText: (s) => `reaper: ${s.actions.length} action(s), ${s.actions[0]?.status}`,
    };
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await runCommandFor(new Map([['reaper', partial]]))(['reaper'], io);
    // Assess
    expect(code).toBe(1);
    expect(io.stdout()).toContain('reaper: 1 action(s), dry-run');
    expect(io.stderr()).toContain('cost-guard run reaper: Slack refused the digest');
  });

  it('rejects an unknown capability', async () => {
    await expect(runCommandFor(modules)(['nope'], fakeIO())).rejects.toThrow("unknown capability 'nope'");
    await expect(runCommandFor(modules)(['reapr'], fakeIO())).rejects.toThrow(
      "unknown capability 'reapr'; did you mean reaper? choose one of",
    );
  });
});

describe('Function: renderPlan', () => {
  it('renders an aligned table for terminals', () => {
    const text = renderPlan(
      {
        generatedAt: '2026-11-15T12:00:00.000Z',
        sections: [
          {
            capability: 'lifecycle',
            slackMessages: 0,
            subtotal: { monthlyUsd: 0, text: '$0.00/month from the actions above' },
            summary: {
              capability: 'lifecycle',
              dryRun: true,
              startedAt: '',
              actions: [],
              monthlySavingsUsd: 0,
              apiCalls: {},
              notes: [],
            },
          },
        ],
        totals: { actions: 0, monthlySavingsUsd: 0, failed: 0 },
      },
      'table',
    );
    expect(text).toContain('== lifecycle ==');
    expect(text).toContain('No action would be taken.');
    expect(text).toContain('Total: $0.00/month ($0.00/year), the sum of the subtotals above; 0 action(s)');
  });
});

describe('Class: Progress', () => {
  it('writes nothing when stderr is not a terminal', () => {
    const writes: string[] = [];
    const p = new Progress({ errIsTTY: false }, (t) => writes.push(t));
    p.update('scanning');
    p.done();
    expect(writes).toEqual([]);
  });

  it('draws the section, the latest event and the calls sent so far', () => {
    // Prepare
    const writes: string[] = [];
    const p = new Progress({ errIsTTY: true }, (t) => writes.push(t));
    // Act
    p.section('budgets');
    p.event({ kind: 'read', what: 'running instances', count: 1200, region: 'eu-west-1' });
    p.call('EC2.DescribeInstances');
    p.call('EC2.StopInstances');
    p.event({ kind: 'batch', what: 'stop batches for ml', done: 2, total: 5 });
    p.done();
    // Assess
    expect(writes.at(-2)).toContain('budgets · stop batches for ml: 2 of 5 sent · 2 calls, last EC2.StopInstances');
    expect(writes.some((w) => w.includes('1,200 running instances read in eu-west-1'))).toBe(true);
    expect(progressText({ kind: 'region', region: 'us-west-2', index: 2, total: 3 })).toBe('region us-west-2 (2 of 3)');
  });

  it('draws a spinner line and clears it on a terminal', () => {
    const writes: string[] = [];
    const p = new Progress({ errIsTTY: true }, (t) => writes.push(t));
    p.update('scanning us-east-1');
    p.done();
    expect(writes[0]).toContain('scanning us-east-1');
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });
});
