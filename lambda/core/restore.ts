/**
 * Which instances `cost-guard restore` starts: only those the guard's own records say it stopped (the stop index the
 * guard writes when a stop took effect), never because of a tag. A `cost-guard:stopped-by` tag is a mirror for
 * people: anyone with CreateTags can write one, so a tagged instance that the records do not name is reported and
 * left alone.
 *
 * Of the recorded stops, an instance is started when it is still stopped and has not been started since the guard
 * stopped it (its launch time is older than the stop): one started by hand and stopped again by someone else is
 * theirs, not the guard's. Budget-guard stops are restored by default; the reaper's stops only when asked. A stop the
 * budget guard made in a linked account of a payer budget (through the spoke role) is reported and never started:
 * restore acts with its own account's clients, where that instance does not exist.
 */
import { STOPPED_BUDGET_TAG, STOPPED_BY_TAG } from './budgets/tags';
import { tagValue } from './tags';

/** A stop the guard recorded when it took effect. */
export interface RecordedStop {
  readonly instanceId: string;
  readonly region: string;
  readonly capability: 'budgets' | 'reaper';
  /** ISO time of the stop. */
  readonly stoppedAt: string;
  readonly budget?: string;
  readonly reason: string;
  /** The linked account the budget guard stopped it in (a payer budget's `accounts`); absent: the guard's own. */
  readonly account?: string;
}

/** What EC2 says about an instance now (the fields restore looks at). */
export interface StoppedInstanceFacts {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  /** EC2 state name: stopped, running… */
  readonly state: string;
  /** ISO time of the last launch or start. */
  readonly launchTime?: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreSelection {
  /** Only stops made for this budget. */
  readonly budget?: string;
  /** Also the idle GPU reaper's stops. @default false */
  readonly includeReaper?: boolean;
  /**
   * The account restore runs in. A stop recorded in another account (a budget's linked account) is never started:
   * the instance is not in this account. @default - every stop recorded in another account is refused
   */
  readonly accountId?: string;
}

export interface RestoreCandidate {
  readonly instance: StoppedInstanceFacts;
  readonly stop: RecordedStop;
}

export interface RestoreRefusal {
  readonly instanceId: string;
  readonly region: string;
  /** The instance's Name tag, when EC2 described it. */
  readonly name?: string;
  readonly reason: string;
}

export interface RestorePlan {
  readonly start: readonly RestoreCandidate[];
  /** Instances restore leaves alone, each with the reason, for the report. */
  readonly refused: readonly RestoreRefusal[];
}

/** The Name tag of a described instance (any case of the key). */
export function nameOf(instance: StoppedInstanceFacts | undefined): string | undefined {
  return instance ? tagValue(instance.tags, 'Name') : undefined;
}

/**
 * Decides, for one region, what restore starts. `stops` are the guard's records of the region; `instances` what EC2
 * reports for the recorded instances and for every stopped instance carrying the stopped-by tag.
 */
export function planRestore(
  stops: readonly RecordedStop[],
  instances: readonly StoppedInstanceFacts[],
  selection: RestoreSelection = {},
): RestorePlan {
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const inAnotherAccount = (s: RecordedStop) => s.account !== undefined && s.account !== selection.accountId;
  const recorded = new Set(stops.filter((s) => !inAnotherAccount(s)).map((s) => s.instanceId));
  const start: RestoreCandidate[] = [];
  const refused: RestoreRefusal[] = [];
  const refuse = (s: { instanceId: string; region: string }, reason: string) => {
    const name = nameOf(byId.get(s.instanceId));
    refused.push({ instanceId: s.instanceId, region: s.region, ...(name ? { name } : {}), reason });
  };

  for (const stop of stops) {
    if (selection.budget !== undefined && stop.budget !== selection.budget) continue;
    if (inAnotherAccount(stop)) {
      refuse(
        stop,
        `stopped in linked account ${stop.account}${stop.budget ? ` for budget ${stop.budget}` : ''}: restore starts ` +
          `only this account's instances; start it in account ${stop.account} and remove its cost-guard:stopped-* tags`,
      );
      continue;
    }
    if (stop.capability === 'reaper' && !selection.includeReaper) {
      refuse(stop, 'stopped by the idle GPU reaper: not started (pass --include-reaper to restore those too)');
      continue;
    }
    const instance = byId.get(stop.instanceId);
    if (!instance) {
      refuse(stop, 'no longer exists: nothing to start');
      continue;
    }
    if (instance.state !== 'stopped') {
      refuse(stop, `is ${instance.state} now, not stopped: nothing to start`);
      continue;
    }
    const launched = instance.launchTime ? Date.parse(instance.launchTime) : Number.NaN;
    if (!Number.isNaN(launched) && launched > Date.parse(stop.stoppedAt)) {
      refuse(
        stop,
        `was started again at ${instance.launchTime} after the guard stopped it at ${stop.stoppedAt}, and stopped since by someone else: not started`,
      );
      continue;
    }
    start.push({ instance, stop });
  }

  // A tag names an instance the records do not: someone wrote it by hand (or the record was lost). Never started.
  for (const instance of instances) {
    if (recorded.has(instance.instanceId) || instance.tags[STOPPED_BY_TAG] === undefined) continue;
    if (instance.state !== 'stopped') continue;
    if (selection.budget !== undefined && instance.tags[STOPPED_BUDGET_TAG] !== selection.budget) continue;
    refuse(instance, `tagged ${STOPPED_BY_TAG} but not in the ledger: not started`);
  }
  return { start, refused };
}
