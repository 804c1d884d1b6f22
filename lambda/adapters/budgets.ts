/**
 * AWS Budgets adapter: DescribeBudgets (all pages, for the account) mapped to plain data that the
 * pure policy (lambda/core/budgets) judges. Budgets is a global service served from us-east-1.
 */
import { type Budget, type BudgetsClient, paginateDescribeBudgets, type Spend } from '@aws-sdk/client-budgets';
import type { BudgetSnapshot, Spend as PlainSpend } from '../core/budgets/policy';

/** The page size DescribeBudgets allows (1-1000); 100 keeps a page small. */
const PAGE_SIZE = 100;

function spend(s: Spend | undefined): PlainSpend | undefined {
  if (!s || s.Amount === undefined || s.Unit === undefined) return undefined;
  const amount = s.Amount.trim() === '' ? Number.NaN : Number(s.Amount);
  return { amount, unit: s.Unit };
}

const iso = (d: Date | undefined) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined);

/** Planned limits are keyed by the period start in epoch seconds ("1541030400"); keys become ISO strings. */
function plannedLimits(planned: Record<string, Spend> | undefined): Record<string, PlainSpend> | undefined {
  if (!planned) return undefined;
  const out: Record<string, PlainSpend> = {};
  for (const [key, value] of Object.entries(planned)) {
    const seconds = Number(key);
    const s = spend(value);
    if (Number.isFinite(seconds) && s) out[new Date(seconds * 1000).toISOString()] = s;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** One budget as plain data: limit, actual and forecast spend, time period and unit. */
export function toSnapshot(b: Budget): BudgetSnapshot {
  const limit = spend(b.BudgetLimit);
  const planned = plannedLimits(b.PlannedBudgetLimits);
  const actual = spend(b.CalculatedSpend?.ActualSpend);
  const forecast = spend(b.CalculatedSpend?.ForecastedSpend);
  const start = iso(b.TimePeriod?.Start);
  const end = iso(b.TimePeriod?.End);
  return {
    name: b.BudgetName ?? '',
    ...(b.BudgetType ? { budgetType: b.BudgetType } : {}),
    ...(b.TimeUnit ? { timeUnit: b.TimeUnit } : {}),
    ...(limit ? { limit } : {}),
    ...(planned ? { plannedLimits: planned } : {}),
    ...(actual ? { actual } : {}),
    ...(forecast ? { forecast } : {}),
    ...(start ? { periodStart: start } : {}),
    ...(end ? { periodEnd: end } : {}),
  };
}

/** Every budget of the account, page by page. */
export async function describeAllBudgets(client: BudgetsClient, accountId: string): Promise<BudgetSnapshot[]> {
  const out: BudgetSnapshot[] = [];
  for await (const page of paginateDescribeBudgets({ client, pageSize: PAGE_SIZE }, { AccountId: accountId })) {
    for (const b of page.Budgets ?? []) if (b.BudgetName) out.push(toSnapshot(b));
  }
  return out;
}

export interface WatchedBudgets {
  /** Found budgets by name. */
  readonly found: ReadonlyMap<string, BudgetSnapshot>;
  /** Watched names DescribeBudgets did not return. */
  readonly missing: readonly string[];
}

/** The watched budgets among the account's budgets; a name that is not there is reported in `missing`. */
export async function readWatchedBudgets(
  client: BudgetsClient,
  accountId: string,
  names: readonly string[],
): Promise<WatchedBudgets> {
  if (names.length === 0) return { found: new Map(), missing: [] };
  const all = await describeAllBudgets(client, accountId);
  const wanted = new Set(names);
  const found = new Map(all.filter((b) => wanted.has(b.name)).map((b) => [b.name, b] as const));
  return { found, missing: names.filter((n) => !found.has(n)) };
}
