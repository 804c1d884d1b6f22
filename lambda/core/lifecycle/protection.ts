/**
 * Buckets the storage lifecycle never writes, whatever selects them (the bucket tag or `storage.buckets`).
 *
 * Pure: no SDK imports. The service reads a bucket's tags and policy and hands them in as plain data.
 *
 * A bucket is protected when any of these holds (each gives a reason a person can check):
 * - it is listed in `storage.excludeBuckets`;
 * - its name is a CDK bootstrap bucket's (`cdk-<qualifier>-assets-<account>-<region>`, the app staging synthesizer's
 *   `cdk-<qualifier>-staging-<account>-<region>`, or the legacy `cdktoolkit-stagingbucket-…`);
 * - CloudFormation tags say the bootstrap stack made it (`aws:cloudformation:stack-name` = CDKToolkit, or the
 *   bootstrap template's logical ID `StagingBucket`), or ml-cost-guard's own stack (or one of its nested stacks);
 * - its policy lets a log-delivery service write objects: CloudTrail, AWS Config, S3 server access logging or
 *   CloudWatch vended logs (`delivery.logs.amazonaws.com`);
 * - its tags or its policy could not be read (when in doubt, the guard does not write).
 *
 * What this cannot see: log buckets that receive logs through an ACL grant to the S3 Log Delivery group (legacy
 * server access logging) or through a policy naming an AWS account instead of a service principal (old CloudTrail
 * and ELB policies), and buckets whose tags a person removed. List those in `storage.excludeBuckets`.
 */
import { DEFAULT_STACK_NAME } from '../names';

/** Why a bucket is never written. */
export type ProtectionKind =
  | 'excluded'
  | 'cdk-bootstrap'
  | 'own-stack'
  | 'log-destination'
  | 'tags-unreadable'
  | 'policy-unreadable';

export interface ProtectionReason {
  readonly kind: ProtectionKind;
  /** One sentence for the report, naming the evidence. */
  readonly message: string;
}

/** The stack `cdk bootstrap` deploys by default. */
export const BOOTSTRAP_STACK_NAME = 'CDKToolkit';
/** The bootstrap template's logical ID of its asset bucket (kept when the toolkit stack is renamed). */
export const BOOTSTRAP_BUCKET_LOGICAL_ID = 'StagingBucket';
export const STACK_NAME_TAG = 'aws:cloudformation:stack-name';
export const LOGICAL_ID_TAG = 'aws:cloudformation:logical-id';

/** Service principals that deliver logs into a bucket, and what they deliver. */
export const LOG_DELIVERY_SERVICES: Readonly<Record<string, string>> = {
  'cloudtrail.amazonaws.com': 'CloudTrail',
  'config.amazonaws.com': 'AWS Config',
  'logging.s3.amazonaws.com': 'S3 server access logs',
  'delivery.logs.amazonaws.com': 'CloudWatch vended logs',
};

const BOOTSTRAP_BUCKET_NAMES = [
  /^cdk-[a-z0-9]+-assets-\d{12}-[a-z0-9-]+$/,
  /^cdk-[a-z0-9-]+-staging-\d{12}-[a-z0-9-]+$/,
  /^cdktoolkit-stagingbucket-[a-z0-9]+$/,
];

/** Whether `name` is the name CDK bootstrap (or the app staging synthesizer) gives its asset bucket. */
export function isBootstrapBucketName(name: string): boolean {
  return BOOTSTRAP_BUCKET_NAMES.some((re) => re.test(name));
}

/**
 * The stack name the guard was deployed under, from COST_GUARD_STACK_NAME; the default name when it is unset or
 * blank, so a missing variable never turns the protection off.
 */
export function guardStackName(value: string | undefined): string {
  const name = value?.trim();
  return name ? name : DEFAULT_STACK_NAME;
}

/** Reasons that need no call to AWS: the exclusion list and the bootstrap bucket names. */
export function protectionByName(bucket: string, excludeBuckets: readonly string[]): ProtectionReason[] {
  const reasons: ProtectionReason[] = [];
  if (excludeBuckets.includes(bucket)) {
    reasons.push({ kind: 'excluded', message: 'listed in storage.excludeBuckets' });
  }
  if (isBootstrapBucketName(bucket)) {
    reasons.push({
      kind: 'cdk-bootstrap',
      message: 'named like a CDK bootstrap asset bucket (cdk-<qualifier>-assets-…)',
    });
  }
  return reasons;
}

/** Whether a stack named `stack` is the guard's own stack or one of its nested stacks (`<name>-<nested>-<id>`). */
function isGuardStack(stack: string, guardStacks: readonly string[]): boolean {
  return guardStacks.some((own) => stack === own || stack.startsWith(`${own}-`));
}

