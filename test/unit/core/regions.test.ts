import {
  AWS_REGION_CODE,
  checkRegion,
  KNOWN_REGIONS,
  regionCodeProblem,
  unknownRegionWarning,
} from '../../../lambda/core/regions';

describe('Constant: KNOWN_REGIONS', () => {
  it('holds only well-formed, distinct codes', () => {
    for (const region of KNOWN_REGIONS) expect(region).toMatch(AWS_REGION_CODE);
    expect(new Set(KNOWN_REGIONS).size).toBe(KNOWN_REGIONS.length);
  });
});

describe('Function: regionCodeProblem', () => {
  it.each(['us-east-1', 'eu-central-2', 'us-gov-west-1', 'ap-southeast-7', 'us-isob-east-1', 'zz-north-9'])(
    'accepts the well-formed %s',
    (region) => {
      expect(regionCodeProblem(region, '--region')).toBeUndefined();
    },
  );

  it.each([
    ['us-east1', "--region 'us-east1' is not an AWS region code (like us-east-1); did you mean us-east-1?"],
    ['useast-1', "--region 'useast-1' is not an AWS region code (like us-east-1); did you mean us-east-1?"],
    ['eu-west', "--region 'eu-west' is not an AWS region code (like us-east-1); did you mean eu-west-1?"],
    ['US-EAST-1', "--region 'US-EAST-1' is not an AWS region code (like us-east-1); did you mean us-east-1?"],
    ['mars', "--region 'mars' is not an AWS region code (like us-east-1)"],
  ])('rejects %s, suggesting the closest known region', (region, message) => {
    expect(regionCodeProblem(region, '--region')).toBe(message);
  });

  it('names where the value came from', () => {
    expect(regionCodeProblem('us-west2', 'AWS_REGION')).toMatch(/^AWS_REGION 'us-west2' is not/);
  });
});

describe('Function: unknownRegionWarning', () => {
  it('warns about a well-formed code the list lacks, with the known code it may have meant', () => {
    expect(unknownRegionWarning('eu-wset-1', '--region')).toBe(
      "--region 'eu-wset-1' is not a region this version knows; did you mean eu-west-1? going on with it as given",
    );
    expect(checkRegion('eu-wset-1')).toEqual({ ok: true, known: false, suggestion: 'eu-west-1' });
  });

  it('is silent for a known code and leaves a malformed one to regionCodeProblem', () => {
    expect(unknownRegionWarning('eu-west-1', '--region')).toBeUndefined();
    expect(unknownRegionWarning('eu-west1', '--region')).toBeUndefined();
  });
});
