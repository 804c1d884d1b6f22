/**
 * Accelerator facts of the GPU and Neuron instance types the price catalog knows: how many accelerators, which model,
 * how much memory each has, and the vCPUs. Needed to compare sizes (right-sizing) and to check the price catalog's
 * shape. Pure data.
 *
 * The figures are what EC2 `DescribeInstanceTypes` reports: `GpuInfo.Gpus[].Name` / `Count` /
 * `MemoryInfo.SizeInMiB` for GPU types, `NeuronInfo.NeuronDevices[]` for Inferentia and Trainium (inf1 also reports
 * `InferenceAcceleratorInfo`). Checked against recorded DescribeInstanceTypes output for g4ad.16xlarge, g4dn.8xlarge,
 * g6.12xlarge, p3.8xlarge, p5.48xlarge, inf2.xlarge, inf2.24xlarge and trn1.2xlarge; the rest come from the EC2
 * accelerated-computing specifications and the instance type pages, in MiB as the API gives them (an "L4 24 GB" is
 * 22,888 MiB there). Estimated, not seen in API output: g6e (L40S), g7e, p5e/p5en (H200), p6-b200 and p6-b300 memory.
 *
 * For right-sizing use {@link acceleratorFacts}: it answers both `g5.xlarge` and the SageMaker `ml.g5.xlarge`.
 * The reaper does not decide what is a GPU from this table: it asks DescribeInstanceTypes (types change faster than
 * a hand list).
 */

/** What an instance type carries: GPUs (NVIDIA, AMD) or AWS Neuron devices (Inferentia, Trainium). */
export type AcceleratorKind = 'gpu' | 'neuron';

export interface AcceleratorFacts {
  readonly kind: AcceleratorKind;
  readonly manufacturer: 'NVIDIA' | 'AMD' | 'AWS';
  /** The device name as DescribeInstanceTypes reports it: 'A10G', 'H100', 'Inferentia2'. */
  readonly model: string;
  /**
   * Accelerators per instance. Fractional for the g6f and gr6f types, which get a share of one L4 (an eighth, a
   * quarter or a half).
   */
  readonly count: number;
  /** Memory of one whole accelerator, MiB (DescribeInstanceTypes `MemoryInfo.SizeInMiB`). */
  readonly memoryMiB: number;
  readonly vcpus: number;
}

type Device = Omit<AcceleratorFacts, 'count' | 'vcpus'>;

const nvidia = (model: string, memoryMiB: number): Device => ({
  kind: 'gpu',
  manufacturer: 'NVIDIA',
  model,
  memoryMiB,
});
const amd = (model: string, memoryMiB: number): Device => ({ kind: 'gpu', manufacturer: 'AMD', model, memoryMiB });
const neuron = (model: string, memoryMiB: number): Device => ({
  kind: 'neuron',
  manufacturer: 'AWS',
  model,
  memoryMiB,
});

/** One family: its device and, per size, [accelerators, vCPUs]. */
function family(
  name: string,
  device: Device,
  sizes: Readonly<Record<string, readonly [count: number, vcpus: number]>>,
): [string, AcceleratorFacts][] {
  return Object.entries(sizes).map(([size, [count, vcpus]]) => [
    `${name}.${size}`,
    Object.freeze({ ...device, count, vcpus }),
  ]);
}

const T4 = nvidia('T4', 16384);
const L4 = nvidia('L4', 22888);

