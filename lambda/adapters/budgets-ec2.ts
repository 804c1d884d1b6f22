/**
 * The EC2 calls of the budget guard and `cost-guard restore`: list instances by tag (paginated, filtered on the
 * server), describe instance types (GPU, instance store; cached, unknown types tolerated), stop, start, tag, untag.
 * One instance per Stop/Start call, so one failure (a one-time Spot instance, a capacity error) never blocks others.
 */
import {
  type _InstanceType,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type InstanceTypeInfo,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { InstanceFacts, InstanceTypeFacts } from '../core/budgets/candidates';
import { errorCode } from '../shared/errors';

export {
  STOPPED_AT_TAG,
  STOPPED_BUDGET_TAG,
  STOPPED_BY_TAG,
  STOPPED_BY_VALUE,
  STOPPED_TAG_KEYS,
} from '../core/budgets/tags';

/** DescribeInstanceTypes takes at most 100 types a call. */
const TYPES_PER_CALL = 100;

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

/** Instances in `region` matching `filters`, following NextToken. */
export async function listInstances(ec2: EC2Client, region: string, filters: Filter[]): Promise<InstanceFacts[]> {
  const out: InstanceFacts[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: filters,
        MaxResults: 1000,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        const facts = toFacts(i, region);
        if (facts) out.push(facts);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

function typeFacts(info: InstanceTypeInfo): InstanceTypeFacts {
  return {
    gpu: (info.GpuInfo?.Gpus?.length ?? 0) > 0,
    instanceStorage: info.InstanceStorageSupported === true,
  };
}

/**
 * Instance-type facts per region, from DescribeInstanceTypes (cached for the run). A type the API does not know
 * (`InvalidInstanceType` fails the whole call) is looked up alone so the others are still described; a region where
 * the call fails altogether (e.g. AccessDenied) is marked unavailable and its types stay unknown.
 */
export class InstanceTypeCatalog {
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
    const missing = [...new Set(instanceTypes)].filter((t) => !this.facts.has(`${region}/${t}`));
    for (let i = 0; i < missing.length; i += TYPES_PER_CALL) {
      const batch = missing.slice(i, i + TYPES_PER_CALL);
      try {
        await this.describe(region, batch);
      } catch (error) {
        if (errorCode(error) !== 'InvalidInstanceType') {
          this.unavailable.add(region);
          return;
        }
        for (const t of batch) {
          try {
            await this.describe(region, [t]);
          } catch {
            // unknown to EC2: stays unknown
          }
        }
      }
    }
  }

  private async describe(region: string, types: readonly string[]): Promise<void> {
    let nextToken: string | undefined;
    do {
      const page = await this.ec2For(region).send(
        new DescribeInstanceTypesCommand({
          InstanceTypes: types as _InstanceType[],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const info of page.InstanceTypes ?? []) {
        if (info.InstanceType) this.facts.set(`${region}/${info.InstanceType}`, typeFacts(info));
      }
      nextToken = page.NextToken;
    } while (nextToken);
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
