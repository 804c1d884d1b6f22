/**
 * What triggered a budget-guard run: the schedule, the CLI, or an AWS Budgets notification on SNS. Pure.
 * Whatever the trigger, the run re-reads every watched budget with DescribeBudgets: the SNS message only tells which
 * budget prompted it (for the report); its figures are never trusted over the API's.
 */

export type Trigger = 'schedule' | 'sns' | 'cli' | 'unknown';

export interface TriggerInfo {
  readonly trigger: Trigger;
  /** Budget names found in the SNS messages ("Budget Name: …"). */
  readonly budgetNames: readonly string[];
}

interface SnsRecordLike {
  readonly EventSource?: string;
  readonly Sns?: { readonly Message?: string; readonly Subject?: string };
}

/** The budget name in an AWS Budgets notification text ("Budget Name: ml-platform"), if any. */
export function budgetNameFromMessage(message: string): string | undefined {
  const match = /^\s*Budget Name:\s*(.+?)\s*$/im.exec(message);
  if (match?.[1]) return match[1];
  // Some notifications are JSON (e.g. forwarded through EventBridge or a custom publisher).
  try {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    for (const key of ['budgetName', 'BudgetName', 'budget_name']) {
      const v = parsed[key];
      if (typeof v === 'string' && v.length > 0) return v;
    }
  } catch {
    // plain text without a budget name
  }
  return undefined;
}

export function triggerOf(event: unknown): TriggerInfo {
  const e = (event ?? {}) as { Records?: unknown; source?: unknown };
  if (Array.isArray(e.Records)) {
    const names = new Set<string>();
    let sns = false;
    for (const r of e.Records as SnsRecordLike[]) {
      if (!r?.Sns) continue;
      sns = true;
      const name = budgetNameFromMessage(r.Sns.Message ?? '');
      if (name) names.add(name);
    }
    if (sns) return { trigger: 'sns', budgetNames: [...names] };
  }
  if (e.source === 'cost-guard.cli') return { trigger: 'cli', budgetNames: [] };
  if (typeof e.source === 'string' && e.source.endsWith('.schedule')) return { trigger: 'schedule', budgetNames: [] };
  return { trigger: event === undefined ? 'schedule' : 'unknown', budgetNames: [] };
}
