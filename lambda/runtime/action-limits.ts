/**
 * The action limits of a run that stops, terminates or deletes, in one place for every capability that acts (the
 * reaper, the SageMaker guard, a button pressed in Slack):
 * - the capability's own limit per scheduled period (maxActionsPerRun), counted in the state table under
 *   'limit#<capability>#all-regions' (organization mode: per account, 'limit#<capability>#<account>#all-regions');
 * - in organization mode also accounts.maxActionsPerOrganization: a second reservation of the same targets (named
 *   '<account>/<target>') under 'limit#<capability>#organization', counted over every account's actions of the period.
 * A target is granted only when both hold it. A target the account's counter granted but the organization's refused
 * stays counted for the account this period: the guard errs on the side of acting less.
 */
import type { StateStore } from '../adapters/state-store';
import { isOrganizationMode } from '../core/organization/fan-out';
import { keyScopeOf, type RunContext } from './context';

/** The per-account counter's scope (what it counts over: every region of the run). */
export const ACCOUNT_LIMIT_SCOPE = 'all-regions';
/** The organization-wide counter's scope. */
export const ORGANIZATION_LIMIT_SCOPE = 'organization';

export interface LimitRequest {
  readonly capability: string;
  /** The scheduled period (core/schedule actionPeriod): retries of one event share it. */
  readonly period: string;
  /** The capability's per-period limit in one account (maxActionsPerRun). */
  readonly limit: number;
  readonly now: Date;
}

export interface ActionLimitsOptions {
  /** The account whose counter this is (keyScopeOf); undefined: the single-account key. */
  readonly account?: string;
  /** accounts.maxActionsPerOrganization, in organization mode; undefined: no organization-wide ceiling. */
  readonly organizationLimit?: number;
}

/** The key scope of a run in the hub's own account: the unit's account, or the hub's account in organization mode. */
export function hubKeyScopeOf(ctx: Pick<RunContext, 'target' | 'config' | 'accountId'>): string | undefined {
  return keyScopeOf(ctx) ?? (isOrganizationMode(ctx.config.accounts) ? ctx.accountId : undefined);
}

export class ActionLimits {
  /** Whether the organization-wide ceiling refused a target this run (the run says so in its notes). */
  organizationFull = false;

  constructor(
    private readonly store: StateStore,
    private readonly o: ActionLimitsOptions = {},
  ) {}

  /**
   * The limits of a run with this context: per account and organization-wide for a unit of an organization run
   * (ctx.target), or for a run in the hub with `hub` (a button pressed in Slack); single-account keys otherwise.
   */
  static of(
    ctx: Pick<RunContext, 'target' | 'config' | 'accountId'>,
    store: StateStore,
    o: { readonly hub?: boolean } = {},
  ): ActionLimits {
    const account = o.hub ? hubKeyScopeOf(ctx) : keyScopeOf(ctx);
    return new ActionLimits(store, {
      ...(account ? { account } : {}),
      ...(account ? { organizationLimit: ctx.config.accounts.maxActionsPerOrganization } : {}),
    });
  }

  /** The limits are an organization's (two counters) rather than one account's. */
  get organizationWide(): boolean {
    return this.o.organizationLimit !== undefined;
  }

  private orgTarget(target: string): string {
    return `${this.o.account ?? '-'}/${target}`;
  }

  /** Reserves one target (one conditional write a counter). True when both counters hold it. */
  async reserveOne(r: LimitRequest & { readonly target: string }): Promise<boolean> {
    const reserved = await this.store.reserveAction({
      capability: r.capability,
      scope: ACCOUNT_LIMIT_SCOPE,
      period: r.period,
      limit: r.limit,
      target: r.target,
      now: r.now,
      ...(this.o.account ? { account: this.o.account } : {}),
    });
    if (!reserved || this.o.organizationLimit === undefined) return reserved;
    const org = await this.store.reserveAction({
      capability: r.capability,
      scope: ORGANIZATION_LIMIT_SCOPE,
      period: r.period,
      limit: this.o.organizationLimit,
      target: this.orgTarget(r.target),
      now: r.now,
    });
    if (!org) this.organizationFull = true;
    return org;
  }

  /** Reserves several targets (two table calls a counter): those both counters granted, in the order asked. */
  async reserveMany(r: LimitRequest & { readonly targets: readonly string[] }): Promise<string[]> {
    const granted = await this.store.reserveActions({
      capability: r.capability,
      scope: ACCOUNT_LIMIT_SCOPE,
      period: r.period,
      limit: r.limit,
      targets: r.targets,
      now: r.now,
      ...(this.o.account ? { account: this.o.account } : {}),
    });
    if (granted.length === 0 || this.o.organizationLimit === undefined) return granted;
    const org = new Set(
      await this.store.reserveActions({
        capability: r.capability,
        scope: ORGANIZATION_LIMIT_SCOPE,
        period: r.period,
        limit: this.o.organizationLimit,
        targets: granted.map((t) => this.orgTarget(t)),
        now: r.now,
      }),
    );
    const both = granted.filter((t) => org.has(this.orgTarget(t)));
    if (both.length < granted.length) this.organizationFull = true;
    return both;
  }

  /** The note of a run the organization-wide ceiling held back. */
  organizationNote(): string | undefined {
    return this.organizationFull
      ? `accounts.maxActionsPerOrganization (${this.o.organizationLimit}) is reached for this period across the organization: the rest waits for a later run`
      : undefined;
  }
}
