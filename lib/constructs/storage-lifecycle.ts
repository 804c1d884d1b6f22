import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { selectsByTag } from '../../lambda/core/lifecycle/merge';
import { CostGuardFunction } from './cost-guard-function';
import { type Acknowledgement, grantPolicySet, type PolicySet } from './policy-set';
import type { SharedResources } from './shared-resources';

/** The S3 read actions the lifecycle function may call on a bucket (never an object action). */
export const LIFECYCLE_BUCKET_READ_ACTIONS = [
  's3:GetBucketLocation',
  's3:GetBucketVersioning',
  's3:GetLifecycleConfiguration',
  // The bucket policy tells which buckets receive CloudTrail, Config or access logs (never given rules).
  's3:GetBucketPolicy',
] as const;

/**
 * The one bucket write, granted only with `dryRun: false`. PutLifecycleConfiguration also authorizes
 * DeleteBucketLifecycle (used when no rule is left on a bucket).
 */
export const LIFECYCLE_BUCKET_WRITE_ACTIONS = ['s3:PutLifecycleConfiguration'] as const;

/** Every S3 action the lifecycle function may call on a bucket when it acts. */
export const LIFECYCLE_BUCKET_ACTIONS = [...LIFECYCLE_BUCKET_READ_ACTIONS, ...LIFECYCLE_BUCKET_WRITE_ACTIONS] as const;

export interface StorageLifecycleProps {
  /** The validated config; `storage` drives the schedule, the bucket selection and the IAM scope. */
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /**
   * Memory of the function; tag selection lists every bucket of the account. @default 512
   */
  readonly memorySize?: number;
}

/**
 * What the storage lifecycle may do in one account (see {@link StorageLifecycle}): bucket-level lifecycle reads
 * (the write only with `dryRun: false`) on the selected buckets, ListAllMyBuckets with tag selection, bucket sizes
 * from CloudWatch; no object action. Its function role gets it; in organization mode, each member account's spoke
 * role too.
 */
export function lifecyclePolicySet(config: CostGuardConfig): PolicySet {
  const storage = config.storage;
  const byTag = selectsByTag(storage);
  const partition = Aws.PARTITION;
  const bucketArns = byTag
    ? [`arn:${partition}:s3:::*`]
    : [...new Set(storage.buckets)].map((name) => `arn:${partition}:s3:::${name}`);
  const statements: iam.PolicyStatement[] = [];
  if (bucketArns.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'LifecycleOnSelectedBuckets',
        actions: [
          ...LIFECYCLE_BUCKET_READ_ACTIONS,
          ...(config.dryRun ? [] : LIFECYCLE_BUCKET_WRITE_ACTIONS),
          // Tags are read for listed buckets too: they tell a CDK bootstrap or this stack's own bucket apart.
          's3:GetBucketTagging',
        ],
        resources: bucketArns,
      }),
    );
  }
  if (byTag) {
    statements.push(
      new iam.PolicyStatement({ sid: 'ListBuckets', actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
    );
  }
  statements.push(
    new iam.PolicyStatement({ sid: 'BucketSizes', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
  );

  const acknowledgements: Acknowledgement[] = [];
  const acknowledge = (id: string, reason: string) => acknowledgements.push({ id, reason });
  acknowledge(
    'AwsSolutions-IAM5[Resource::*]',
    's3:ListAllMyBuckets and cloudwatch:GetMetricData have no resource-level permissions: IAM only accepts "*" ' +
      'for them. Both are read-only.',
  );
  if (byTag) {
    acknowledge(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]`,
      'Buckets are selected at run time by their tag (storage.bucketTag), so the bucket-level actions cannot name ' +
        'the buckets at deploy time. Only bucket-level lifecycle, tagging, location and versioning actions are ' +
        'granted; no object action. Set storage.selectByTag to false with an explicit storage.buckets list to scope ' +
        'them to bucket ARNs.',
    );
  }
  return { statements, acknowledgements };
}

/**
 * The storage-lifecycle capability: a scheduled function (default daily) that merges the configured S3 lifecycle
 * rules into the selected buckets' own configurations.
 *
 * IAM: the lifecycle, versioning and location actions on buckets (the lifecycle write only with `dryRun: false`;
 * a dry-run deployment can read and report, never write); tagging and ListAllMyBuckets only when buckets
 * are selected by tag; CloudWatch GetMetricData for bucket sizes. With an explicit bucket list and tag selection off
 * (`storage.selectByTag: false`), the bucket actions are limited to those bucket ARNs; tag selection needs every
 * bucket (`arn:aws:s3:::*`) since the buckets are only known at run time. No object action is granted.
 */
export class StorageLifecycle extends Construct {
  readonly fn: CostGuardFunction;

  constructor(scope: Construct, id: string, props: StorageLifecycleProps) {
    super(scope, id);
    const { config, shared } = props;
    const storage = config.storage;
    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'lifecycle',
      handlerFile: 'storage-lifecycle.ts',
      config,
      configKeys: ['storage'],
      schedule: storage.schedule,
      stateTable: shared.stateTable,
      stateTableUses: ['ledgerWrite', 'state'],
      slackSecret: shared.slackSecret,
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
    });

    grantPolicySet(this.fn.role, lifecyclePolicySet(config));
  }
}
