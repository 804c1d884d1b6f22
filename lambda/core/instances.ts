/**
 * EC2 instances and instance types as plain data: the one shape both guards decide on. The EC2 adapter
 * (lambda/adapters/ec2.ts) fills these from DescribeInstances and DescribeInstanceTypes; the decisions take them as
 * arguments and never call AWS.
 */
import type { Tags } from './tags';

/** How the instance was bought (DescribeInstances `InstanceLifecycle`; absent means on-demand). */
export type InstanceLifecycle = 'on-demand' | 'spot' | 'scheduled' | 'capacity-block';

/** One instance, as DescribeInstances reports it. */
export interface InstanceFacts {
  readonly instanceId: string;
  readonly region: string;
  /** The API's type name; 'unknown' when EC2 left it out (then no type facts are ever found for it). */
  readonly instanceType: string;
  /** EC2 state name: pending, running, stopping, stopped…; 'unknown' when EC2 left it out. */
  readonly state: string;
  /** ISO time of the last launch (or start); undefined when EC2 did not say. */
  readonly launchTime?: string;
  readonly tags: Tags;
  readonly lifecycle: InstanceLifecycle;
  readonly spotInstanceRequestId?: string;
  /** Spot request type when known (DescribeSpotInstanceRequests); looked up only when it matters. */
  readonly spotRequestType?: 'one-time' | 'persistent';
}

/** What DescribeInstanceTypes says about accelerators. */
export type AcceleratorKind = 'gpu' | 'neuron' | 'none';

/** One instance type, as DescribeInstanceTypes reports it. */
export interface InstanceTypeFacts {
  readonly instanceType: string;
  /** `gpu` for GpuInfo types (NVIDIA, AMD, Habana on dl1), `neuron` for Inferentia/Trainium, else `none`. */
  readonly accelerator: AcceleratorKind;
  /** GPUs or Neuron/Inferentia devices. */
  readonly acceleratorCount: number;
  /** e.g. "NVIDIA A10G", "Habana Gaudi HL-205", "Inferentia2". */
  readonly acceleratorName?: string;
  /** The type has instance store (local NVMe) volumes, whose data is lost on stop. */
  readonly instanceStorage: boolean;
}
