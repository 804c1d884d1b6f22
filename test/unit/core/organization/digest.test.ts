import { labelForAccount } from '../../../../lambda/core/organization/account-label';
import { organizationDigest } from '../../../../lambda/core/organization/digest';
import type { FanOutUnit } from '../../../../lambda/core/organization/fan-out';
import { MAX_REPORT_ACTIONS, type UnitReport, unitReport } from '../../../../lambda/core/organization/unit-report';
import type { ActionRecord, RunSummary } from '../../../../lambda/core/run';
import {
  type Block,
  context,
  header,
  MAX_BLOCKS_PER_MESSAGE,
  MAX_SECTION_TEXT,
  messageToText,
  section,
} from '../../../../lambda/core/slack-blocks';

const AT = '2026-11-15T12:00:00.000Z';
const unit = (accountId: string, region: string, accountName = `acct-${accountId.slice(-1)}`): FanOutUnit => ({
  accountId,
  accountName,
  region,
});
const action = (target: string, monthlySavingsUsd: number, status: ActionRecord['status'] = 'done'): ActionRecord => ({
  capability: 'reaper',
  kind: 'stop',
  target,
  reason: 'idle',
  status,
  at: AT,
  monthlySavingsUsd,
});
const summary = (actions: ActionRecord[], over: Partial<RunSummary> = {}): RunSummary => ({
  capability: 'reaper',
  dryRun: false,
  startedAt: AT,
  actions,
  monthlySavingsUsd: actions.reduce((s, a) => s + (a.monthlySavingsUsd ?? 0), 0),
  apiCalls: {},
  notes: [],
  ...over,
});
const report = (u: FanOutUnit, o: Parameters<typeof unitReport>[1]): UnitReport =>
  unitReport({ ...u, runId: 'run-1', capability: 'reaper' }, o);
const texts = (blocks: readonly Block[]) => blocks.map((b) => messageToText({ text: '', blocks: [b] })).join('\n');

describe('Function: unitReport', () => {
  it('keeps counts, the first actions with target, kind, status and savings, and bounded one-line notes', () => {
    // Prepare
    const many = Array.from({ length: MAX_REPORT_ACTIONS + 5 }, (_, i) => action(`i-${i}`, 1));
    const notes = Array.from({ length: 30 }, (_, i) => `note ${i}\nsecond line ${'x'.repeat(400)}`);
    // Act
    const r = report(unit('111111111111', 'us-east-1'), { summary: summary(many, { notes }), dryRun: false, at: AT });
    // Assess
    expect(r.actions).toHaveLength(MAX_REPORT_ACTIONS);
    expect(r.actionsOmitted).toBe(5);
    expect(r.actionCounts).toEqual({ done: MAX_REPORT_ACTIONS + 5, dryRun: 0, failed: 0 });
    expect(r.actions[0]).toEqual({ target: 'i-0', kind: 'stop', status: 'done', monthlySavingsUsd: 1 });
    expect(r.notes.length).toBeLessThanOrEqual(10);
    expect(r.notes.every((n) => n.length <= 300 && !n.includes('\n'))).toBe(true);
    expect(JSON.stringify(r).length).toBeLessThan(40_000);
  });

  it('is a failed report with its reason when the unit failed, keeping what it did before', () => {
    const r = report(unit('111111111111', 'us-east-1'), {
      summary: summary([action('i-1', 10)]),
      error: 'ThrottlingException: Rate exceeded',
      dryRun: false,
      at: AT,
    });
    expect(r).toMatchObject({ ok: false, reason: 'ThrottlingException: Rate exceeded', monthlySavingsUsd: 10 });
  });
});

