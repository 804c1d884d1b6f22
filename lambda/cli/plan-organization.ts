/**
 * `cost-guard plan --organization`: the dry-run plan in every target account of the AWS Organization, from a laptop
 * with the management account's (or a delegated administrator's) credentials. The accounts come from Organizations
 * (the config's `accounts` selection, or `--ou` / `--accounts`); in each, the spoke role is assumed (the caller's own
 * account uses its own credentials) and every fan-out capability runs its plan section once per (account, region)
 * unit — the same section the single-account plan runs — at most `--concurrency` units at a time. An account whose
 * role cannot be assumed, or a unit that fails, is reported with its reason and never stops the others.
 *
 * Dry-run as the single-account plan: no lease, no write, no Slack post (messages are counted).
 */
import type { ClientFactory } from '../adapters/clients';
import { describeAccountFailure, listTargetAccounts, type TargetSelection } from '../adapters/organizations';
import { ACCOUNT_ID, type CostGuardConfig, OU_ID } from '../core/config';
import {
  FAN_OUT_CAPABILITIES,
  type FanOutUnit,
  isFanOutCapability,
  type TargetAccount,
  unitReason,
  unitsFor,
} from '../core/organization/fan-out';
import type { CapabilityName } from '../runtime/capability';
import type { RunContext } from '../runtime/context';
import { SpokeClients } from '../runtime/spoke';
import { mapWithConcurrency } from '../shared/concurrency';
import { AwsAccessError, errorCode, errorMessage } from '../shared/errors';
import type { CliCapability } from './capabilities';
import { UsageError } from './io';
import { type PlanSection, planSection, type SlackLookup } from './plan-section';

/** One unit of the organization plan: a capability's plan section in one account and region. */
export interface PlanUnit extends FanOutUnit {
  readonly capability: CapabilityName;
}

/** A unit's outcome: its section, or why it has none (the spoke role could not be assumed…). */
export interface UnitPlan extends PlanUnit {
  readonly ok: boolean;
  /** Why the unit failed, one line (as the organization digest shows it). */
  readonly reason?: string;
  readonly section?: PlanSection;
}

/** One row of the account table. */
export interface AccountPlan {
  readonly accountId: string;
  readonly name: string;
  readonly regions: readonly string[];
  /** GPU instances found (the most any capability counted); undefined when no unit read them. */
  readonly gpuInstances?: number;
  /** SageMaker endpoints found; undefined when no unit read them. */
  readonly endpoints?: number;
  /** Action records the plan would produce (stops, terminations, warnings' tags, deletions…). */
  readonly actions: number;
  /** The sum of the account's section subtotals, from the savings model. */
  readonly monthlySavingsUsd: number;
  readonly status: 'planned' | 'failed' | 'partly failed';
  /** The distinct reasons of the failed units. */
  readonly reasons?: readonly string[];
  readonly units: number;
  readonly failedUnits: number;
}

