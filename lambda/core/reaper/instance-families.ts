/**
 * The instance families the reaper may act on, as `ec2:InstanceType` patterns (IAM `StringLike`: `*` any run of
 * characters, `?` one). The stack builds the reaper's IAM condition from these lists, so IAM refuses a stop or
 * terminate on any other type whatever the code decides. Pure.
 *
 * Families whose DescribeInstanceTypes entry has `GpuInfo` (what the reaper treats as a GPU type):
 * - `g*`: NVIDIA g3, g4dn, g5, g5g, g6, g6e, g6f, gr6, gr6f, g7e…; AMD g4ad. No other family begins with `g`.
 * - `p*`: NVIDIA p2 to p6 (p3dn, p4d, p4de, p5, p5e, p5en, p6-b200, p6e-gb200…). No other family begins with `p`.
 * - `dl*`: Habana Gaudi dl1 (and Qualcomm dl2q).
 * Neuron (`NeuronInfo` / `InferenceAcceleratorInfo`): `inf*` (Inferentia 1 and 2), `trn*` (Trainium 1 and 2); only
 * with `idleGpu.includeNeuron`. Not included: vt1 (Xilinx media accelerators, `MediaAcceleratorInfo`), f1/f2 (FPGA),
 * which the reaper never judges.
 */

/** NVIDIA, AMD and Habana GPU families. */
export const GPU_INSTANCE_TYPE_PATTERNS = ['g*', 'p*', 'dl*'] as const;

/** AWS Inferentia and Trainium (Neuron) families. */
export const NEURON_INSTANCE_TYPE_PATTERNS = ['inf*', 'trn*'] as const;

/** The patterns of the types the reaper may stop or terminate: GPU families, plus Neuron when `includeNeuron`. */
export function reapableInstanceTypePatterns(includeNeuron: boolean): readonly string[] {
  return includeNeuron ? [...GPU_INSTANCE_TYPE_PATTERNS, ...NEURON_INSTANCE_TYPE_PATTERNS] : GPU_INSTANCE_TYPE_PATTERNS;
}

/** Does `instanceType` match one of `patterns` the way IAM `StringLike` does (case-sensitive, `*` and `?`)? */
export function matchesInstanceTypePattern(instanceType: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    const source = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${source}$`, 's').test(instanceType);
  });
}
