/**
 * The plain data every capability's run produces: the actions it took (or would take, in dry-run) and its summary.
 * Types only, so core report builders, services, the CLI and the ledger share one vocabulary.
 */

export type Capability = 'reaper' | 'lifecycle' | 'budgets' | 'restore' | 'sagemaker';
export type ActionKind =
  | 'terminate'
  | 'stop'
  | 'start'
  | 'tag'
  | 'untag'
  | 'lifecycle-put'
  | 'alert'
  // the budget guard's launch cap (and `cost-guard restore`): the cap policy attached to or detached from a role
  | 'launch-cap-attach'
  | 'launch-cap-detach'
  // the SageMaker guard (and `cost-guard restore --sagemaker`)
  | 'delete-endpoint'
  | 'stop-notebook'
  | 'update-domain'
  | 'update-user-profile'
  | 'update-space'
  | 'create-endpoint'
  // a keep set from Slack or with `cost-guard keep` (the state record; its mirror tag is a 'tag')
  | 'keep';

/** Kinds of action that save money and so carry a price (tags, untags and alerts never do). */
export const SAVING_ACTION_KINDS: ReadonlySet<string> = new Set<ActionKind>([
  'terminate',
  'stop',
  'lifecycle-put',
  'delete-endpoint',
  'stop-notebook',
]);

export interface PlannedAction {
  readonly capability: Capability;
  readonly kind: ActionKind;
  /** Instance ID, bucket name, budget name… */
  readonly target: string;
  readonly region?: string;
  /**
   * The AWS account acted in, when it is not the run's own: a linked account a payer budget covers (budget item
   * `accounts`), reached through its spoke role. The ledger and the stop index keep it; restore never starts such
   * an instance with the run's own clients.
   */
  readonly accountId?: string;
  /** Why the action is taken, in words a user understands. */
  readonly reason: string;
  /** Monthly savings from the savings model; undefined when the price is unknown. */
  readonly monthlySavingsUsd?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type ActionStatus = 'done' | 'dry-run' | 'failed';

export interface ActionRecord extends PlannedAction {
  readonly status: ActionStatus;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** ISO time the action was attempted (the run's `now`). */
  readonly at: string;
}

/** What every capability's run returns, besides its own details. */
export interface RunSummary {
  readonly capability: string;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly actions: readonly ActionRecord[];
  /** Monthly savings of the actions taken (or, in dry-run, that would be taken), from the savings model. */
  readonly monthlySavingsUsd: number;
  readonly apiCalls: Record<string, number>;
  /** Things the user should know that are not actions: skipped targets, conflicts, missing data. */
  readonly notes: readonly string[];
}

/** One savings-ledger entry: an action that took effect, as the state table keeps it. */
export interface LedgerEntry {
  readonly at: string;
  readonly capability: string;
  readonly kind: string;
  readonly target: string;
  readonly region?: string;
  /** The account the action was taken in (organization mode, or a budget's linked account); absent: the guard's own. */
  readonly accountId?: string;
  readonly monthlySavingsUsd?: number;
  readonly reason: string;
}

/**
 * What a long run reports while it works, for a person watching a terminal (`cost-guard` draws it on stderr; the
 * Lambda ignores it): the region it starts on, what it read, the batches it sent, or a step in words.
 */
export type ProgressEvent =
  | { readonly kind: 'region'; readonly region: string; readonly index: number; readonly total: number }
  | { readonly kind: 'read'; readonly what: string; readonly count: number; readonly region?: string }
  | { readonly kind: 'batch'; readonly what: string; readonly done: number; readonly total: number }
  | { readonly kind: 'step'; readonly message: string };
