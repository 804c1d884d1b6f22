/**
 * S3 calls of the storage-lifecycle capability: list buckets, read tags, location, policy, versioning and lifecycle,
 * and write the lifecycle configuration.
 *
 * Each read returns an {@link S3Outcome} instead of throwing for the errors a bucket can legitimately produce
 * (missing, access denied, wrong region), so one bad bucket never fails the run. Calls for a bucket go to a client in
 * the bucket's region; when S3 still answers with a region redirect (PermanentRedirect, AuthorizationHeaderMalformed,
 * 301) naming the right region, the call is repeated once there.
 */
import {
  type BucketLocationConstraint,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  paginateListBuckets,
  type S3Client,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { type LifecycleState, lifecycleEquals, type VersioningState } from '../core/lifecycle/merge';
import { CostGuardError, errorCode, errorMessage } from '../shared/errors';

/** Why a bucket could not be read. */
export type S3FailureKind = 'missing' | 'access-denied' | 'wrong-region' | 'error';

export type S3Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly region: string }
  | { readonly ok: false; readonly kind: S3FailureKind; readonly code: string; readonly message: string };

export interface ListedBucket {
  readonly name: string;
  /** The region ListBuckets reported (recent API versions do), else undefined. */
  readonly region?: string;
}

/** A client for a region; the ClientFactory's `s3(region)` in production, a mocked client in tests. */
export type S3ClientForRegion = (region: string) => S3Client;

const MISSING = new Set(['NoSuchBucket']);
const DENIED = new Set(['AccessDenied', 'AllAccessDisabled', 'Forbidden', 'InvalidAccessKeyId', 'AccountProblem']);
const REDIRECT = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);