describe('Function: organizationDigest', () => {
  const A = '111111111111';
  const B = '222222222222';
  const C = '333333333333';
  const units = [unit(A, 'eu-west-1'), unit(A, 'us-east-1'), unit(B, 'us-east-1'), unit(C, 'us-east-1')];

  it('has a section per account named from Organizations, totals that are the sums of their lines, failures and missing units', () => {
    // Prepare: A acted in two regions (amounts whose rounded lines add up to more than their rounded sum), B failed,
    // C left no report
    const reports = [
      report(units[0]!, { summary: summary([action('i-1', 10), action('i-2', 0.006)]), dryRun: false, at: AT }),
      report(units[1]!, { summary: summary([action('i-3', 0.006)]), dryRun: false, at: AT }),
      report(units[2]!, {
        error: 'cannot assume arn:aws:iam::222222222222:role/ml-cost-guard-spoke (AccessDenied)',
        dryRun: false,
        at: AT,
      }),
    ];
    // Act
    const d = organizationDigest({
      capability: 'reaper',
      runId: 'run-1',
      units,
      reports,
      skippedAccounts: [{ accountId: '444444444444', reason: 'account is suspended, not active' }],
      dryRun: false,
    });
    // Assess
    expect(d.result).toEqual({ units: 4, failedUnits: 1, missingUnits: 1 });
    expect(d.accountCents.get(A)).toBe(1001 + 1);
    expect(d.totalCents).toBe(1002);
    const text = d.messages.map(messageToText).join('\n');
    expect(text).toContain('*acct-1* (111111111111) · $10.02/month');
    expect(text).toContain('eu-west-1: actions: 2 done · $10.01/month');
    expect(text).toContain('us-east-1: actions: 1 done · $0.01/month');
    expect(text).toContain('failed: cannot assume arn:aws:iam::222222222222:role/ml-cost-guard-spoke (AccessDenied)');
    expect(text).toContain('*acct-3* (333333333333) · $0.00/month');
    expect(text).toContain('no report');
    expect(text).toContain('444444444444: account is suspended, not active');
    expect(text).toContain('Actions saved *$10.02/month*');
    expect(d.messages).toHaveLength(1);
  });

  it('escapes every value from AWS: account names, reasons, notes', () => {
    const hostile = '<!channel> *bold* <https://evil.example|click>';
    const d = organizationDigest({
      capability: 'reaper',
      runId: '<!here>',
      units: [unit(A, 'us-east-1', hostile)],
      reports: [report(unit(A, 'us-east-1', hostile), { error: hostile, dryRun: false, at: AT })],
      skippedAccounts: [{ accountId: B, reason: hostile }],
      dryRun: false,
    });
    const raw = JSON.stringify(d.messages);
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<!here>');
    expect(raw).not.toContain('<https://');
    expect(raw).not.toContain('*bold*');
  });

  it('stays within 50 blocks a message and 3,000 characters a section for 300 accounts of 20 regions', () => {
    // Prepare
    const regions = Array.from({ length: 20 }, (_, i) => `region-${i}-with-a-long-name`);
    const big = Array.from({ length: 300 }, (_, i) => String(100000000000 + i)).flatMap((id) =>
      regions.map((r) => unit(id, r, `team ${id} ${'n'.repeat(200)}`)),
    );
    const reports = big.map((u) => report(u, { error: `AccessDenied ${'e'.repeat(290)}`, dryRun: false, at: AT }));
    // Act
    const d = organizationDigest({ capability: 'reaper', runId: 'r', units: big, reports, dryRun: false });
    // Assess
    expect(d.result.failedUnits).toBe(6000);
    for (const m of d.messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
      for (const b of m.blocks)
        if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
      expect(m.text.length).toBeLessThanOrEqual(3000);
    }
    // Every unit's line is somewhere (nothing cut off by a section's limit).
    const all = d.messages.map((m) => texts(m.blocks)).join('\n');
    expect(all.match(/failed: AccessDenied/g)).toHaveLength(6000);
  });
});

describe('Function: labelForAccount', () => {
  const account = { accountId: '111111111111', accountName: 'research <!channel>' };

  it('names the account in the text and in a context line under the header', () => {
    const labelled = labelForAccount({ text: 'digest', blocks: [header('Idle GPUs'), section('body')] }, account);
    expect(labelled.text).toContain('research &lt;!channel&gt;');
    expect(labelled.blocks[1]).toEqual(context('Account *research &lt;!channel&gt;* (111111111111)'));
    expect(labelled.blocks).toHaveLength(3);
  });

  it('adds no block to a message that is already at 50: the label goes into the header', () => {
    const full = { text: 't', blocks: [header('Idle GPUs'), ...Array.from({ length: 49 }, () => section('x'))] };
    const labelled = labelForAccount(full, account);
    expect(labelled.blocks).toHaveLength(50);
    expect(labelled.blocks[0]).toEqual(header('research <!channel> (111111111111) · Idle GPUs'));
  });
});
