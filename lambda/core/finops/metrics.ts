/**
 * The ML FinOps metrics of the source chapter's table (section 4.2.9), as formulas over figures the guard reads
 * anyway. Pure; hours and bytes are additive, so a month's figure is the ratio of the month's sums (never a mean of
 * hourly ratios).
 *
 * - GPU utilization = busy GPU hours / measured GPU hours. A GPU hour is busy when the GPU's utilization was above
 *   the reaper's idle threshold (`idleGpu.gpuUtilizationPercent`) in it; measured GPU hours are the GPU hours the
 *   CloudWatch agent reported on (one GPU x one 5-minute datapoint = 1/12 h). The chapter's "compute time / billed
 *   time": GPU hours with no datapoint are unknown, so they are in neither side. Target above 70%.
 * - Spot coverage = spot GPU hours / all GPU hours, where an instance's GPU hours are its GPU count (from
 *   DescribeInstanceTypes) x the hours it ran. Target above 60%.
 * - Storage efficiency = bytes in infrequent-access and archive classes (Standard-IA, One Zone-IA, Glacier Instant
 *   Retrieval, Glacier Flexible Retrieval, Deep Archive) / all bytes, over the managed buckets, from CloudWatch
 *   `BucketSizeBytes`. The chapter defines it as "active data / total storage"; S3's size metrics cannot tell which
 *   bytes are read, so the guard measures how much has been tiered away from Standard. Target above 50%.
 */
import type { StorageClass } from '../lifecycle/rules';

/** The chapter's targets, percent: each metric should be above its target. */
export const FINOPS_TARGETS = Object.freeze({
  gpuUtilizationPercent: 70,
  spotCoveragePercent: 60,
  storageEfficiencyPercent: 50,
});

export interface GpuHours {
  /** GPU hours with utilization above the idle threshold. */
  readonly busyGpuHours: number;
  /** GPU hours the CloudWatch agent reported on. */
  readonly measuredGpuHours: number;
  /** GPU hours of spot instances. */
  readonly spotGpuHours: number;
  /** GPU hours of every running GPU instance of a known type. */
  readonly gpuHours: number;
}

export interface StorageBytes {
  /** Bytes in infrequent-access and archive classes. */
  readonly infrequentBytes: number;
  /** Bytes in every class read. */
  readonly totalBytes: number;
}

export const ZERO_GPU_HOURS: GpuHours = Object.freeze({
  busyGpuHours: 0,
  measuredGpuHours: 0,
  spotGpuHours: 0,
  gpuHours: 0,
});
export const ZERO_STORAGE_BYTES: StorageBytes = Object.freeze({ infrequentBytes: 0, totalBytes: 0 });

/** Classes that count as tiered away from Standard. INTELLIGENT_TIERING (its frequent tier) does not. */
export const INFREQUENT_CLASSES: ReadonlySet<StorageClass> = new Set<StorageClass>([
  'STANDARD_IA',
  'ONEZONE_IA',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
]);

/** part / whole in percent; undefined when whole is 0 (no data is not 0%). */
export function ratioPercent(part: number, whole: number): number | undefined {
  return whole > 0 ? (part / whole) * 100 : undefined;
}

export const gpuUtilizationPercent = (h: GpuHours): number | undefined =>
  ratioPercent(h.busyGpuHours, h.measuredGpuHours);

export const spotCoveragePercent = (h: GpuHours): number | undefined => ratioPercent(h.spotGpuHours, h.gpuHours);

export const storageEfficiencyPercent = (b: StorageBytes): number | undefined =>
  ratioPercent(b.infrequentBytes, b.totalBytes);

export function addGpuHours(a: GpuHours, b: GpuHours): GpuHours {
  return {
    busyGpuHours: a.busyGpuHours + b.busyGpuHours,
    measuredGpuHours: a.measuredGpuHours + b.measuredGpuHours,
    spotGpuHours: a.spotGpuHours + b.spotGpuHours,
    gpuHours: a.gpuHours + b.gpuHours,
  };
}

export function addStorageBytes(a: StorageBytes, b: StorageBytes): StorageBytes {
  return { infrequentBytes: a.infrequentBytes + b.infrequentBytes, totalBytes: a.totalBytes + b.totalBytes };
}

/** One bucket's bytes by storage class as infrequent / total. */
export function storageBytes(byClass: Readonly<Partial<Record<StorageClass, number>>>): StorageBytes {
  let infrequentBytes = 0;
  let totalBytes = 0;
  for (const [cls, bytes] of Object.entries(byClass) as [StorageClass, number][]) {
    if (!Number.isFinite(bytes) || bytes < 0) continue;
    totalBytes += bytes;
    if (INFREQUENT_CLASSES.has(cls)) infrequentBytes += bytes;
  }
  return { infrequentBytes, totalBytes };
}

/** Figures of the whole fleet and of each team (the team tag's value; items without it count only in `total`). */
export interface ByTeam<T> {
  readonly total: T;
  readonly teams: Readonly<Record<string, T>>;
}

/** Sums `figures` of each item into the total and its team's figures. */
export function sumByTeam<I, T>(
  items: readonly I[],
  teamOf: (item: I) => string | undefined,
  figuresOf: (item: I) => T,
  add: (a: T, b: T) => T,
  zero: T,
): ByTeam<T> {
  let total = zero;
  const teams = new Map<string, T>();
  for (const item of items) {
    const f = figuresOf(item);
    total = add(total, f);
    const team = teamOf(item);
    if (team !== undefined) teams.set(team, add(teams.get(team) ?? zero, f));
  }
  return { total, teams: Object.fromEntries([...teams.entries()].sort(([a], [b]) => a.localeCompare(b))) };
}

/** The team tag's value as a metric dimension and a report key: trimmed; undefined when absent or empty. */
export function teamValue(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  return v ? v.slice(0, 255) : undefined;
}