/** Accelerator facts by EC2 instance type. */
export const ACCELERATOR_FACTS: Readonly<Record<string, AcceleratorFacts>> = Object.freeze(
  Object.fromEntries([
    // NVIDIA T4 16 GB
    ...family('g4dn', T4, {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '12xlarge': [4, 48],
      '16xlarge': [1, 64],
      metal: [8, 96],
    }),
    // AMD Radeon Pro V520 8 GB
    ...family('g4ad', amd('Radeon Pro V520', 8192), {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [2, 32],
      '16xlarge': [4, 64],
    }),
    // NVIDIA A10G 24 GB
    ...family('g5', nvidia('A10G', 24576), {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '12xlarge': [4, 48],
      '16xlarge': [1, 64],
      '24xlarge': [4, 96],
      '48xlarge': [8, 192],
    }),
    // NVIDIA T4G 16 GB, Graviton2 (arm64)
    ...family('g5g', nvidia('T4g', 16384), {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '16xlarge': [2, 64],
      metal: [2, 64],
    }),
    // NVIDIA L4 24 GB
    ...family('g6', L4, {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '12xlarge': [4, 48],
      '16xlarge': [1, 64],
      '24xlarge': [4, 96],
      '48xlarge': [8, 192],
    }),
    // NVIDIA L40S 48 GB
    ...family('g6e', nvidia('L40S', 45776), {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '12xlarge': [4, 48],
      '16xlarge': [1, 64],
      '24xlarge': [4, 96],
      '48xlarge': [8, 192],
    }),
    // A share of one NVIDIA L4: 1/8 (3 GB), 1/4 (6 GB), 1/2 (12 GB)
    ...family('g6f', L4, { large: [0.125, 2], xlarge: [0.125, 4], '2xlarge': [0.25, 8], '4xlarge': [0.5, 16] }),
    // NVIDIA L4 with more memory per vCPU
    ...family('gr6', L4, { '4xlarge': [1, 16], '8xlarge': [1, 32] }),
    ...family('gr6f', L4, { '4xlarge': [0.5, 16] }),
    // NVIDIA RTX PRO 6000 Blackwell Server Edition 96 GB
    ...family('g7e', nvidia('RTX PRO 6000', 98304), {
      '2xlarge': [1, 8],
      '4xlarge': [1, 16],
      '8xlarge': [1, 32],
      '12xlarge': [2, 48],
      '24xlarge': [4, 96],
      '48xlarge': [8, 192],
    }),
    // NVIDIA V100 16 GB (p3) and 32 GB (p3dn)
    ...family('p3', nvidia('V100', 16384), { '2xlarge': [1, 8], '8xlarge': [4, 32], '16xlarge': [8, 64] }),
    ...family('p3dn', nvidia('V100', 32768), { '24xlarge': [8, 96] }),
    // NVIDIA A100 40 GB (p4d) and 80 GB (p4de)
    ...family('p4d', nvidia('A100', 40960), { '24xlarge': [8, 96] }),
    ...family('p4de', nvidia('A100', 81920), { '24xlarge': [8, 96] }),
    // NVIDIA H100 80 GB
    ...family('p5', nvidia('H100', 81920), { '4xlarge': [1, 16], '48xlarge': [8, 192] }),
    // NVIDIA H200 141 GB
    ...family('p5e', nvidia('H200', 144384), { '48xlarge': [8, 192] }),
    ...family('p5en', nvidia('H200', 144384), { '48xlarge': [8, 192] }),
    // NVIDIA B200 179 GB, B300 (2.1 TB HBM3e an instance)
    ...family('p6-b200', nvidia('B200', 183296), { '48xlarge': [8, 192] }),
    ...family('p6-b300', nvidia('B300', 268800), { '48xlarge': [8, 192] }),
    // AWS Inferentia (8 GB), Inferentia2 (32 GB), Trainium (32 GB), Trainium2 (96 GB): Neuron devices
    ...family('inf1', neuron('Inferentia', 8192), {
      xlarge: [1, 4],
      '2xlarge': [1, 8],
      '6xlarge': [4, 24],
      '24xlarge': [16, 96],
    }),
    ...family('inf2', neuron('Inferentia2', 32768), {
      xlarge: [1, 4],
      '8xlarge': [1, 32],
      '24xlarge': [6, 96],
      '48xlarge': [12, 192],
    }),
    ...family('trn1', neuron('Trainium', 32768), { '2xlarge': [1, 8], '32xlarge': [16, 128] }),
    ...family('trn1n', neuron('Trainium', 32768), { '32xlarge': [16, 128] }),
    ...family('trn2', neuron('Trainium2', 98304), { '48xlarge': [16, 192] }),
  ]),
);

/** The SageMaker prefix of ML instance types: `ml.g5.xlarge` runs on a `g5.xlarge`. */
export const SAGEMAKER_PREFIX = 'ml.';

/** The EC2 type under an instance type: `ml.g5.xlarge` -> `g5.xlarge`; an EC2 type is returned as it is. */
export function ec2TypeOf(instanceType: string): string {
  return instanceType.startsWith(SAGEMAKER_PREFIX) ? instanceType.slice(SAGEMAKER_PREFIX.length) : instanceType;
}

/** The family of an instance type, the part before the size: `g5`, `p6-b200`, `ml.g5` for `ml.g5.xlarge`. */
export function familyOf(instanceType: string): string {
  const dot = instanceType.lastIndexOf('.');
  return dot < 0 ? instanceType : instanceType.slice(0, dot);
}

/** Size order within a family: medium < large < xlarge < 2xlarge < … < 48xlarge < metal. */
function sizeRank(instanceType: string): number {
  const size = instanceType.slice(instanceType.lastIndexOf('.') + 1);
  if (size === 'medium') return 0.25;
  if (size === 'large') return 0.5;
  const match = /^(\d*)xlarge$/.exec(size);
  if (match) return match[1] ? Number(match[1]) : 1;
  return size.startsWith('metal') ? 10_000 : 5_000;
}

/** Orders instance types by family, then size (for lists people read: g5.xlarge before g5.12xlarge). */
export function compareInstanceTypes(a: string, b: string): number {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return sizeRank(a) - sizeRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Accelerator facts of an EC2 or SageMaker (`ml.`) instance type; undefined when the table does not know it. */
export function acceleratorFacts(instanceType: string): AcceleratorFacts | undefined {
  const type = ec2TypeOf(instanceType);
  return Object.hasOwn(ACCELERATOR_FACTS, type) ? ACCELERATOR_FACTS[type] : undefined;
}

/** Memory of one whole accelerator in GiB (22,888 MiB -> 22.35). */
export function acceleratorMemoryGiB(facts: AcceleratorFacts): number {
  return facts.memoryMiB / 1024;
}

/** Accelerator memory an instance has in all, GiB: count x memory of one (a g6f.large's eighth of an L4: 2.8). */
export function totalAcceleratorMemoryGiB(facts: AcceleratorFacts): number {
  return facts.count * acceleratorMemoryGiB(facts);
}
