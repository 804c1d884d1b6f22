/**
 * What moving one instance to another instance type saves: the right-sizing advice's dollars. Pure.
 *
 * Both hourly figures come from the same {@link Pricing} for the instance's region; a spot instance is priced at the
 * spot estimate of both types (on-demand x (1 - spotDiscount)), so its saving is the spot difference. A quote the
 * catalog only has for us-east-1 (`fallback`) does not count: a type missing from a region's price list may not be
 * offered there at all.
 */
import type { Pricing } from './pricing';

export interface ResizeInput {
  readonly fromType: string;
  readonly toType: string;
  readonly region: string;
  /** A spot instance is priced at spot estimates. @default false */
  readonly spot?: boolean;
}

export interface ResizeSavings {
  readonly fromHourlyUsd: number;
  readonly toHourlyUsd: number;
  /** (from - to) x hoursPerMonth; negative when the target costs more. */
  readonly monthlySavingsUsd: number;
}

/** The regional hourly price of a type (spot estimate when `spot`), or undefined when the region has no figure. */
export function regionalHourly(
  pricing: Pricing,
  instanceType: string,
  region: string,
  spot = false,
): number | undefined {
  const quote = spot ? pricing.spotHourly(instanceType, region) : pricing.instanceHourly(instanceType, region);
  return quote && !quote.fallback ? quote.usd : undefined;
}

/** The monthly saving of running `toType` instead of `fromType` in `region`; undefined when either is unpriced there. */
export function resizeSavings(input: ResizeInput, pricing: Pricing): ResizeSavings | undefined {
  const from = regionalHourly(pricing, input.fromType, input.region, input.spot === true);
  const to = regionalHourly(pricing, input.toType, input.region, input.spot === true);
  if (from === undefined || to === undefined) return undefined;
  return { fromHourlyUsd: from, toHourlyUsd: to, monthlySavingsUsd: pricing.monthly(from - to) };
}
