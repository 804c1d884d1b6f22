/**
 * The organization fan-out's contract (accounts.mode: organization), shared by the Step Functions state machine
 * (lib), the capability functions (runtime/organization) and `cost-guard plan --organization` (cli). Pure.
 *
 * One run of a capability is one state machine execution:
 * 1. `targets`: the function lists the organization's active target accounts and returns one unit per
 *    (account, region) the capability covers;
 * 2. a Map state invokes the function once per unit (`unit`), at most `accounts.concurrency` at a time; the unit
 *    assumes the account's spoke role, runs the capability there, stores its report in the state table, and
 *    answers with a small status (a failing account never stops the others);
 * 3. `digest`: the function reads the units' reports and posts one organization digest; when a unit failed or left
 *    no report, the execution fails afterwards, so the state machine's failures alarm.
 */
import { ACCOUNT_ID, type AccountsConfig } from '../config';
import { CostGuardError } from '../errors';

/** The event key that tells a capability function which step of the fan-out it is running. */
export const FAN_OUT_KEY = 'costGuardFanOut';

/** Capabilities that run once per (account, region) in organization mode. */
export const FAN_OUT_CAPABILITIES = ['reaper', 'sagemaker', 'rightsizing', 'lifecycle'] as const;
export type FanOutCapability = (typeof FAN_OUT_CAPABILITIES)[number];

export function isFanOutCapability(name: string): name is FanOutCapability {
  return (FAN_OUT_CAPABILITIES as readonly string[]).includes(name);
}

/**
 * Most units a run may have: the unit list travels in the state machine's input, which Step Functions caps at
 * 256 KB (about 90 bytes a unit).
 */
export const MAX_UNITS = 2500;

/** An account the organization lists as active. */
export interface TargetAccount {
  readonly id: string;
  readonly name: string;
}

/** One unit of work: a capability's run in one account and region. */
export interface FanOutUnit {
  readonly accountId: string;
  readonly accountName: string;
  readonly region: string;
}

export interface TargetsEvent {
  readonly costGuardFanOut: 'targets';
  /** The state machine execution's name: the run's key in the state table. */
  readonly runId: string;
}

export interface TargetsResult {
  readonly runId: string;
  readonly units: readonly FanOutUnit[];
  /** Accounts named in the config that are not guarded this run, each with its reason (suspended, not found…). */
  readonly skippedAccounts: readonly { readonly accountId: string; readonly reason: string }[];
}

export interface UnitEvent extends FanOutUnit {
  readonly costGuardFanOut: 'unit';
  readonly runId: string;
}

/** What a unit answers the Map state: small, whatever the run found (its report is in the state table). */
export interface UnitStatus {
  readonly accountId: string;
  readonly region: string;
  readonly ok: boolean;
  /** Why the unit failed (role missing, access denied, throttled…), at most 300 characters. */
  readonly reason?: string;
}

export interface DigestEvent {
  readonly costGuardFanOut: 'digest';
  readonly runId: string;
  readonly units: readonly FanOutUnit[];
  readonly skippedAccounts?: TargetsResult['skippedAccounts'];
}

export interface DigestResult {
  readonly units: number;
  readonly failedUnits: number;
  /** Units that left no report (the function failed or timed out before storing one). */
  readonly missingUnits: number;
}

export type FanOutEvent = TargetsEvent | UnitEvent | DigestEvent;

/** Thrown for an event that names the fan-out but is not one of its three shapes. */
export class FanOutEventError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FanOutEventError';
  }
}

/**
 * The fan-out event in `event`, or undefined for any other event (a schedule, an SNS notification). Throws
 * FanOutEventError when the event names the fan-out but is malformed: a unit with no account never runs anywhere.
 */
export function fanOutEventOf(event: unknown): FanOutEvent | undefined {
  if (typeof event !== 'object' || event === null || !(FAN_OUT_KEY in event)) return undefined;
  const e = event as Record<string, unknown>;
  const step = e[FAN_OUT_KEY];
  if (typeof e.runId !== 'string' || e.runId.length === 0) throw new FanOutEventError(`${String(step)}: no runId`);
  if (step === 'targets') return { costGuardFanOut: 'targets', runId: e.runId };
  if (step === 'unit') {
    if (typeof e.accountId !== 'string' || !ACCOUNT_ID.test(e.accountId))
      throw new FanOutEventError(`unit: accountId must be a 12-digit account ID (got ${JSON.stringify(e.accountId)})`);
    if (typeof e.region !== 'string' || e.region.length === 0) throw new FanOutEventError('unit: no region');
    return {
      costGuardFanOut: 'unit',
      runId: e.runId,
      accountId: e.accountId,
      accountName: typeof e.accountName === 'string' ? e.accountName : e.accountId,
      region: e.region,
    };
  }
  if (step === 'digest') {
    if (!Array.isArray(e.units)) throw new FanOutEventError("digest: units must be the targets step's unit list");
    return {
      costGuardFanOut: 'digest',
      runId: e.runId,
      units: e.units as FanOutUnit[],
      ...(Array.isArray(e.skippedAccounts)
        ? { skippedAccounts: e.skippedAccounts as TargetsResult['skippedAccounts'] }
        : {}),
    };
  }
  throw new FanOutEventError(`unknown fan-out step ${JSON.stringify(step)} (expected targets, unit or digest)`);
}

/**
 * The units of a capability's run: every target account × every region, except the lifecycle, which covers an
 * account's buckets from its home region (S3 lists every region's buckets from one). Sorted by account, then region.
 */
export function unitsFor(
  capability: FanOutCapability,
  accounts: readonly TargetAccount[],
  regions: readonly string[],
  homeRegion: string,
): FanOutUnit[] {
  const unitRegions = capability === 'lifecycle' ? [homeRegion] : [...new Set(regions)].sort();
  return [...accounts]
    .sort((a, b) => a.id.localeCompare(b.id))
    .flatMap((a) => unitRegions.map((region) => ({ accountId: a.id, accountName: a.name, region })));
}

/** The ARN of an account's spoke role. */
export function spokeRoleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The AssumeRole session name of the hub: names the capability and run in the spoke's CloudTrail (≤ 64 chars). */
export function spokeSessionName(capability: string, runId: string): string {
  return `ml-cost-guard-${capability}-${runId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** Whether the config makes this stack an organization hub. */
export function isOrganizationMode(accounts: Pick<AccountsConfig, 'mode'>): boolean {
  return accounts.mode === 'organization';
}

/** A unit's failure reason as the digest shows it: one line, at most 300 characters. */
export function unitReason(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
