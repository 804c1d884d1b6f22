/**
 * AWS region codes: the shape every code has, and the codes known when this was written, to suggest the one a
 * mistyped code was meant to be. A well-formed code missing from the list is not rejected (AWS opens regions), only
 * reported as unknown. Pure.
 */
import { closestName } from './suggest';

/** The shape of a region code: `us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `ap-southeast-7`. */
export const AWS_REGION_CODE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Region codes of the commercial, China and GovCloud partitions as of 2026-01 (opt-in regions included). */
export const KNOWN_REGIONS: readonly string[] = Object.freeze([
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-west-1',
  'us-gov-east-1',
]);

export type RegionCheck =
  | { readonly ok: true; readonly known: boolean; readonly suggestion?: string }
  | { readonly ok: false; readonly suggestion?: string };

/**
 * Whether `value` is shaped like a region code, whether it is a known one, and the known code it most likely
 * meant (for a malformed or unknown code).
 */
export function checkRegion(value: string): RegionCheck {
  const near = () => closestName(value, KNOWN_REGIONS);
  if (!AWS_REGION_CODE.test(value)) {
    const suggestion = near();
    return suggestion ? { ok: false, suggestion } : { ok: false };
  }
  if (KNOWN_REGIONS.includes(value)) return { ok: true, known: true };
  const suggestion = near();
  return suggestion ? { ok: true, known: false, suggestion } : { ok: true, known: false };
}

/**
 * The sentence for a region given as `what` (`--region`, `AWS_REGION`) that is not shaped like a region code, or
 * undefined when it is: "--region 'us-east1' is not an AWS region code (like us-east-1); did you mean us-east-1?".
 */
export function regionCodeProblem(value: string, what: string): string | undefined {
  const check = checkRegion(value);
  if (check.ok) return undefined;
  const hint = check.suggestion ? `; did you mean ${check.suggestion}?` : '';
  return `${what} '${value}' is not an AWS region code (like us-east-1)${hint}`;
}

/** A warning for a well-formed code this version does not know (a typo, or a region newer than the list). */
export function unknownRegionWarning(value: string, what: string): string | undefined {
  const check = checkRegion(value);
  if (!check.ok || check.known) return undefined;
  const hint = check.suggestion ? `did you mean ${check.suggestion}? ` : '';
  return `${what} '${value}' is not a region this version knows; ${hint}going on with it as given`;
}

/** The partition of a region: aws-cn for China, aws-us-gov for GovCloud, aws elsewhere. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
