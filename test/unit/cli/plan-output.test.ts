/**
 * What `cost-guard plan` prints for the real capabilities' summaries: names and evidence, dollars that add up,
 * reasons never cut, what was left alone counted (listed with --details), and markdown GitHub renders as meant.
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { CAPABILITIES } from '../../../lambda/cli/capabilities';
import { formatLifecycleText } from '../../../lambda/cli/format/lifecycle';
import { formatReaperText } from '../../../lambda/cli/format/reaper';
import { type PlanReport, type PlanSection, renderPlan, sectionView } from '../../../lambda/cli/plan';
import type { StopOutcome } from '../../../lambda/core/budgets/messages';
import type { BucketReport, LifecycleRunSummary } from '../../../lambda/core/lifecycle/report';
import { countReports, type InstanceReport } from '../../../lambda/core/reaper/report';
import type { RunSummary } from '../../../lambda/core/run';
import type { BudgetsSummary } from '../../../lambda/services/budgets';
import type { ReaperSummary } from '../../../lambda/services/reaper';

const base = { dryRun: true, startedAt: '2026-11-15T12:00:00.000Z', actions: [], apiCalls: {} };

const REPORT_ONLY =
  'idle for 60 min: GPU max 0%, GPU memory 0 MB used, CPU max 0.8%, network 0.1 MB/h; reported only: no Slack ' +
  'token (messages only go to the log), so no warning can be read: the reaper reports and never tags for action or acts';

const instance = (over: Partial<InstanceReport>): InstanceReport => ({
  instanceId: 'i-0p4d',
  region: 'us-east-1',
  instanceType: 'p4d.24xlarge',
  name: 'llm-finetune\u001b[2J|box',
  decision: 'notify',
  code: 'report-only',
  reason: REPORT_ONLY,
  confidence: 'high',
  hourlyUsd: 21.96,
  monthlySavingsUsd: 16_030.8,
  gpuUtilizationMaxPercent: 0,
  gpuMemoryUsedMaxMb: 0,
  cpuMaxPercent: 0.8,
  networkMegabytesPerHour: 0.1,
  ...over,
});

const reaper = (instances: InstanceReport[]): ReaperSummary => ({
  ...base,
  capability: 'reaper',
  monthlySavingsUsd: 0,
  notes: ['Reporting only: no Slack token.'],
  action: 'stop',
  regions: ['us-east-1'],
  instancesScanned: instances.length,
  gpuInstances: instances.length,
  instances,
  skippedByReason: {},
  unknownTypes: [],
  counts: countReports(instances),
  metricQueries: 3,
  slack: { messages: 1, posted: 1 },
});

const FLEET = [
  instance({}),
  instance({
    instanceId: 'i-0g5',
    instanceType: 'g5.xlarge',
    name: 'notebook-alice',
    decision: 'warn',
    code: 'first-detection',
    actAt: '2026-11-15T13:00:00.000Z',
    monthlySavingsUsd: 734.38,
    gpuUtilizationMaxPercent: 1,
    gpuMemoryUsedMaxMb: 410,
    cpuMaxPercent: 2,
    networkMegabytesPerHour: 0.4,
    reason: 'idle for 60 min: GPU max 1%, GPU memory 410 MB used, CPU max 2%, network 0.4 MB/h',
  }),
  instance({ instanceId: 'i-opt1', name: 'keep-me', decision: 'skip', code: 'opt-out', reason: 'opted out' }),
  instance({ instanceId: 'i-opt2', name: undefined, decision: 'skip', code: 'opt-out', reason: 'opted out' }),
  instance({ instanceId: 'i-asg', name: 'worker', decision: 'skip', code: 'auto-scaling-group', reason: 'ASG' }),
  instance({ instanceId: 'i-busy', name: 'train', decision: 'busy', code: 'gpu-busy', reason: 'GPU max 97%' }),
];

const bucket = (name: string, over: Partial<BucketReport>): BucketReport => ({
  bucket: name,
  region: 'us-east-1',
  selectedBy: ['tag'],
  decision: 'would-change',
  rulesBefore: [],
  rulesAfter: [],
  diff: [{ change: 'added', ruleId: 'cost-guard-experiment-artifacts' } as BucketReport['diff'][number]],
  diffText: ['+ cost-guard-experiment-artifacts experiments/: STANDARD_IA day 30 -> GLACIER_IR day 90'],
  conflicts: [],
  errors: [],
  notices: [],
  ...over,
});

const lifecycle = (buckets: BucketReport[]): LifecycleRunSummary => ({
  ...base,
  capability: 'lifecycle',
  monthlySavingsUsd: 0,
  notes: [],
  buckets,
  bucketsScanned: buckets.length,
  bucketsChanged: 0,
  conflicts: 0,
  projectedMonthlySavingsUsd: 0,
  projectedMonthlySavingsHighUsd: 0,
  tagReadFailures: [],
  slackMessages: 0,
});

const BUCKETS = [
  bucket('acme-ml-artifacts', {
    sizeKnown: true,
    projection: {
      standardGb: 60_000,
      monthlySavingsUsd: 951.284,
      lowUsd: 951.284,
      highUsd: 951.284,
      basisRuleId: 'cost-guard-experiment-artifacts',
      method: 'm',
    },
    notices: ['no TransitionDefaultMinimumObjectSize on the bucket'],
  }),
  bucket('acme-new-bucket', { sizeKnown: false, notices: ['no TransitionDefaultMinimumObjectSize on the bucket'] }),
  bucket('acme-done', { decision: 'unchanged', diff: [], diffText: [] }),
  bucket('acme-logs', {
    decision: 'protected',
    protection: [{ kind: 'log-destination', message: 'CloudTrail writes to it' }],
    diff: [],
    diffText: [],
    conflicts: [
      {
        ruleId: 'cost-guard-logs',
        prefix: 'logs/',
        userRuleId: 'keep',
        userPrefix: '',
        message: 'rule keep covers logs/',
      },
    ],
  }),
];

const stop = (over: Partial<StopOutcome>): StopOutcome => ({
  instanceId: 'i-0bud',
  name: 'batch-7',
  region: 'us-east-1',
  instanceType: 'g5.2xlarge',
  hourlyUsd: 1.212,
  monthlyUsd: 884.76,
  status: 'dry-run',
  ...over,
});

const budgets = (stops: StopOutcome[]): BudgetsSummary => ({
  ...base,
  capability: 'budgets',
  monthlySavingsUsd: 0,
  notes: ['ml-platform: action-95 alert (dry run) at 96.0% of the limit'],
  trigger: 'schedule',
  notifiedBudgets: [],
  deduplicated: true,
  mode: 'dry-run',
  budgets: [
    {
      name: 'ml-platform',
      problems: [],
      period: '2026-11',
      daysLeft: 16,
      limitUsd: 1000,
      actualUsd: 960,
      percentUsed: 96,
      crossed: ['alert-80', 'action-95'],
      alerted: ['alert-80', 'action-95'],
      alreadySent: [],
      inFlight: [],
      deliveryFailed: [],
      stops,
      skipped: { essential: 2, 'opt-out': 1 },
      skippedIds: { essential: ['i-0ess1 (db-train)', 'i-0ess2'], 'opt-out': ['i-0opt'] },
    },
  ],
  alertsSent: 0,
  instancesStopped: 0,
  deliveryFailures: 0,
});

const BUDGET_STOPS = [stop({}), stop({ instanceId: 'i-0bud2', name: undefined, hourlyUsd: 0.526, monthlyUsd: 383.98 })];

function section(capability: PlanSection['capability'], summary: RunSummary): PlanSection {
  return {
    capability,
    summary,
    slackMessages: 1,
    subtotal: sectionView(summary, CAPABILITIES.get(capability)).subtotal,
  };
}

function planOf(sections: PlanSection[]): PlanReport {
  const cents = sections.reduce((n, s) => n + Math.round(s.subtotal.monthlyUsd * 100), 0);
  return {
    account: '111122223333',
    generatedAt: '2026-11-15T12:00:00.000Z',
    sections,
    totals: { actions: 0, monthlySavingsUsd: cents / 100, failed: 0 },
  };
}

const REPORT = planOf([
  section('reaper', reaper(FLEET)),
  section('lifecycle', lifecycle(BUCKETS)),
  section('budgets', budgets(BUDGET_STOPS)),
]);

const render = (format: 'table' | 'markdown', width = 100, details = false) =>
  renderPlan(REPORT, format, { modules: CAPABILITIES, width, details });

/** The dollars of the $/MONTH cells of a section's markdown table. */
function monthlyCells(tokens: Token[], sectionTitle: string): number[] {
  const start = tokens.findIndex((t) => t.type === 'heading' && (t as Tokens.Heading).text === sectionTitle);
  const table = tokens.slice(start).find((t) => t.type === 'table') as Tokens.Table;
  const column = table.header.findIndex((h) => h.text === '$/MONTH');
  return table.rows
    .map((r) => /\$([\d,]+\.\d{2})/.exec(r[column]!.text)?.[1])
    .filter((v): v is string => v !== undefined)
    .map((v) => Math.round(Number(v.replace(/,/g, '')) * 100));
}

