/**
 * Lifecycle rules as ml-cost-guard configures them, and the checks S3 itself applies to them.
 *
 * Pure: no SDK imports. The same checks run at `cdk synth` (config validation), in the CLI and in the
 * storage-lifecycle Lambda before any call to S3, so a rule S3 would reject never reaches S3.
 */

/** Storage classes a lifecycle transition may target, in S3's waterfall order. */
export const TRANSITION_STORAGE_CLASSES = [
  'STANDARD_IA',
  'INTELLIGENT_TIERING',
  'ONEZONE_IA',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;
export type TransitionStorageClass = (typeof TRANSITION_STORAGE_CLASSES)[number];

/** Every storage class the savings model prices (transition targets plus STANDARD). */
export const STORAGE_CLASSES = ['STANDARD', ...TRANSITION_STORAGE_CLASSES] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];

/** S3 rejects transitions to these classes earlier than 30 days after creation. */
export const MIN_TRANSITION_DAYS: Readonly<Partial<Record<TransitionStorageClass, number>>> = {
  STANDARD_IA: 30,
  ONEZONE_IA: 30,
};

/**
 * Minimum storage duration billed by S3 (days). Deleting or transitioning earlier is billed pro rata for the rest.
 */
export const MIN_STORAGE_DAYS: Readonly<Record<StorageClass, number>> = {
  STANDARD: 0,
  STANDARD_IA: 30,
  INTELLIGENT_TIERING: 0,
  ONEZONE_IA: 30,
  GLACIER_IR: 90,
  GLACIER: 90,
  DEEP_ARCHIVE: 180,
};

/**
 * The number of days an object must stay in a class before a lifecycle rule may move it on to a colder one:
 * S3 answers InvalidArgument when two transitions of one rule are closer than this.
 */
export const MIN_DAYS_BEFORE_NEXT_TRANSITION: Readonly<Record<TransitionStorageClass, number>> = {
  STANDARD_IA: 30,
  INTELLIGENT_TIERING: 30,
  ONEZONE_IA: 30,
  GLACIER_IR: 90,
  GLACIER: 90,
  DEEP_ARCHIVE: 0,
};

/** Our rule IDs all start with this; every other rule on a bucket belongs to its owners and is kept untouched. */
export const MANAGED_RULE_ID_PREFIX = 'cost-guard-';
/** S3 accepts at most this many rules in one bucket lifecycle configuration. */
export const MAX_LIFECYCLE_RULES = 1000;
/** S3 limits a rule ID to 255 characters and an object key prefix to 1,024 bytes. */
export const MAX_RULE_ID_LENGTH = 255;
export const MAX_PREFIX_BYTES = 1024;

export interface TransitionSpec {
  readonly days: number;
  readonly storageClass: TransitionStorageClass;
}

export interface LifecycleRuleSpec {
  /** Rule name; the rule ID written to S3 is `cost-guard-<id>`. */
  readonly id: string;
  /** Object key prefix the rule applies to ('' = the whole bucket). */
  readonly prefix: string;
  readonly transitions: readonly TransitionSpec[];
  readonly expirationDays?: number;
  readonly noncurrentVersionExpirationDays?: number;
  readonly abortIncompleteMultipartUploadDays?: number;
}

export interface RuleProblem {
  /** Index of the rule in the list checked. */
  readonly ruleIndex: number;
  /** For early-deletion warnings: the class billed longer than objects stay, and by how many days. */
  readonly earlyDeletion?: { readonly storageClass: StorageClass; readonly extraDays: number };
  /** The field at fault, relative to the rule (e.g. `transitions.0.days`). */
  readonly field: string;
  readonly message: string;
}

export interface RuleCheck {
  readonly errors: RuleProblem[];
  readonly warnings: RuleProblem[];
}

/** The S3 rule ID that ml-cost-guard writes for a configured rule. */
export function managedRuleId(id: string): string {
  return id.startsWith(MANAGED_RULE_ID_PREFIX) ? id : `${MANAGED_RULE_ID_PREFIX}${id}`;
}

const waterfallIndex = (c: TransitionStorageClass): number => TRANSITION_STORAGE_CLASSES.indexOf(c);

/**
 * Checks a list of rules against what S3 enforces (errors) and against what costs extra (warnings).
 * Errors: Standard-IA / One Zone-IA before day 30, transitions out of waterfall order or closer than S3 allows,
 * an expiration not after the last transition, duplicate rule IDs or prefixes, IDs and prefixes S3 does not
 * accept, and more rules than S3 holds. Warnings: early-deletion charges (expiration before a class's minimum
 * storage duration has passed).
 */
