/**
 * Instances that something else manages: an Auto Scaling group, a Spot Fleet / EC2 Fleet, or a Kubernetes cluster
 * (EKS node groups, Karpenter). Stopping or terminating one makes its manager launch a replacement (or disrupts the
 * pods on it), so neither guard acts on them; both say who manages the instance and how to scale it instead. Pure.
 */
import type { SkipReason } from './skip-reasons';
import { tagValue } from './tags';

export const AUTO_SCALING_TAG = 'aws:autoscaling:groupName';
/** Spot Fleet and EC2 Fleet members: a fleet replaces what we stop or terminate. */
export const FLEET_TAG_KEYS = ['aws:ec2spot:fleet-request-id', 'aws:ec2:fleet-id'] as const;
/** Tag keys that mark a Kubernetes (EKS, Karpenter) node; `kubernetes.io/cluster/<name>` is matched by prefix. */
export const KUBERNETES_TAG_KEYS = [
  'eks:cluster-name',
  'eks:eks-cluster-name',
  'eks:nodegroup-name',
  'karpenter.sh/nodepool',
  'karpenter.sh/provisioner-name',
  'karpenter.k8s.aws/ec2nodeclass',
] as const;
export const KUBERNETES_TAG_PREFIX = 'kubernetes.io/cluster/';
/** Every exact tag key that marks a managed instance (IAM denies on each; the Kubernetes prefix is code-only). */
export const MANAGED_TAG_KEYS: readonly string[] = [AUTO_SCALING_TAG, ...FLEET_TAG_KEYS, ...KUBERNETES_TAG_KEYS];

export interface ManagedBy {
  readonly code: Extract<SkipReason, 'auto-scaling-group' | 'fleet-member' | 'kubernetes-node'>;
  /** The tag that says so. */
  readonly key: string;
  /** Why, and what to do instead, in words a user understands (the tag value is untrusted: escape it to show it). */
  readonly reason: string;
}

/** Who manages the instance, judged from its tags; undefined when nothing does. */
export function managedBy(tags: Readonly<Record<string, string>>): ManagedBy | undefined {
  const asg = tagValue(tags, AUTO_SCALING_TAG);
  if (asg !== undefined) {
    return {
      code: 'auto-scaling-group',
      key: AUTO_SCALING_TAG,
      reason: `member of Auto Scaling group '${asg}': the group would launch a replacement; scale the group instead`,
    };
  }
  const fleetKey = FLEET_TAG_KEYS.find((k) => tagValue(tags, k) !== undefined);
  if (fleetKey) {
    return {
      code: 'fleet-member',
      key: fleetKey,
      reason: `member of a Spot Fleet / EC2 Fleet (${fleetKey}): change the fleet's target capacity instead`,
    };
  }
  const k8sKey =
    KUBERNETES_TAG_KEYS.find((k) => tagValue(tags, k) !== undefined) ??
    Object.keys(tags).find((k) => k.toLowerCase().startsWith(KUBERNETES_TAG_PREFIX));
  if (k8sKey) {
    return {
      code: 'kubernetes-node',
      key: k8sKey,
      reason: `Kubernetes node (${k8sKey}): let the cluster autoscaler or Karpenter scale it in`,
    };
  }
  return undefined;
}
