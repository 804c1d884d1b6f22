import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  classifyS3Error,
  regionFromLocation,
  S3LifecycleAdapter,
  S3WriteError,
} from '../../../lambda/adapters/s3-lifecycle';
import { toS3Rule } from '../../../lambda/core/lifecycle/merge';
import { DEFAULT_LIFECYCLE_RULES } from '../../../lambda/core/lifecycle/rules';

const s3 = mockClient(S3Client);

const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(
    new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name} error` }),
    extra,
  );

function adapter() {
  const regions: string[] = [];
  const a = new S3LifecycleAdapter((region) => {
    regions.push(region);
    return new S3Client({ region });
  }, 'us-east-1');
  return { a, regions };
}

const rule = toS3Rule(DEFAULT_LIFECYCLE_RULES[0]!);

beforeEach(() => s3.reset());

describe('Function: regionFromLocation', () => {
  it.each([
    [undefined, 'us-east-1'],
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['ap-south-1', 'ap-south-1'],
  ])('maps %p to %s', (location, region) => {
    expect(regionFromLocation(location)).toBe(region);
  });
});

describe('Function: classifyS3Error', () => {
  it.each([
    ['NoSuchBucket', 404, 'missing'],
    ['AccessDenied', 403, 'access-denied'],
    ['PermanentRedirect', 301, 'wrong-region'],
    ['AuthorizationHeaderMalformed', 400, 'wrong-region'],
    ['InternalError', 500, 'error'],
  ] as const)('classifies %s as %s', (name, status, kind) => {
    expect(classifyS3Error(awsError(name, status))).toBe(kind);
  });
});

describe('Class: S3LifecycleAdapter', () => {
  it('lists every bucket across pages with the region ListBuckets reports', async () => {
    // Prepare
    s3.on(ListBucketsCommand)
      .resolvesOnce({ Buckets: [{ Name: 'a', BucketRegion: 'us-east-1' }], ContinuationToken: 'next' })
      .resolvesOnce({ Buckets: [{ Name: 'b' }] });
    // Act
    const buckets = await adapter().a.listBuckets();
    // Assess
    expect(buckets).toEqual([{ name: 'a', region: 'us-east-1' }, { name: 'b' }]);
    expect(s3).toHaveReceivedCommandTimes(ListBucketsCommand, 2);
    expect(s3).toHaveReceivedNthCommandWith(2, ListBucketsCommand, { ContinuationToken: 'next', MaxBuckets: 1000 });
  });

  it('reads tags, and treats NoSuchTagSet as no tags', async () => {
    s3.on(GetBucketTaggingCommand, { Bucket: 'tagged' })
      .resolves({ TagSet: [{ Key: 'cost-guard:lifecycle', Value: 'managed' }] })
      .on(GetBucketTaggingCommand, { Bucket: 'plain' })
      .rejects(awsError('NoSuchTagSet', 404));
    const { a } = adapter();
    expect(await a.tags('tagged', 'us-east-1')).toEqual({
      ok: true,
      value: { 'cost-guard:lifecycle': 'managed' },
      region: 'us-east-1',
    });
    expect(await a.tags('plain', 'us-east-1')).toMatchObject({ ok: true, value: {} });
  });

  it('reports AccessDenied on tags as an outcome, not an exception', async () => {
    s3.on(GetBucketTaggingCommand).rejects(awsError('AccessDenied', 403));
    expect(await adapter().a.tags('secret', 'us-east-1')).toMatchObject({
      ok: false,
      kind: 'access-denied',
      code: 'AccessDenied',
    });
  });

  it('reads the bucket policy, and treats NoSuchBucketPolicy as no policy', async () => {
    const policy = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'config.amazonaws.com' } }] });
    s3.on(GetBucketPolicyCommand, { Bucket: 'logs' })
      .resolves({ Policy: policy })
      .on(GetBucketPolicyCommand, { Bucket: 'plain' })
      .rejects(awsError('NoSuchBucketPolicy', 404));
    const { a } = adapter();
    expect(await a.policy('logs', 'us-east-1')).toEqual({ ok: true, value: policy, region: 'us-east-1' });
    expect(await a.policy('plain', 'us-east-1')).toEqual({ ok: true, value: undefined, region: 'us-east-1' });
  });

  it('reports AccessDenied on the policy as an outcome (the caller cannot tell what it allows)', async () => {
    s3.on(GetBucketPolicyCommand).rejects(awsError('AccessDenied', 403));
    expect(await adapter().a.policy('secret', 'us-east-1')).toMatchObject({
      ok: false,
      kind: 'access-denied',
      code: 'AccessDenied',
    });
  });

  it('treats NoSuchLifecycleConfiguration as an empty configuration', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(awsError('NoSuchLifecycleConfiguration', 404));
    expect(await adapter().a.lifecycle('b', 'us-east-1')).toEqual({
      ok: true,
      value: { rules: [] },
      region: 'us-east-1',
    });
  });

  it('keeps the TransitionDefaultMinimumObjectSize the bucket reports', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [rule as never],
      TransitionDefaultMinimumObjectSize: 'varies_by_storage_class',
    });
    const out = await adapter().a.lifecycle('b', 'us-east-1');
    expect(out).toMatchObject({
      ok: true,
      value: { rules: [rule], transitionDefaultMinimumObjectSize: 'varies_by_storage_class' },
    });
  });

  it('reports a missing bucket from GetBucketLocation', async () => {
    s3.on(GetBucketLocationCommand).rejects(awsError('NoSuchBucket', 404));
    expect(await adapter().a.locate('nope')).toMatchObject({ ok: false, kind: 'missing', code: 'NoSuchBucket' });
  });

  it('maps the EU location constraint to eu-west-1', async () => {
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'EU' });
    expect(await adapter().a.locate('old')).toMatchObject({ ok: true, value: 'eu-west-1' });
  });

  it.each([
    ['AuthorizationHeaderMalformed', 400, { Region: 'eu-west-1' }],
    ['PermanentRedirect', 301, { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } }],
  ])('repeats a call once in the region a %s redirect names', async (name, status, extra) => {
    // Prepare
    s3.on(GetBucketLifecycleConfigurationCommand)
      .rejectsOnce(awsError(name, status, extra))
      .resolves({ Rules: [rule as never] });
    const { a, regions } = adapter();
    // Act
    const out = await a.lifecycle('moved', 'us-east-1');
    // Assess
    expect(out).toMatchObject({ ok: true, region: 'eu-west-1', value: { rules: [rule] } });
    expect(regions).toEqual(['us-east-1', 'eu-west-1']);
  });

  it('reports a redirect that names no region as wrong-region', async () => {
    s3.on(GetBucketVersioningCommand).rejects(awsError('PermanentRedirect', 301));
    expect(await adapter().a.versioning('b', 'us-east-1')).toMatchObject({ ok: false, kind: 'wrong-region' });
  });

  it('reads versioning: never enabled is Unversioned', async () => {
    s3.on(GetBucketVersioningCommand, { Bucket: 'v' })
      .resolves({ Status: 'Enabled' })
      .on(GetBucketVersioningCommand, { Bucket: 'u' })
      .resolves({});
    const { a } = adapter();
    expect(await a.versioning('v', 'us-east-1')).toMatchObject({ value: 'Enabled' });
    expect(await a.versioning('u', 'us-east-1')).toMatchObject({ value: 'Unversioned' });
  });

  it('puts the whole configuration with a CRC32 checksum and the bucket minimum-size setting', async () => {
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    await adapter().a.writeLifecycle('b', 'eu-west-1', {
      rules: [rule],
      transitionDefaultMinimumObjectSize: 'varies_by_storage_class',
    });
    expect(s3).toHaveReceivedCommandWith(PutBucketLifecycleConfigurationCommand, {
      Bucket: 'b',
      ChecksumAlgorithm: 'CRC32',
      LifecycleConfiguration: { Rules: [rule as never] },
      TransitionDefaultMinimumObjectSize: 'varies_by_storage_class',
    });
  });

  it('sends no TransitionDefaultMinimumObjectSize when the bucket had none', async () => {
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    await adapter().a.writeLifecycle('b', 'us-east-1', { rules: [rule] });
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input).not.toHaveProperty(
      'TransitionDefaultMinimumObjectSize',
    );
  });

  it('deletes the configuration instead of putting an empty one', async () => {
    s3.on(DeleteBucketLifecycleCommand).resolves({});
    await adapter().a.writeLifecycle('b', 'us-east-1', { rules: [] });
    expect(s3).toHaveReceivedCommandTimes(DeleteBucketLifecycleCommand, 1);
    expect(s3).not.toHaveReceivedCommand(PutBucketLifecycleConfigurationCommand);
  });

  it('throws S3WriteError with the S3 code when the put fails', async () => {
    s3.on(PutBucketLifecycleConfigurationCommand).rejects(awsError('InvalidArgument', 400));
    await expect(adapter().a.writeLifecycle('b', 'us-east-1', { rules: [rule] })).rejects.toMatchObject({
      name: 'S3WriteError',
      code: 'InvalidArgument',
    });
    await expect(adapter().a.writeLifecycle('b', 'us-east-1', { rules: [rule] })).rejects.toBeInstanceOf(S3WriteError);
  });

  it('puts only when the configuration changed', async () => {
    // Prepare
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    const { a } = adapter();
    const current = { rules: [rule] };
    // Act
    const same = await a.writeLifecycleIfChanged('b', 'us-east-1', current, { rules: [{ ...rule }] });
    const changed = await a.writeLifecycleIfChanged('b', 'us-east-1', current, {
      rules: [{ ...rule, Expiration: { Days: 731 } }],
    });
    // Assess
    expect([same, changed]).toEqual(['unchanged', 'written']);
    expect(s3).toHaveReceivedCommandTimes(PutBucketLifecycleConfigurationCommand, 1);
  });
});
