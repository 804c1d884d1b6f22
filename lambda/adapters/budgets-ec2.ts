/**
 * The EC2 calls of the budget guard and `cost-guard restore`: list instances by tag and describe instance types
 * (through the shared paginator and type catalog in ./ec2), stop, start, tag, untag.
 * One instance per Stop/Start call, so one failure (a one-time Spot instance, a capacity error) never blocks others.
 */
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  type EC2Client,
  type Filter,
  type Instance,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { InstanceFacts, InstanceTypeFacts } from '../core/budgets/candidates';
import { InstanceTypeCatalog as AcceleratorCatalog, describeAllInstances } from './ec2';

export {
  STOPPED_AT_TAG,
  STOPPED_BUDGET_TAG,
  STOPPED_BY_TAG,
  STOPPED_BY_VALUE,
  STOPPED_TAG_KEYS,
} from '../core/budgets/tags';

/** Filters: the given states plus one `tag:KEY = VALUE` filter per tag (all must match). */
export function instanceFilters(states: readonly string[], tags: Readonly<Record<string, string>>): Filter[] {
  return [
    { Name: 'instance-state-name', Values: [...states] },
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
  ];
}

function toFacts(instance: Instance, region: string): InstanceFacts | undefined {
  if (!instance.InstanceId) return undefined;
  const tags: Record<string, string> = {};
  for (const t of instance.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return {
    instanceId: instance.InstanceId,
    region,
    instanceType: instance.InstanceType ?? 'unknown',
    state: instance.State?.Name ?? 'unknown',
    tags,
    ...(instance.InstanceLifecycle ? { lifecycle: instance.InstanceLifecycle } : {}),
  };
}

/** Instances in `region` matching `filters` (the shared DescribeInstances paginator). */
export async function listInstances(ec2: EC2Client, region: string, filters: Filter[]): Promise<InstanceFacts[]> {
  return (await describeAllInstances(ec2, filters)).flatMap((i) => toFacts(i, region) ?? []);
}

/**
 * Instance-type facts per region for the budget guard: a view over the reaper's DescribeInstanceTypes catalog
 * (batched, cached per run, unknown types asked alone). A region where the call failed for another reason than an
 * unknown type (throttling, AccessDenied) is unavailable: its types are then unknown, not "no GPU".
 */
export class InstanceTypeCatalog {
  private readonly catalog = new AcceleratorCatalog();
  private readonly facts = new Map<string, InstanceTypeFacts>();
  private readonly unavailable = new Set<string>();

  constructor(private readonly ec2For: (region: string) => EC2Client) {}

  get(region: string, instanceType: string): InstanceTypeFacts | undefined {
    return this.facts.get(`${region}/${instanceType}`);
  }

  /** False when DescribeInstanceTypes failed in the region (types are then unknown, not "no GPU"). */
  available(region: string): boolean {
    return !this.unavailable.has(region);
  }

  async load(region: string, instanceTypes: readonly string[]): Promise<void> {
    const errorsBefore = this.catalog.errors.length;
    const resolved = await this.catalog.resolve(this.ec2For(region), region, instanceTypes);
    if (this.catalog.errors.length > errorsBefore) this.unavailable.add(region);
    for (const [type, f] of resolved) {
      this.facts.set(`${region}/${type}`, {
        gpu: f.accelerator === 'gpu',
        instanceStorage: f.instanceStorage === true,
      });
    }
  }
}

export async function stopInstance(ec2: EC2Client, instanceId: string): Promise<void> {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
}

export async function startInstance(ec2: EC2Client, instanceId: string): Promise<void> {
  await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
}

export async function tagInstance(ec2: EC2Client, instanceId: string, tags: Readonly<Record<string, string>>) {
  await ec2.send(
    new CreateTagsCommand({
      Resources: [instanceId],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/** Removes the given tag keys (always named: DeleteTags without keys would delete every tag). */
export async function untagInstance(ec2: EC2Client, instanceId: string, keys: readonly string[]) {
  if (keys.length === 0) return;
  await ec2.send(new DeleteTagsCommand({ Resources: [instanceId], Tags: keys.map((Key) => ({ Key })) }));
}