export interface OrganizationPlanReport {
  readonly mode: 'organization';
  /** The caller's account (the hub): its units use the caller's own credentials. */
  readonly hubAccount?: string;
  readonly generatedAt: string;
  /** Names the spoke-role sessions in the accounts' CloudTrail. */
  readonly runId: string;
  /** Shared problems (a missing state table, no account to plan): the plan then exits 1. */
  readonly problems?: readonly string[];
  readonly slack: SlackLookup;
  readonly capabilities: readonly CapabilityName[];
  readonly concurrency: number;
  readonly accounts: readonly AccountPlan[];
  /** Accounts the selection names that are not planned (suspended, not in the organization), each with why. */
  readonly skippedAccounts: readonly { readonly accountId: string; readonly reason: string }[];
  readonly units: readonly UnitPlan[];
  /** `monthlySavingsUsd` is the sum of the accounts' figures. */
  readonly totals: {
    readonly accounts: number;
    readonly failedAccounts: number;
    readonly units: number;
    readonly failedUnits: number;
    readonly actions: number;
    readonly monthlySavingsUsd: number;
  };
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * The accounts to plan: `--ou` / `--accounts` when either is given (they replace the config's OUs and account IDs),
 * else the config's `accounts` selection, whatever its mode; `accounts.exclude` always applies. A UsageError when
 * nothing names an account or a value is malformed.
 */
export function targetSelection(
  accounts: CostGuardConfig['accounts'],
  flags: { readonly ou?: string; readonly accounts?: string },
  usage: string,
): TargetSelection {
  const ous = flags.ou !== undefined ? list(flags.ou) : undefined;
  const ids = flags.accounts !== undefined ? list(flags.accounts) : undefined;
  for (const ou of ous ?? []) {
    if (!OU_ID.test(ou)) {
      throw new UsageError(`--ou: '${ou}' is not an OU ID (ou-xxxx-yyyyyyyy) or the root ID (r-xxxx)`, usage);
    }
  }
  for (const id of ids ?? []) {
    if (!ACCOUNT_ID.test(id)) throw new UsageError(`--accounts: '${id}' is not a 12-digit AWS account ID`, usage);
  }
  const fromFlags = ous !== undefined || ids !== undefined;
  const selection = {
    organizationalUnitIds: fromFlags ? (ous ?? []) : accounts.organizationalUnitIds,
    accountIds: fromFlags ? (ids ?? []) : accounts.accountIds,
    exclude: accounts.exclude,
  };
  if (selection.organizationalUnitIds.length === 0 && selection.accountIds.length === 0) {
    throw new UsageError(
      fromFlags
        ? '--ou / --accounts name no account'
        : '--organization: the config names no account to plan; set accounts.organizationalUnitIds or accounts.accountIds, or pass --ou ou-… / --accounts ID,ID',
      usage,
    );
  }
  return selection;
}

/** `--concurrency N` (1 to 100), else accounts.concurrency. */
export function concurrencyOf(flag: string | undefined, configured: number, usage: string): number {
  if (flag === undefined) return configured;
  const n = /^\d+$/.test(flag) ? Number(flag) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 100; got '${flag}'`, usage);
  }
  return n;
}

/**
 * The capabilities the organization plan runs: the fan-out ones (`--only` may pick among them). The budget guard
 * runs in the hub account only (a payer budget covers its linked accounts): plan it without --organization.
 */
export function organizationCapabilities(
  only: readonly string[] | undefined,
  modules: ReadonlyMap<CapabilityName, CliCapability>,
  usage: string,
): CapabilityName[] {
  const fanOut: CapabilityName[] = [...modules.keys()].filter((n) => isFanOutCapability(n));
  if (!only) return fanOut;
  for (const n of only) {
    if (!fanOut.includes(n as CapabilityName)) {
      const hubOnly = modules.has(n as CapabilityName)
        ? ` (${n} runs in the hub account only: plan it without --organization)`
        : '';
      throw new UsageError(
        `--only: '${n}' is not planned per account${hubOnly}; with --organization choose from ${FAN_OUT_CAPABILITIES.filter((c) => modules.has(c)).join(', ')}`,
        usage,
      );
    }
  }
  return only as CapabilityName[];
}

/**
 * The active accounts of the selection, from Organizations. Access denied: the caller is neither the management
 * account nor a delegated administrator, said as an AwsAccessError (exit 1).
 */
export async function listPlanAccounts(clients: ClientFactory, selection: TargetSelection) {
  try {
    return await listTargetAccounts(clients.organizations(), selection);
  } catch (error) {
    throw new AwsAccessError(
      `Cannot list the organization's accounts (${errorCode(error)}: ${errorMessage(error)}); run with credentials of the management account or of a delegated administrator for AWS Organizations.`,
      { cause: error },
    );
  }
}

/** Every unit: account by account (in ID order), then capability, then region (the lifecycle: the home region). */
export function organizationUnits(
  capabilities: readonly CapabilityName[],
  accounts: readonly TargetAccount[],
  regions: readonly string[],
  homeRegion: string,
): PlanUnit[] {
  const units = capabilities.flatMap((capability) =>
    isFanOutCapability(capability)
      ? unitsFor(capability, accounts, regions, homeRegion).map((u) => ({ ...u, capability }))
      : [],
  );
  const order = new Map(capabilities.map((c, i) => [c, i]));
  return units.sort(
    (a, b) =>
      a.accountId.localeCompare(b.accountId) ||
      order.get(a.capability)! - order.get(b.capability)! ||
      a.region.localeCompare(b.region),
  );
}

export interface OrganizationPlanRun {
  /** The hub's run context (the caller's credentials, prices, state table, clock). */
  readonly base: RunContext;
  readonly modules: ReadonlyMap<CapabilityName, CliCapability>;
  readonly units: readonly PlanUnit[];
  readonly slack: SlackLookup;
  readonly concurrency: number;
  readonly runId: string;
  /** Called as each unit ends, in the order they end. */
  readonly onUnitDone?: (unit: UnitPlan, done: number, total: number) => void;
}

