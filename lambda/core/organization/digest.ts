/**
 * The organization digest: one Slack message (split into parts past Slack's 50 blocks) per run of a capability over
 * the organization, posted by the fan-out's digest step to `slack.channel`. One section per account, named as
 * Organizations names it, with one line per unit (region): what it did and its monthly savings, or why it failed, or
 * that it left no report. Accounts the config names that were not guarded are listed with their reason. Pure.
 *
 * Figures: every line's savings is rounded to the cent first; an account's total is the sum of its lines and the
 * organization's the sum of the accounts', so what the reader adds up is what the digest says. Every value from AWS
 * (account names, reasons, notes) is escaped; sections stay within 3,000 characters (an account with many regions
 * takes several sections, kept together), and the message within 50 blocks a part.
 */
import { formatUsd } from '../money';
import {
  type Block,
  type BlockGroup,
  context,
  divider,
  escapeMrkdwn,
  escapeName,
  header,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitGroups,
} from '../slack-blocks';
import type { DigestResult, FanOutUnit, TargetsResult } from './fan-out';
import type { UnitReport } from './unit-report';

const NAMES: Readonly<Record<string, string>> = {
  reaper: 'Idle GPU reaper',
  sagemaker: 'SageMaker guard',
  rightsizing: 'GPU rightsizing',
  lifecycle: 'Storage lifecycle',
};

/** Skipped accounts listed in the digest (the rest are counted). */
const MAX_SKIPPED_LINES = 40;

export interface OrganizationDigestInput {
  readonly capability: string;
  readonly runId: string;
  /** The run's units, as the targets step listed them. */
  readonly units: readonly FanOutUnit[];
  /** The reports the units stored (any order; a unit with none is missing). */
  readonly reports: readonly UnitReport[];
  readonly skippedAccounts?: TargetsResult['skippedAccounts'];
  readonly dryRun: boolean;
}

/** A unit as the digest shows it: its line and its savings in cents. */
interface UnitLine {
  readonly unit: FanOutUnit;
  readonly report?: UnitReport;
  readonly cents: number;
}

const unitKey = (u: Pick<FanOutUnit, 'accountId' | 'region'>) => `${u.accountId}#${u.region}`;
const centsOf = (usd: number): number => (Number.isFinite(usd) ? Math.round(usd * 100) : 0);
const usdOf = (cents: number): string => formatUsd(cents / 100);

