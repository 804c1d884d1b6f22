import {
  actionMatches,
  guardStackName,
  isBootstrapBucketName,
  logDeliveryGrants,
  protectionByName,
  protectionByPolicy,
  protectionByTags,
} from '../../../../lambda/core/lifecycle/protection';

const kinds = (reasons: readonly { kind: string }[]) => reasons.map((r) => r.kind);

/** A policy document as S3 returns it (JSON text). */
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** The statements the CloudTrail console writes on a trail's bucket. */
const cloudTrailStatements = [
  {
    Sid: 'AWSCloudTrailAclCheck',
    Effect: 'Allow',
    Principal: { Service: 'cloudtrail.amazonaws.com' },
    Action: 's3:GetBucketAcl',
    Resource: 'arn:aws:s3:::trail-logs',
  },
  {
    Sid: 'AWSCloudTrailWrite',
    Effect: 'Allow',
    Principal: { Service: 'cloudtrail.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::trail-logs/AWSLogs/123456789012/*',
    Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
  },
];

describe('Function: isBootstrapBucketName', () => {
  it.each([
    'cdk-hnb659fds-assets-123456789012-us-east-1',
    'cdk-myqual-assets-123456789012-ap-southeast-2',
    'cdk-hnb659fds-staging-123456789012-eu-west-1',
    'cdktoolkit-stagingbucket-1a2b3c4d5e6f',
  ])('recognises %s', (name) => {
    expect(isBootstrapBucketName(name)).toBe(true);
  });

  it.each([
    'ml-artifacts',
    'cdk-hnb659fds-assets', // no account or region
    'my-cdk-hnb659fds-assets-123456789012-us-east-1',
    'cdk-hnb659fds-assets-1234-us-east-1',
  ])('leaves %s alone', (name) => {
    expect(isBootstrapBucketName(name)).toBe(false);
  });
});

describe('Function: protectionByName', () => {
  it('protects a bucket listed in excludeBuckets and says so', () => {
    const reasons = protectionByName('ml-keep', ['other', 'ml-keep']);
    expect(kinds(reasons)).toEqual(['excluded']);
    expect(reasons[0]!.message).toContain('storage.excludeBuckets');
  });

  it('protects the bootstrap asset bucket by its name', () => {
    expect(kinds(protectionByName('cdk-hnb659fds-assets-123456789012-us-east-1', []))).toEqual(['cdk-bootstrap']);
  });

  it('gives no reason for an ordinary bucket', () => {
    expect(protectionByName('ml-artifacts', ['ml-other'])).toEqual([]);
  });
});

describe('Function: protectionByTags', () => {
  it('protects a bucket of the CDKToolkit stack', () => {
    const reasons = protectionByTags({ 'aws:cloudformation:stack-name': 'CDKToolkit' }, 'MlCostGuard');
    expect(kinds(reasons)).toEqual(['cdk-bootstrap']);
    expect(reasons[0]!.message).toContain('CDKToolkit');
  });

  it('protects the bootstrap bucket of a renamed toolkit stack by its logical ID', () => {
    const tags = { 'aws:cloudformation:stack-name': 'MyToolkit', 'aws:cloudformation:logical-id': 'StagingBucket' };
    expect(kinds(protectionByTags(tags, 'MlCostGuard'))).toEqual(['cdk-bootstrap']);
  });

  it.each([
    ['the default stack name', 'MlCostGuard', 'MlCostGuard'],
    ['a configured stack name', 'CostGuardProd', 'CostGuardProd'],
    ['a nested stack of the guard', 'MlCostGuard-Storage-1ABC2DEF', 'MlCostGuard'],
    ['another copy of the guard under the default name', 'MlCostGuard', 'CostGuardProd'],
  ])('protects a bucket of %s', (_label, stack, guardStack) => {
    const reasons = protectionByTags({ 'aws:cloudformation:stack-name': stack }, guardStack);
    expect(kinds(reasons)).toEqual(['own-stack']);
    expect(reasons[0]!.message).toContain(stack);
  });

  it('leaves buckets of other stacks and untagged buckets alone', () => {
    expect(protectionByTags({ 'aws:cloudformation:stack-name': 'DataPlatform' }, 'MlCostGuard')).toEqual([]);
    expect(protectionByTags({ 'aws:cloudformation:stack-name': 'MlCostGuardian' }, 'MlCostGuard')).toEqual([]);
    expect(protectionByTags({ 'cost-guard:lifecycle': 'managed' }, 'MlCostGuard')).toEqual([]);
  });
});

describe('Function: guardStackName', () => {
  it('uses the variable when set and the default name when unset or blank', () => {
    expect(guardStackName('CostGuardProd')).toBe('CostGuardProd');
    expect(guardStackName(' CostGuardProd ')).toBe('CostGuardProd');
    expect(guardStackName(undefined)).toBe('MlCostGuard');
    expect(guardStackName('  ')).toBe('MlCostGuard');
  });
});

describe('Function: actionMatches', () => {
  it.each([
    ['s3:PutObject', true],
    ['S3:putobject', true],
    ['s3:*', true],
    ['*', true],
    ['s3:Put*', true],
    ['s3:PutObj?ct', true],
    ['s3:PutObjectAcl', false],
    ['s3:GetObject', false],
    ['s3:Get*', false],
  ])('%s covers s3:PutObject: %s', (pattern, expected) => {
    expect(actionMatches(pattern, 's3:PutObject')).toBe(expected);
  });
});

describe('Function: logDeliveryGrants', () => {
  it('finds CloudTrail in the policy the CloudTrail console writes', () => {
    expect(logDeliveryGrants(policy(...cloudTrailStatements))).toEqual(['CloudTrail']);
  });

  it.each([
    ['config.amazonaws.com', 'AWS Config'],
    ['logging.s3.amazonaws.com', 'S3 server access logs'],
    ['delivery.logs.amazonaws.com', 'CloudWatch vended logs'],
  ])('finds %s writing objects', (service, what) => {
    const doc = policy({ Effect: 'Allow', Principal: { Service: [service] }, Action: ['s3:Put*'], Resource: '*' });
    expect(logDeliveryGrants(doc)).toEqual([what]);
  });

  it('accepts a single statement object and a principal list with several services', () => {
    const doc = JSON.stringify({
      Statement: {
        Effect: 'Allow',
        Principal: { Service: ['Config.amazonaws.com', 'cloudtrail.amazonaws.com'] },
        Action: 's3:*',
      },
    });
    expect(logDeliveryGrants(doc)).toEqual(['AWS Config', 'CloudTrail']);
  });

  it('counts a NotAction statement that does not exclude PutObject', () => {
    const doc = policy({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      NotAction: 's3:Delete*',
    });
    expect(logDeliveryGrants(doc)).toEqual(['S3 server access logs']);
  });

  it('ignores Deny statements, read-only grants, other principals and other services', () => {
    const doc = policy(
      { Effect: 'Deny', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject' },
      { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl' },
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:PutObject' },
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject' },
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 's3:PutObject' },
      { Effect: 'Allow', Principal: { Service: 'config.amazonaws.com' }, NotAction: 's3:PutObject' },
    );
    expect(logDeliveryGrants(doc)).toEqual([]);
  });
});

describe('Function: protectionByPolicy', () => {
  it('protects a log bucket and names the service', () => {
    const reasons = protectionByPolicy(policy(...cloudTrailStatements));
    expect(kinds(reasons)).toEqual(['log-destination']);
    expect(reasons[0]!.message).toContain('CloudTrail');
  });

  it('gives no reason when the bucket has no policy or an unrelated one', () => {
    expect(protectionByPolicy(undefined)).toEqual([]);
    expect(protectionByPolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:*' }))).toEqual([]);
  });

  it('protects a bucket whose policy text cannot be parsed (when in doubt, no write)', () => {
    expect(kinds(protectionByPolicy('{not json'))).toEqual(['policy-unreadable']);
  });
});
