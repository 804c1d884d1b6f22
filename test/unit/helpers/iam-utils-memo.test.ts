/** The remembered resource-type matching answers as the library does, and hands out copies. */
import { memoizedIamUtils } from '../../helpers/iam-utils-memo';

const actual = jest.requireActual<typeof import('@cloud-copilot/iam-utils')>('@cloud-copilot/iam-utils');

/** An ARN pattern as the Service Authorization Reference writes it: `<Region>` stands for `${Region}`. */
const pattern = (text: string) => text.replace(/<(\w+)>/g, (_, name: string) => `\${${name}}`);
const EC2_PATTERNS = [
  pattern('arn:<Partition>:ec2:<Region>:<Account>:instance/<InstanceId>'),
  pattern('arn:<Partition>:ec2:<Region>:<Account>:volume/<VolumeId>'),
];
const S3_PATTERNS = [
  pattern('arn:<Partition>:s3:::<BucketName>'),
  pattern('arn:<Partition>:s3:::<BucketName>/<ObjectName>'),
];

describe('Function: memoizedIamUtils', () => {
  it.each([
    ['arn:aws:ec2:us-east-1:111122223333:instance/i-0abc', EC2_PATTERNS],
    ['arn:aws:ec2:us-east-1:111122223333:instance/*', EC2_PATTERNS],
    ['*', EC2_PATTERNS],
    ['arn:aws:s3:::ml-artifacts', S3_PATTERNS],
    ['arn:aws:s3:::ml-artifacts/*', S3_PATTERNS],
    ['arn:aws:s3:::ml-artifacts/a/b', S3_PATTERNS],
  ])('matches %s as the library does, asked once or twice', (resource, patterns) => {
    const utils = memoizedIamUtils();
    const expected = actual.mostSpecificMatchingResourceTypePatterns(resource, patterns);
    expect(utils.mostSpecificMatchingResourceTypePatterns(resource, patterns)).toEqual(expected);
    expect(utils.mostSpecificMatchingResourceTypePatterns(resource, patterns)).toEqual(expected);
  });

  it('keys on the patterns too, and a caller changing an answer does not change the next one', () => {
    const utils = memoizedIamUtils();
    const resource = 'arn:aws:s3:::ml-artifacts/model.tar';
    const first = utils.mostSpecificMatchingResourceTypePatterns(resource, S3_PATTERNS);
    first.push('changed');
    expect(utils.mostSpecificMatchingResourceTypePatterns(resource, S3_PATTERNS)).toEqual([S3_PATTERNS[1]]);
    expect(utils.mostSpecificMatchingResourceTypePatterns(resource, EC2_PATTERNS)).toEqual([]);
  });

  it('keeps the rest of the package as it is', () => {
    const utils = memoizedIamUtils();
    expect(utils.resourceStringMatchesResourceTypePattern).toBe(actual.resourceStringMatchesResourceTypePattern);
  });
});