/** What a unit did, in a few words: the capability's non-zero counts, else its actions by status. */
function didText(r: UnitReport): string {
  const counts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${escapeName(k)}`);
  if (counts.length > 0) return counts.join(', ');
  const a = r.actionCounts;
  const parts = [
    ...(a.done > 0 ? [`${a.done} done`] : []),
    ...(a.dryRun > 0 ? [`${a.dryRun} would act`] : []),
    ...(a.failed > 0 ? [`${a.failed} failed`] : []),
  ];
  return parts.length > 0 ? `actions: ${parts.join(', ')}` : 'nothing to do';
}

function lineText(l: UnitLine): string {
  const region = escapeName(l.unit.region);
  const money = l.cents !== 0 ? ` · ${usdOf(l.cents)}/month` : '';
  if (!l.report) return `• ${region}: :grey_question: no report (the unit failed or timed out before storing one)`;
  if (!l.report.ok) {
    const acted =
      l.report.actionCounts.done + l.report.actionCounts.dryRun > 0 ? `; before that: ${didText(l.report)}` : '';
    return `• ${region}: :x: failed: ${escapeMrkdwn(l.report.reason ?? 'unknown error')}${acted}${money}`;
  }
  return `• ${region}: ${didText(l.report)}${money}`;
}

/** Lines into sections of at most MAX_SECTION_TEXT characters (an account's sections stay together). */
function sectionsOf(title: string, lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let text = title;
  for (const line of lines) {
    const next = `${text}\n${line}`;
    if (next.length > MAX_SECTION_TEXT && text !== title) {
      blocks.push(section(text));
      text = `${title} (continued)\n${line}`;
    } else text = next;
  }
  blocks.push(section(text));
  return blocks;
}

export interface OrganizationDigest {
  readonly messages: SlackMessage[];
  readonly result: DigestResult;
  /** The organization's total in cents: the sum of the accounts' totals, each the sum of its lines. */
  readonly totalCents: number;
  /** Each account's total in cents, by account ID. */
  readonly accountCents: ReadonlyMap<string, number>;
}

/** The organization digest of one run, and the counts its state machine decides on. */
export function organizationDigest(input: OrganizationDigestInput): OrganizationDigest {
  const byUnit = new Map(input.reports.map((r) => [unitKey(r), r]));
  const accounts = new Map<string, { name: string; lines: UnitLine[] }>();
  for (const unit of input.units) {
    const report = byUnit.get(unitKey(unit));
    const account = accounts.get(unit.accountId) ?? { name: unit.accountName, lines: [] };
    account.lines.push({ unit, ...(report ? { report } : {}), cents: report ? centsOf(report.monthlySavingsUsd) : 0 });
    accounts.set(unit.accountId, account);
  }
  const failedUnits = input.units.filter((u) => byUnit.get(unitKey(u))?.ok === false).length;
  const missingUnits = input.units.filter((u) => !byUnit.has(unitKey(u))).length;
  const accountCents = new Map<string, number>();
  for (const [id, a] of accounts)
    accountCents.set(
      id,
      a.lines.reduce((s, l) => s + l.cents, 0),
    );
  const totalCents = [...accountCents.values()].reduce((s, c) => s + c, 0);

  const name = NAMES[input.capability] ?? input.capability;
  const title = `ml-cost-guard: ${name} across the organization${input.dryRun ? ' (dry run)' : ''}`;
  const saved = input.dryRun ? 'would save' : 'saved';
  const problems = failedUnits + missingUnits;
  const summary =
    `*${accounts.size} account(s)*, ${input.units.length} unit(s): ` +
    (problems === 0 ? 'all ran.' : `*${failedUnits} failed*, *${missingUnits} left no report*.`) +
    ` Actions ${saved} *${usdOf(totalCents)}/month*.`;
  const groups: BlockGroup[] = [];
  const ordered = [...accounts].sort(([ia, a], [ib, b]) => a.name.localeCompare(b.name) || ia.localeCompare(ib));
  for (const [id, a] of ordered) {
    const bad = a.lines.filter((l) => !l.report?.ok).length;
    const accountTitle =
      `*${escapeName(a.name)}* (${escapeName(id)}) · ${usdOf(accountCents.get(id) ?? 0)}/month` +
      (bad > 0 ? ` · :warning: ${bad} unit(s) failed or missing` : '');
    groups.push(sectionsOf(accountTitle, a.lines.map(lineText)));
  }
  const skipped = input.skippedAccounts ?? [];
  if (skipped.length > 0) {
    const shown = skipped
      .slice(0, MAX_SKIPPED_LINES)
      .map((s) => `• ${escapeName(s.accountId)}: ${escapeMrkdwn(s.reason)}`);
    const more = skipped.length > shown.length ? [`…and ${skipped.length - shown.length} more`] : [];
    groups.push(sectionsOf(`*Not guarded* (${skipped.length} account(s) named in the config)`, [...shown, ...more]));
  }
  const head = [header(title), section(summary), divider()];
  const foot = context(
    `Run ${escapeName(input.runId)}. Savings are monthly run-rates from the savings model; an account's figure is the sum of its regions'.`,
  );
  const plan = splitGroups(`${title}: ${accounts.size} account(s), ${usdOf(totalCents)}/month`, head, [
    ...groups,
    [foot],
  ]);
  return {
    messages: plan.messages,
    result: { units: input.units.length, failedUnits, missingUnits },
    totalCents,
    accountCents,
  };
}