const subtotalCents = (text: string, title: string): number => {
  const after = text.slice(text.indexOf(title));
  const m = /Subtotal: ~?\$([\d,]+\.\d{2})\/month/.exec(after)!;
  return Math.round(Number(m[1]!.replace(/,/g, '')) * 100);
};

describe('Function: renderPlan (capability sections)', () => {
  it('shows each idle instance with its Name, evidence, decision and dollars, and a subtotal that adds up', () => {
    // Act
    const text = render('table');
    const reaperPart = text.slice(text.indexOf('== reaper =='), text.indexOf('== lifecycle =='));
    // Assess
    expect(reaperPart).toMatch(/INSTANCE\s+NAME\s+TYPE \/\s/);
    expect(reaperPart).toMatch(/GPU\s+GPU MEM\s+CPU\s+NET MB\/h\s+DECISION\s+\$\/MONTH/);
    expect(reaperPart).toMatch(/i-0p4d\s+llm-finetune\s/);
    expect(reaperPart).toContain('[2J|box');
    expect(reaperPart).not.toContain('\u001b');
    expect(reaperPart).toMatch(/0%\s+0 MB\s+0\.8%\s+0\.1\s+report only\s+\$16,030\.80/);
    expect(reaperPart).toMatch(
      /i-0g5\s+notebook-alice\s+g5\.xlarge\s+1%\s+410 MB\s+2%\s+0\.4\s+warn, then stop\s+\$734\.38/,
    );
    expect(reaperPart).toContain('Subtotal: $16,765.18/month would be saved if acted on');
    expect(reaperPart).not.toContain('$0.00/month');
  });

  it('never cuts a reason, and wraps every line within the terminal width', () => {
    for (const width of [80, 100, 120]) {
      const text = render('table', width);
      for (const line of text.split('\n')) {
        expect(line.length).toBeLessThanOrEqual(width);
      }
      const flat = text.replace(/\s+/g, ' ');
      expect(flat).toContain(REPORT_ONLY);
    }
  });

  it('counts what was left alone by reason, and lists it with --details', () => {
    const text = render('table').replace(/\s+/g, ' ');
    expect(text).toContain(
      'Not acted on (4): 2 opted out, 1 in an Auto Scaling group, 1 busy (GPU above the threshold) (--details lists them)',
    );
    expect(text).not.toContain('i-opt1');
    const detailed = render('table', 100, true);
    expect(detailed).toContain('\n  opted out: i-opt1 (keep-me), i-opt2\n');
    expect(detailed).toContain('\n  busy (GPU above the threshold): i-busy (train)\n');
    expect(detailed).toContain(
      '\n  cost-guard-logs not added (a bucket rule covers its prefix): acme-logs (rule keep)\n',
    );
    expect(detailed).toContain('Bucket notices (2): 2 no TransitionDefaultMinimumObjectSize on the bucket\n');
    // The budget guard's skipped instances are named too.
    expect(text).not.toContain('i-0ess1');
    expect(detailed).toContain('\n  tagged essential: i-0ess1 (db-train), i-0ess2\n');
    expect(detailed).toContain(
      '\n  no TransitionDefaultMinimumObjectSize on the bucket: acme-ml-artifacts, acme-new-bucket\n',
    );
  });

  it('labels a bucket without size metrics "no size data" and leaves it out of the figures', () => {
    const text = render('table');
    const part = text.slice(text.indexOf('== lifecycle =='), text.indexOf('== budgets =='));
    expect(part).toMatch(/acme-new-bucket\s.*no size data/);
    expect(part).not.toMatch(/price unknown|acme-new-bucket.*\$0\.00/);
    expect(part).toContain('Subtotal: ~$951.28/month projected once the rules apply; 1 bucket: no size data');
    expect(part).toContain('Not changed (2): 1 already up to date, 1 protected: CloudTrail writes to it');
    expect(part).toContain('Conflicts (1): 1 cost-guard-logs not added (a bucket rule covers its prefix)');
  });

  it('names each instance the budget guard would stop', () => {
    const text = render('table');
    const part = text.slice(text.indexOf('== budgets =='));
    expect(part).toMatch(/i-0bud\s+batch-7\s/);
    expect(part).toContain('Subtotal: $1,268.74/month would be saved (dry run)');
    expect(part).toContain('Not stopped (3): 2 tagged essential, 1 opted out');
  });

  it('adds the subtotals up to the total', () => {
    const text = render('table');
    expect(text.replace(/\s+/g, ' ')).toContain(
      'Total: $18,985.20/month ($227,822.40/year), the sum of the subtotals above',
    );
    expect(REPORT.totals.monthlySavingsUsd).toBeCloseTo(16_765.18 + 951.28 + 1268.74, 2);
  });

  it('renders markdown GitHub reads as tables that end where they should, each subtotal the sum of its rows', () => {
    // Act
    const md = render('markdown', 100, true);
    const tokens = Lexer.lex(md);
    // Assess: one table per section, none swallowing the paragraph after it
    const tables = tokens.filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables).toHaveLength(3);
    for (const t of tables) {
      for (const row of t.rows) expect(row).toHaveLength(t.header.length);
      for (const row of t.rows) expect(row.map((c) => c.text).join(' ')).not.toMatch(/Subtotal|Not acted on|^- /);
    }
    const [reaperTable, lifecycleTable, budgetsTable] = tables;
    expect(reaperTable!.rows).toHaveLength(2);
    expect(lifecycleTable!.rows).toHaveLength(2);
    expect(budgetsTable!.rows).toHaveLength(2);
    // A name with a pipe stays in its cell; the control character is gone.
    expect(reaperTable!.rows[0]![1]!.text).toBe('llm-finetune \\[2J|box');
    for (const title of ['reaper', 'budgets']) {
      const cells = monthlyCells(tokens, title);
      expect(cells.reduce((a, b) => a + b, 0)).toBe(subtotalCents(md, `### ${title}`));
    }
    expect(md).toContain('_Subtotal: $16,765.18/month would be saved if acted on; 1 Slack message(s) would be sent_');
  });
});