/**
 * Runs every unit's plan section, at most `concurrency` at a time, and returns their outcomes in unit order. The
 * spoke role is assumed once per account (a refusal fails that account's units with its reason, without asking
 * again); nothing a unit throws stops the others.
 */
export async function runOrganizationPlan(o: OrganizationPlanRun): Promise<UnitPlan[]> {
  const { progress: _, ...base } = o.base;
  const spokes = new SpokeClients(base, { capability: 'plan', runId: o.runId });
  const assumed = new Map<string, Promise<ClientFactory>>();
  const clientsOf = (accountId: string): Promise<ClientFactory> => {
    let clients = assumed.get(accountId);
    if (!clients) {
      clients = spokes.forAccount(accountId);
      clients.catch(() => undefined);
      assumed.set(accountId, clients);
    }
    return clients;
  };
  let done = 0;
  return mapWithConcurrency(o.units, o.concurrency, async (unit) => {
    let result: UnitPlan;
    try {
      const hub = unit.accountId === base.accountId;
      const account = await clientsOf(unit.accountId);
      // A fresh factory per unit (its own clients and call counter; the hooks are shared: progress, --verbose); its
      // state table stays the caller's (ClientFactory.forAccount), as in the Lambda's unit step.
      const clients = account.fresh();
      const section = await planSection(
        o.modules.get(unit.capability)!,
        {
          ...base,
          clients,
          regions: [unit.region],
          accountId: unit.accountId,
          target: { accountId: unit.accountId, accountName: unit.accountName, runId: o.runId, hub },
        },
        o.slack,
      );
      result = {
        ...unit,
        ok: !section.error,
        ...(section.error ? { reason: unitReason(section.error) } : {}),
        section,
      };
    } catch (error) {
      result = { ...unit, ok: false, reason: unitReason(describeAccountFailure(error)) };
    }
    done += 1;
    o.onUnitDone?.(result, done, o.units.length);
    return result;
  });
}

const cents = (usd: number): number => Math.round(usd * 100);

/** The account table's rows, in the order of `accounts`, from the units' outcomes. */
export function accountPlans(
  accounts: readonly TargetAccount[],
  units: readonly UnitPlan[],
  modules: ReadonlyMap<CapabilityName, CliCapability>,
): AccountPlan[] {
  return accounts.map((account) => {
    const own = units.filter((u) => u.accountId === account.id);
    const failed = own.filter((u) => !u.ok);
    // Per kind: each capability's count summed over its regions; the account shows the most any capability found
    // (the reaper and the right-sizing advice both count the same GPU instances).
    const found = (kind: 'gpuInstances' | 'endpoints'): number | undefined => {
      const byCapability = new Map<CapabilityName, number>();
      for (const u of own) {
        const summary = u.section?.summary;
        const n = summary ? modules.get(u.capability)?.planFound?.(summary)[kind] : undefined;
        if (n !== undefined) byCapability.set(u.capability, (byCapability.get(u.capability) ?? 0) + n);
      }
      return byCapability.size > 0 ? Math.max(...byCapability.values()) : undefined;
    };
    const gpuInstances = found('gpuInstances');
    const endpoints = found('endpoints');
    const reasons = [...new Set(failed.map((u) => u.reason ?? 'failed'))];
    return {
      accountId: account.id,
      name: account.name,
      regions: [...new Set(own.map((u) => u.region))].sort(),
      ...(gpuInstances !== undefined ? { gpuInstances } : {}),
      ...(endpoints !== undefined ? { endpoints } : {}),
      actions: own.reduce((n, u) => n + (u.section?.summary?.actions.length ?? 0), 0),
      monthlySavingsUsd: own.reduce((n, u) => n + cents(u.section?.subtotal.monthlyUsd ?? 0), 0) / 100,
      status: failed.length === 0 ? 'planned' : failed.length === own.length ? 'failed' : 'partly failed',
      ...(reasons.length > 0 ? { reasons } : {}),
      units: own.length,
      failedUnits: failed.length,
    };
  });
}

/** A run ID for the spoke-role sessions: `plan-20261115T120000Z`. */
export function planRunId(now: Date): string {
  return `plan-${now.toISOString().replace(/[-:]|\.\d+/g, '')}`;
}