/**
 * Reasons from the bucket's tags. `guardStack` is the guard's stack name ({@link guardStackName}); buckets of a stack
 * under the default name are protected as well (another copy of the guard).
 */
export function protectionByTags(tags: Readonly<Record<string, string>>, guardStack: string): ProtectionReason[] {
  const reasons: ProtectionReason[] = [];
  const stack = tags[STACK_NAME_TAG];
  const logicalId = tags[LOGICAL_ID_TAG];
  if (stack === BOOTSTRAP_STACK_NAME || logicalId === BOOTSTRAP_BUCKET_LOGICAL_ID) {
    reasons.push({
      kind: 'cdk-bootstrap',
      message:
        stack === BOOTSTRAP_STACK_NAME
          ? `created by the CDK bootstrap stack (${STACK_NAME_TAG}=${BOOTSTRAP_STACK_NAME})`
          : `the CDK bootstrap asset bucket (${LOGICAL_ID_TAG}=${BOOTSTRAP_BUCKET_LOGICAL_ID})`,
    });
  }
  if (stack !== undefined && isGuardStack(stack, [...new Set([guardStack, DEFAULT_STACK_NAME])])) {
    reasons.push({ kind: 'own-stack', message: `created by ml-cost-guard's own stack (${STACK_NAME_TAG}=${stack})` });
  }
  return reasons;
}

/** The bucket's tags could not be read: its owner cannot be told. */
export function tagsUnreadable(code: string): ProtectionReason {
  return {
    kind: 'tags-unreadable',
    message: `its tags cannot be read (${code}), so whether a CloudFormation stack owns it is unknown`,
  };
}

/** The bucket's policy could not be read (anything but NoSuchBucketPolicy): log delivery cannot be ruled out. */
export function policyUnreadable(code: string): ProtectionReason {
  return {
    kind: 'policy-unreadable',
    message: `its bucket policy cannot be read (${code}), so whether it receives CloudTrail, Config or access logs is unknown`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bucket policy
// ---------------------------------------------------------------------------------------------------------------

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** IAM action-pattern match: `*` any run of characters, `?` one; case-insensitive, as IAM compares actions. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'i').test(action);
}

/** Whether a statement's Action / NotAction covers s3:PutObject. */
function grantsPutObject(statement: Record<string, unknown>): boolean {
  const matches = (list: unknown[]) => list.some((a) => typeof a === 'string' && actionMatches(a, 's3:PutObject'));
  if (statement.Action !== undefined) return matches(asList(statement.Action));
  if (statement.NotAction !== undefined) return !matches(asList(statement.NotAction));
  return false;
}

/** The service principals a statement names (lower case). */
function servicePrincipals(statement: Record<string, unknown>): string[] {
  const principal = statement.Principal;
  if (!principal || typeof principal !== 'object') return [];
  return asList((principal as Record<string, unknown>).Service)
    .filter((s): s is string => typeof s === 'string')
    .map((s) => s.toLowerCase());
}

/**
 * The log-delivery services a bucket policy lets write objects (an Allow statement naming the service principal with
 * an action covering s3:PutObject), e.g. `['CloudTrail']`. Conditions are not evaluated: a grant with conditions still
 * marks a log bucket. Throws SyntaxError when the policy is not JSON.
 */
export function logDeliveryGrants(policy: string): string[] {
  const doc = JSON.parse(policy) as { Statement?: unknown };
  const found = new Set<string>();
  for (const raw of asList(doc?.Statement)) {
    if (!raw || typeof raw !== 'object') continue;
    const statement = raw as Record<string, unknown>;
    if (statement.Effect !== 'Allow' || !grantsPutObject(statement)) continue;
    for (const service of servicePrincipals(statement)) {
      const what = LOG_DELIVERY_SERVICES[service];
      if (what) found.add(what);
    }
  }
  return [...found].sort();
}

/** Reasons from the bucket's policy text; undefined means the bucket has no policy (NoSuchBucketPolicy). */
export function protectionByPolicy(policy: string | undefined): ProtectionReason[] {
  if (policy === undefined || policy.trim() === '') return [];
  let services: string[];
  try {
    services = logDeliveryGrants(policy);
  } catch {
    return [
      {
        kind: 'policy-unreadable',
        message:
          'its bucket policy is not valid JSON, so whether it receives CloudTrail, Config or access logs is unknown',
      },
    ];
  }
  return services.length === 0
    ? []
    : [
        {
          kind: 'log-destination',
          message: `its bucket policy lets ${services.join(', ')} write objects (a log bucket)`,
        },
      ];
}

/** One line for notes and the digest: `protected: reason; reason`. */
export function protectionWords(reasons: readonly ProtectionReason[]): string {
  return reasons.map((r) => r.message).join('; ');
}
