/**
 * Money and percentages for people: the one formatter every report, Slack message and CLI table uses, so the same
 * figure reads the same everywhere. Pure.
 */
import { round2 } from './savings/calculators';

const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const hourlyFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});

/** $1,234.57 (rounded to cents half away from zero); negative amounts read -$1.00. */
export function formatUsd(value: number): string {
  return usdFormat.format(round2(value));
}

/** An hourly rate with the catalog's precision: $0.526/h, $0.8048/h, $20.00/h. */
export function formatHourlyUsd(value: number): string {
  return `${hourlyFormat.format(value)}/h`;
}

/** A percentage (0-100 scale) with one decimal: 80 -> 80.0%. */
export function formatPercentValue(percent: number): string {
  return `${(Math.round(percent * 10) / 10).toFixed(1)}%`;
}
