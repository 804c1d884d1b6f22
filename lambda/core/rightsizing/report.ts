/**
 * Right-sizing findings as people read them: one line of evidence per instance, the weekly Slack message (top
 * recommendations by dollars, each with its evidence) and the notes of a run. Advice only: nothing here acts. Pure.
 *
 * Instance names, teams and every other value from AWS are escaped for mrkdwn (lambda/core/slack-blocks.ts).
 */
import { formatHourlyUsd, formatUsd } from '../money';
import {
  context,
  divider,
  escapeName,
  fallbackText,
  header,
  type SlackMessage,
  section,
  splitIntoMessages,
} from '../slack-blocks';
import type { Observation } from './observe';
import type { NoteCode, RightsizingInstance, Verdict } from './recommend';

export interface Finding extends RightsizingInstance {
  /** The `Name` tag, when present. */
  readonly name?: string;
  /** The team tag's value (config tags.team), when present. */
  readonly team?: string;
  readonly observation: Observation;
  readonly verdict: Verdict;
}

export type Recommendation = Finding & { readonly verdict: Extract<Verdict, { kind: 'recommend' }> };

export const isRecommendation = (f: Finding): f is Recommendation => f.verdict.kind === 'recommend';

/** Recommendations, most dollars first (then instance ID, so the order is stable). */
export function rankRecommendations(findings: readonly Finding[]): Recommendation[] {
  return findings
    .filter(isRecommendation)
    .sort(
      (a, b) => b.verdict.monthlySavingsUsd - a.verdict.monthlySavingsUsd || a.instanceId.localeCompare(b.instanceId),
    );
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** The evidence in words: "GPU p95 23%, GPU memory peak 9,120 MiB (1 of 8 GPUs in use), CPU p95 12%, 336 h of data". */
export function evidenceText(o: Observation): string {
  const parts = [
    o.gpuUtilizationP95 !== undefined ? `GPU p95 ${fmt(o.gpuUtilizationP95)}%` : 'GPU utilization unknown',
    o.gpuMemoryPeakMiB !== undefined
      ? `GPU memory peak ${Math.round(o.gpuMemoryPeakMiB).toLocaleString('en-US')} MiB (${o.gpusInUse ?? 0} of ${o.gpuSeries} GPUs in use)`
      : 'GPU memory not reported',
    o.cpuP95 !== undefined ? `CPU p95 ${fmt(o.cpuP95)}%` : 'CPU unknown',
    `${o.memoryHours} h of GPU memory data`,
  ];
  return parts.join(', ');
}

/** One line for a terminal or the plan (raw values: not for Slack). */
export function recommendationLine(r: Recommendation, lookbackDays: number): string {
  const v = r.verdict;
  const who = [r.name ? `"${r.name}"` : undefined, r.team ? `team ${r.team}` : undefined].filter(Boolean).join(', ');
  return (
    `${r.instanceId} (${r.region}${who ? `, ${who}` : ''}): ${r.instanceType} -> ${v.targetType} saves ` +
    `${formatUsd(v.monthlySavingsUsd)}/month (${formatHourlyUsd(v.fromHourlyUsd)} -> ${formatHourlyUsd(v.toHourlyUsd)}` +
    `${r.lifecycle === 'spot' ? ', spot' : ''}); ${lookbackDays} days: ${evidenceText(r.observation)}; ${v.reason}`
  );
}

const NOTE_WORDS: Readonly<Record<NoteCode, string>> = {
  'type-not-in-catalog': 'type not in the accelerator table',
  'not-nvidia': 'not an NVIDIA GPU type (AMD, Neuron, Habana)',
  'fractional-gpu': 'a share of one GPU',
  'no-gpu-metrics': 'no per-instance GPU metrics',
  'no-gpu-memory-metric': 'no GPU memory metric (install the CloudWatch agent nvidia_gpu plugin with memory_used)',
  'too-little-data': 'too little GPU memory data in the lookback',
  idle: 'idle (left to the idle GPU reaper)',
  'no-regional-price': 'no price for the type in its region',
  'right-sized': 'no cheaper compatible type covers its peaks',
};

/** Counts of instances without a recommendation, by reason code. */
export function countNotes(findings: readonly Finding[]): Partial<Record<NoteCode, number>> {
  const out: Partial<Record<NoteCode, number>> = {};
  for (const f of findings) if (f.verdict.kind === 'note') out[f.verdict.code] = (out[f.verdict.code] ?? 0) + 1;
  return out;
}

/** "3 instance(s): no GPU memory metric (...)" per reason, for the run's notes and the message. */
export function noteLines(counts: Partial<Record<NoteCode, number>>): string[] {
  return (Object.entries(counts) as [NoteCode, number][])
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${n} instance(s) without a recommendation: ${NOTE_WORDS[code]}`);
}

/** Advice only, and what the advice cannot see. */
export const ADVICE_CAVEAT =
  'Advice only: ml-cost-guard changes nothing. Host memory (RAM), network bandwidth and instance store are not ' +
  'measured: check them before you switch.';

export interface AdviceMessageInput {
  readonly recommendations: readonly Recommendation[];
  /** How many to show. */
  readonly topN: number;
  readonly lookbackDays: number;
  readonly headroomPercent: number;
  readonly noteCounts: Partial<Record<NoteCode, number>>;
  readonly pricingNote: string;
}

/** The weekly message: the top recommendations by dollars with their evidence; none when there is nothing to advise. */
export function adviceMessages(input: AdviceMessageInput): SlackMessage[] {
  const recs = input.recommendations;
  if (recs.length === 0) return [];
  const shown = recs.slice(0, input.topN);
  const total = recs.reduce((s, r) => s + r.verdict.monthlySavingsUsd, 0);
  const title = `ml-cost-guard: GPU right-sizing advice (${recs.length} instance(s), ${formatUsd(total)}/month)`;
  const body = [
    section(
      `*${formatUsd(total)}/month* could be saved by moving ${recs.length} busy but under-used GPU instance(s) to a ` +
        `smaller type that covers their peaks over the last ${input.lookbackDays} days with ` +
        `${fmt(input.headroomPercent)}% headroom.${shown.length < recs.length ? ` The top ${shown.length} by dollars:` : ''}`,
    ),
    divider(),
    ...shown.map((r) => {
      const v = r.verdict;
      const who = [r.name ? escapeName(r.name) : undefined, r.team ? `team ${escapeName(r.team)}` : undefined]
        .filter(Boolean)
        .join(', ');
      return section(
        `*${escapeName(r.instanceId)}*${who ? ` (${who})` : ''} in ${escapeName(r.region)}: ` +
          `\`${escapeName(r.instanceType)}\` → \`${escapeName(v.targetType)}\`, saves *${formatUsd(v.monthlySavingsUsd)}/month* ` +
          `(${formatHourlyUsd(v.fromHourlyUsd)} → ${formatHourlyUsd(v.toHourlyUsd)}${r.lifecycle === 'spot' ? ', spot estimate' : ''})\n` +
          `Evidence: ${escapeName(evidenceText(r.observation))}\n${escapeName(v.reason)}`,
      );
    }),
    ...noteLines(input.noteCounts).map((l) => context(escapeName(l))),
    context(`${ADVICE_CAVEAT} Prices: ${escapeName(input.pricingNote)}.`),
  ];
  return splitIntoMessages(fallbackText(title), [header(title)], body);
}