export function checkLifecycleRules(rules: readonly LifecycleRuleSpec[]): RuleCheck {
  const errors: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  if (rules.length > MAX_LIFECYCLE_RULES) {
    errors.push({
      ruleIndex: MAX_LIFECYCLE_RULES,
      field: '',
      message: `${rules.length} rules is more than the ${MAX_LIFECYCLE_RULES} S3 accepts in one configuration`,
    });
  }
  const seenIds = new Map<string, number>();
  const seenPrefixes = new Map<string, number>();
  rules.forEach((rule, i) => {
    const err = (field: string, message: string) => errors.push({ ruleIndex: i, field, message });
    const warn = (field: string, message: string, earlyDeletion?: RuleProblem['earlyDeletion']) =>
      warnings.push({ ruleIndex: i, field, message, ...(earlyDeletion ? { earlyDeletion } : {}) });
    const fullId = managedRuleId(rule.id);
    if (rule.id.length === 0) err('id', 'must not be empty');
    if (fullId.length > MAX_RULE_ID_LENGTH) {
      err('id', `'${fullId}' is ${fullId.length} characters; S3 accepts at most ${MAX_RULE_ID_LENGTH}`);
    }
    const firstId = seenIds.get(fullId);
    if (firstId !== undefined) err('id', `duplicate rule ID '${rule.id}' (also rule ${firstId})`);
    else seenIds.set(fullId, i);
    const prefixBytes = Buffer.byteLength(rule.prefix, 'utf8');
    if (prefixBytes > MAX_PREFIX_BYTES)
      err('prefix', `is ${prefixBytes} bytes; S3 accepts at most ${MAX_PREFIX_BYTES}`);
    if (rule.prefix.startsWith('/')) {
      err('prefix', `'${rule.prefix}' starts with '/'; S3 keys have no leading slash (use '${rule.prefix.slice(1)}')`);
    }
    const firstPrefix = seenPrefixes.get(rule.prefix);
    if (firstPrefix !== undefined) {
      err('prefix', `prefix '${rule.prefix}' is already used by rule ${firstPrefix}; use one rule per prefix`);
    } else seenPrefixes.set(rule.prefix, i);

    if (
      rule.transitions.length === 0 &&
      rule.expirationDays === undefined &&
      rule.noncurrentVersionExpirationDays === undefined &&
      rule.abortIncompleteMultipartUploadDays === undefined
    ) {
      err('', 'has no action: give at least one transition or expiration');
    }
    const seenClasses = new Set<TransitionStorageClass>();
    rule.transitions.forEach((t, j) => {
      const field = `transitions.${j}`;
      if (seenClasses.has(t.storageClass)) {
        err(`${field}.storageClass`, `${t.storageClass} appears twice`);
        return;
      }
      seenClasses.add(t.storageClass);
      const min = MIN_TRANSITION_DAYS[t.storageClass];
      if (min !== undefined && t.days < min) {
        err(
          `${field}.days`,
          `${t.storageClass} needs at least ${min} days after creation (got ${t.days}); S3 rejects less`,
        );
      }
      if (j === 0) return;
      const prev = rule.transitions[j - 1]!;
      if (waterfallIndex(t.storageClass) <= waterfallIndex(prev.storageClass)) {
        err(
          `${field}.storageClass`,
          `${prev.storageClass} -> ${t.storageClass} is not in S3's waterfall order (${TRANSITION_STORAGE_CLASSES.join(' -> ')})`,
        );
        return;
      }
      const gap = MIN_DAYS_BEFORE_NEXT_TRANSITION[prev.storageClass];
      if (t.days - prev.days < gap) {
        err(
          `${field}.days`,
          `${t.storageClass} at day ${t.days} is ${t.days - prev.days} days after ${prev.storageClass} at day ${prev.days}; S3 needs at least ${gap}`,
        );
      }
    });
    const last = rule.transitions.at(-1);
    if (rule.expirationDays !== undefined && last !== undefined) {
      if (rule.expirationDays <= last.days) {
        err(
          'expirationDays',
          `expiration at day ${rule.expirationDays} must come after the last transition (${last.storageClass} at day ${last.days})`,
        );
      } else {
        // Early deletion: each transitioned class must hold the object for its minimum duration.
        rule.transitions.forEach((t, j) => {
          const leaves = rule.transitions[j + 1]?.days ?? rule.expirationDays!;
          const stay = leaves - t.days;
          const minimum = MIN_STORAGE_DAYS[t.storageClass];
          if (stay < minimum) {
            warn(
              j + 1 < rule.transitions.length ? `transitions.${j + 1}.days` : 'expirationDays',
              `objects leave ${t.storageClass} after ${stay} days but S3 bills at least ${minimum}: ` +
                `${minimum - stay} extra days of ${t.storageClass} storage per object (early-deletion charge)`,
              { storageClass: t.storageClass, extraDays: minimum - stay },
            );
          }
        });
      }
    }
  });
  return { errors, warnings };
}

/** Human one-liner for a problem, naming the rule. */
export function describeRuleProblem(rules: readonly LifecycleRuleSpec[], p: RuleProblem): string {
  const rule = rules[p.ruleIndex];
  const name = rule ? `rule '${rule.id}'` : `rule ${p.ruleIndex}`;
  return `${name}${p.field ? ` ${p.field}` : ''}: ${p.message}`;
}

/**
 * The seed's ML-artifact policy, made valid for S3: checkpoints move to Standard-IA at 30 days (the seed's 14 days
 * is rejected by S3: Standard-IA needs 30), old checkpoint versions expire after 30 days, and abandoned multipart
 * uploads are cleaned up after 7.
 */
export const DEFAULT_LIFECYCLE_RULES: readonly LifecycleRuleSpec[] = [
  {
    id: 'experiment-artifacts',
    prefix: 'experiments/',
    transitions: [
      { days: 30, storageClass: 'STANDARD_IA' },
      { days: 90, storageClass: 'GLACIER_IR' },
      { days: 365, storageClass: 'DEEP_ARCHIVE' },
    ],
    expirationDays: 730,
    abortIncompleteMultipartUploadDays: 7,
  },
  {
    id: 'model-checkpoints',
    prefix: 'checkpoints/',
    transitions: [{ days: 30, storageClass: 'STANDARD_IA' }],
    noncurrentVersionExpirationDays: 30,
    abortIncompleteMultipartUploadDays: 7,
  },
];