/** Maps an SDK error to the reason a bucket could not be read. */
export function classifyS3Error(error: unknown): S3FailureKind {
  const code = errorCode(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (MISSING.has(code) || status === 404) return 'missing';
  if (DENIED.has(code) || status === 403) return 'access-denied';
  if (REDIRECT.has(code) || status === 301 || status === 307) return 'wrong-region';
  return 'error';
}

/** The region a redirect error names: `Region` (AuthorizationHeaderMalformed) or the x-amz-bucket-region header. */
export function redirectRegion(error: unknown): string | undefined {
  const e = error as { Region?: unknown; $response?: { headers?: Record<string, string | undefined> } } | undefined;
  if (typeof e?.Region === 'string' && e.Region.length > 0) return e.Region;
  const header = e?.$response?.headers?.['x-amz-bucket-region'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** GetBucketLocation's answer as a region: null or '' is us-east-1, 'EU' is eu-west-1. */
export function regionFromLocation(location: BucketLocationConstraint | string | null | undefined): string {
  if (location === undefined || location === null || location === '') return 'us-east-1';
  if (location === 'EU') return 'eu-west-1';
  return location;
}

function failure(error: unknown): S3Outcome<never> {
  return { ok: false, kind: classifyS3Error(error), code: errorCode(error), message: errorMessage(error) };
}

export class S3LifecycleAdapter {
  constructor(
    private readonly clientFor: S3ClientForRegion,
    private readonly defaultRegion: string,
  ) {}

  /**
   * Runs one call for a bucket in `region`; on a region redirect that names another region, repeats it once there.
   * Errors become outcomes.
   */
  private async call<T>(region: string, op: (client: S3Client) => Promise<T>): Promise<S3Outcome<T>> {
    try {
      return { ok: true, value: await op(this.clientFor(region)), region };
    } catch (error) {
      const target = classifyS3Error(error) === 'wrong-region' ? redirectRegion(error) : undefined;
      if (target === undefined || target === region) return failure(error);
      try {
        return { ok: true, value: await op(this.clientFor(target)), region: target };
      } catch (again) {
        return failure(again);
      }
    }
  }

  /** Every bucket of the account (ListBuckets, paginated 1,000 at a time). Throws when the account cannot be listed. */
  async listBuckets(): Promise<ListedBucket[]> {
    const buckets: ListedBucket[] = [];
    for await (const page of paginateListBuckets({ client: this.clientFor(this.defaultRegion), pageSize: 1000 }, {})) {
      for (const b of page.Buckets ?? []) {
        if (b.Name) buckets.push({ name: b.Name, ...(b.BucketRegion ? { region: b.BucketRegion } : {}) });
      }
    }
    return buckets;
  }

  /** The bucket's region (GetBucketLocation). A missing bucket answers `missing`, a foreign one `access-denied`. */
  async locate(bucket: string): Promise<S3Outcome<string>> {
    const out = await this.call(this.defaultRegion, (c) => c.send(new GetBucketLocationCommand({ Bucket: bucket })));
    return out.ok ? { ok: true, value: regionFromLocation(out.value.LocationConstraint), region: out.region } : out;
  }

  /** The bucket's tags; a bucket without tags (NoSuchTagSet) has none. */
  async tags(bucket: string, region: string): Promise<S3Outcome<Record<string, string>>> {
    const out = await this.call(region, async (c) => {
      try {
        const res = await c.send(new GetBucketTaggingCommand({ Bucket: bucket }));
        return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      } catch (error) {
        if (errorCode(error) === 'NoSuchTagSet') return {};
        throw error;
      }
    });
    return out;
  }

  /**
   * The bucket's policy document (JSON text); undefined when the bucket has none (NoSuchBucketPolicy). Any other error
   * (AccessDenied…) is a failed outcome: the caller cannot tell what the policy allows.
   */
  async policy(bucket: string, region: string): Promise<S3Outcome<string | undefined>> {
    return this.call(region, async (c) => {
      try {
        const res = await c.send(new GetBucketPolicyCommand({ Bucket: bucket }));
        if (!res) throw new TypeError('GetBucketPolicy returned no response');
        return res.Policy;
      } catch (error) {
        if (errorCode(error) === 'NoSuchBucketPolicy') return undefined;
        throw error;
      }
    });
  }

  /** The bucket's lifecycle configuration; none (NoSuchLifecycleConfiguration) is an empty one. */
  async lifecycle(bucket: string, region: string): Promise<S3Outcome<LifecycleState<LifecycleRule>>> {
    return this.call(region, async (c): Promise<LifecycleState<LifecycleRule>> => {
      try {
        const res = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
        return {
          rules: res.Rules ?? [],
          ...(res.TransitionDefaultMinimumObjectSize
            ? { transitionDefaultMinimumObjectSize: res.TransitionDefaultMinimumObjectSize }
            : {}),
        };
      } catch (error) {
        if (errorCode(error) === 'NoSuchLifecycleConfiguration') return { rules: [] };
        throw error;
      }
    });
  }

  /** Versioning: Enabled, Suspended, or Unversioned when it was never enabled. */
  async versioning(bucket: string, region: string): Promise<S3Outcome<VersioningState>> {
    return this.call(region, async (c): Promise<VersioningState> => {
      const res = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      return res.Status === 'Enabled' || res.Status === 'Suspended' ? res.Status : 'Unversioned';
    });
  }

  /**
   * Writes the whole lifecycle configuration (PutBucketLifecycleConfiguration replaces it), with the CRC32 checksum S3
   * requires on this call. An empty rule list cannot be put: the configuration is deleted instead. Throws on failure
   * (the ActionRunner records it). Follows one region redirect like the reads.
   */
  async writeLifecycle(bucket: string, region: string, config: LifecycleState): Promise<void> {
    const out = await this.call(region, async (c) => {
      if (config.rules.length === 0) {
        await c.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
        return;
      }
      await c.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          ChecksumAlgorithm: 'CRC32',
          LifecycleConfiguration: { Rules: config.rules as LifecycleRule[] },
          ...(config.transitionDefaultMinimumObjectSize
            ? {
                TransitionDefaultMinimumObjectSize:
                  config.transitionDefaultMinimumObjectSize as TransitionDefaultMinimumObjectSize,
              }
            : {}),
        }),
      );
    });
    if (!out.ok) throw new S3WriteError(bucket, out.code, out.message);
  }

  /** Writes only when `desired` differs from `current`; returns what it did. */
  async writeLifecycleIfChanged(
    bucket: string,
    region: string,
    current: LifecycleState,
    desired: LifecycleState,
  ): Promise<'written' | 'unchanged'> {
    if (lifecycleEquals(current, desired)) return 'unchanged';
    await this.writeLifecycle(bucket, region, desired);
    return 'written';
  }
}

/** A lifecycle write S3 refused; `code` is S3's error code (recorded as the action's errorCode). */
export class S3WriteError extends CostGuardError {
  constructor(
    readonly bucket: string,
    readonly code: string,
    message: string,
  ) {
    super(`writing the lifecycle configuration of ${bucket} failed: ${code}: ${message}`);
    this.name = 'S3WriteError';
  }
}