describe('Function: formatReaperText', () => {
  it('prints the same table as the plan, with the same words for its figure', () => {
    const text = formatReaperText(reaper(FLEET), { width: 100 });
    expect(text).toMatch(/i-0g5\s+notebook-alice/);
    expect(text).toContain('Subtotal: $16,765.18/month would be saved if acted on');
  });

  it('in a real run: each figure of the subtotal is the sum of the rows of that kind', () => {
    // Prepare: two stopped, one warned, one whose stop failed
    const run = reaper([
      instance({ decision: 'act', code: 'grace-passed', action: { kind: 'stop', status: 'done' } }),
      instance({
        instanceId: 'i-0g5a',
        instanceType: 'g5.xlarge',
        decision: 'act',
        monthlySavingsUsd: 734.384,
        action: { kind: 'stop', status: 'done' },
      }),
      instance({ instanceId: 'i-0g5b', decision: 'warn', monthlySavingsUsd: 734.384, actAt: '2026-11-15T13:00:00Z' }),
      instance({ instanceId: 'i-0g5c', decision: 'act', action: { kind: 'stop', status: 'failed', errorCode: 'X' } }),
    ]);
    // Act
    const text = formatReaperText({ ...run, dryRun: false }, { width: 120 });
    // Assess
    const cell = (id: string) => new RegExp(`${id}\\s.*?\\s(\\$[\\d,]+\\.\\d{2}|—)\\n`).exec(text)![1];
    expect([cell('i-0p4d'), cell('i-0g5a'), cell('i-0g5b'), cell('i-0g5c')]).toEqual([
      '$16,030.80',
      '$734.38',
      '$734.38',
      '—',
    ]);
    expect(text).toContain(
      'Subtotal: $16,765.18/month saved; $734.38/month would be saved if acted on (together $17,499.56/month)',
    );
  });
});

describe('Function: formatLifecycleText', () => {
  it('says "no size data" for a bucket without size metrics, and leaves it out of the figure', () => {
    const text = formatLifecycleText(lifecycle(BUCKETS));
    expect(text).toContain('Savings: ~$951.28/month projected; 1 bucket: no size data');
    expect(text).toMatch(/acme-new-bucket \(us-east-1\): would-change\n.*\n {2}savings: no size data/);
    expect(text).not.toMatch(/price unknown|\$0\.00/);
  });
});
