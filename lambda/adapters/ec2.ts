/**
 * EC2 for both guards and `cost-guard restore`: instances (DescribeInstances through the SDK paginator, filtered by
 * state and tags on the server), accelerator and instance-store facts of the instance types present (batched and
 * cached per run), termination protection and Spot request types of the few instances about to be acted on, and
 * tags, terminations, stops and starts in small batches with a per-instance outcome ({@link Ec2Writer}).
 *
 * Thin: no decisions here. A batch call that fails is retried one instance at a time, so one bad instance
 * (`OperationNotPermitted`, `InvalidInstanceID.NotFound`, `UnsupportedOperation`…) never blocks the others.
 */
import {
  type _InstanceType,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeSpotInstanceRequestsCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type InstanceTypeInfo,
  paginateDescribeInstances,
  paginateDescribeInstanceTypes,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { InstanceFacts, InstanceLifecycle, InstanceTypeFacts } from '../core/instances';
import type { Tags } from '../core/tags';
import { CostGuardError, errorCode } from '../shared/errors';

/** DescribeInstances page size (the API maximum). */
export const DESCRIBE_INSTANCES_PAGE_SIZE = 1000;
/** DescribeInstanceTypes takes at most 100 type names a call. */
export const INSTANCE_TYPES_PER_CALL = 100;
/** Instances per CreateTags/DeleteTags call. */
export const TAG_BATCH_SIZE = 100;
/** Instances per TerminateInstances/StopInstances call: small, so a failed batch is cheap to retry one by one. */
export const ACTION_BATCH_SIZE = 10;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const LIFECYCLES: Readonly<Record<string, InstanceLifecycle>> = {
  spot: 'spot',
  scheduled: 'scheduled',
  'capacity-block': 'capacity-block',
};

/** The one mapper from the SDK's `Instance`; undefined for an entry without an instance ID. */
export function instanceFacts(instance: Instance, region: string): InstanceFacts | undefined {
  if (!instance.InstanceId) return undefined;
  // fromEntries defines own keys: a tag literally named `__proto__` is kept as a tag, not taken as the prototype.
  const tags: Tags = Object.fromEntries(
    (instance.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? '']] : [])),
  );
  const launch = instance.LaunchTime ? new Date(instance.LaunchTime) : undefined;
  return {
    instanceId: instance.InstanceId,
    region,
    instanceType: instance.InstanceType ?? 'unknown',
    state: instance.State?.Name ?? 'unknown',
    ...(launch && !Number.isNaN(launch.getTime()) ? { launchTime: launch.toISOString() } : {}),
    tags,
    lifecycle: LIFECYCLES[instance.InstanceLifecycle ?? ''] ?? 'on-demand',
    ...(instance.SpotInstanceRequestId ? { spotInstanceRequestId: instance.SpotInstanceRequestId } : {}),
  };
}

/** DescribeInstances filters: the given states plus one `tag:KEY = VALUE` filter per tag (all must match). */
export function instanceFilters(states: readonly string[], tags: Tags = {}): Filter[] {
  return [
    { Name: 'instance-state-name', Values: [...states] },
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
  ];
}

/** Every instance of `region` matching `filters` (filtered by EC2, 1,000 a page, every page). */
export async function listInstances(client: EC2Client, region: string, filters: Filter[]): Promise<InstanceFacts[]> {
  const out: InstanceFacts[] = [];
  const pages = paginateDescribeInstances(
    { client, pageSize: DESCRIBE_INSTANCES_PAGE_SIZE },
    { Filters: filters, MaxResults: DESCRIBE_INSTANCES_PAGE_SIZE },
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        const facts = instanceFacts(instance, region);
        if (facts) out.push(facts);
      }
    }
  }
  return out;
}

/** Every running instance of the region: DescribeInstances filtered on `instance-state-name=running`. */
export function listRunningInstances(client: EC2Client, region: string): Promise<InstanceFacts[]> {
  return listInstances(client, region, instanceFilters(['running']));
}

/**
 * Accelerator facts of one type: `GpuInfo` (NVIDIA, AMD, and Habana on dl1) makes a GPU type; `NeuronInfo` or
 * `InferenceAcceleratorInfo` (Inferentia/Trainium) a Neuron type; anything else has none.
 */
export function typeFacts(info: InstanceTypeInfo): InstanceTypeFacts {
  return { ...acceleratorFacts(info), instanceStorage: info.InstanceStorageSupported === true };
}

function acceleratorFacts(info: InstanceTypeInfo): Omit<InstanceTypeFacts, 'instanceStorage'> {
  const instanceType = String(info.InstanceType);
  const gpus = info.GpuInfo?.Gpus ?? [];
  if (gpus.length > 0) {
    const first = gpus[0]!;
    return {
      instanceType,
      accelerator: 'gpu',
      acceleratorCount: gpus.reduce((n, g) => n + (g.Count ?? 0), 0),
      acceleratorName: [first.Manufacturer, first.Name].filter(Boolean).join(' '),
    };
  }
  const neuron = info.NeuronInfo?.NeuronDevices ?? [];
  const inference = info.InferenceAcceleratorInfo?.Accelerators ?? [];
  if (neuron.length > 0 || inference.length > 0) {
    const devices = neuron.length > 0 ? neuron : inference;
    return {
      instanceType,
      accelerator: 'neuron',
      acceleratorCount: devices.reduce((n, d) => n + (d.Count ?? 0), 0),
      acceleratorName: devices[0]?.Name ?? 'Neuron',
    };
  }
  return { instanceType, accelerator: 'none', acceleratorCount: 0 };
}

/**
 * DescribeInstanceTypes results for one run, shared by every region of the run: only the types present are asked
 * about, at most 100 per call, each type once per run (types are the same in every region). A type the API does not
 * know in a region (a call naming it fails with `InvalidInstanceType`) is retried alone, then reported by
 * {@link unknownTypes}. Any other failure (throttling, AccessDenied) leaves the types unknown, is listed in
 * {@link errors}, and makes the region not {@link available}: its types are then unknown, not "no GPU".
 */
export class InstanceTypeCatalog {
  private readonly known = new Map<string, InstanceTypeFacts>();
  private readonly unknown = new Map<string, Set<string>>();
  private readonly failedRegions = new Set<string>();

  /** Errors other than "unknown type" met while describing types, for the run's notes. */
  readonly errors: string[] = [];

  /** The facts of `types` (those EC2 describes), asking EC2 in `region` only about the ones not yet known. */
  async resolve(
    client: EC2Client,
    region: string,
    types: Iterable<string>,
  ): Promise<ReadonlyMap<string, InstanceTypeFacts>> {
    const wanted = [...new Set(types)];
    const missing = wanted.filter((t) => !this.known.has(t)).sort();
    for (const batch of chunk(missing, INSTANCE_TYPES_PER_CALL)) {
      try {
        await this.describe(client, batch);
      } catch (error) {
        if (batch.length === 1) {
          this.markUnknown(region, batch[0]!, error);
          continue;
        }
        // One unknown name fails the whole call: ask for each type alone.
        for (const type of batch) {
          try {
            await this.describe(client, [type]);
          } catch (inner) {
            this.markUnknown(region, type, inner);
          }
        }
      }
    }
    const out = new Map<string, InstanceTypeFacts>();
    for (const t of wanted) {
      const facts = this.known.get(t);
      if (facts) out.set(t, facts);
      else if (!this.unknown.get(region)?.has(t)) this.markUnknown(region, t, undefined);
    }
    return out;
  }

  /** The facts of a type resolved earlier in the run; undefined when EC2 did not describe it. */
  get(instanceType: string): InstanceTypeFacts | undefined {
    return this.known.get(instanceType);
  }

  /** False when a DescribeInstanceTypes call in `region` failed for another reason than an unknown type. */
  available(region: string): boolean {
    return !this.failedRegions.has(region);
  }

  /** `region: type` pairs the API did not know (or could not be asked about). */
  unknownTypes(): string[] {
    return [...this.unknown.entries()].flatMap(([region, types]) => [...types].sort().map((t) => `${region}: ${t}`));
  }

  private markUnknown(region: string, type: string, error: unknown): void {
    let set = this.unknown.get(region);
    if (!set) {
      set = new Set();
      this.unknown.set(region, set);
    }
    set.add(type);
    if (error !== undefined && errorCode(error) !== 'InvalidInstanceType') {
      this.failedRegions.add(region);
      this.errors.push(`DescribeInstanceTypes ${type} in ${region}: ${errorCode(error)}`);
    }
  }

  private async describe(client: EC2Client, types: string[]): Promise<void> {
    for await (const page of paginateDescribeInstanceTypes({ client }, { InstanceTypes: types as _InstanceType[] })) {
      for (const info of page.InstanceTypes ?? []) {
        if (info.InstanceType) this.known.set(String(info.InstanceType), typeFacts(info));
      }
    }
  }
}

/** DescribeInstanceAttribute disableApiTermination: asked only for instances about to be terminated. */
export async function isTerminationProtected(client: EC2Client, instanceId: string): Promise<boolean> {
  const res = await client.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return res.DisableApiTermination?.Value === true;
}

/**
 * Spot request types (`one-time` / `persistent`) by request ID, 100 IDs a call; a failed call is retried one ID at a
 * time and the IDs that still fail are left out (unknown: the reaper then does not stop the instance).
 */
export async function spotRequestTypes(
  client: EC2Client,
  requestIds: readonly string[],
): Promise<Map<string, 'one-time' | 'persistent'>> {
  const out = new Map<string, 'one-time' | 'persistent'>();
  const ask = async (ids: string[]) => {
    const res = await client.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids }));
    for (const r of res.SpotInstanceRequests ?? []) {
      if (r.SpotInstanceRequestId && (r.Type === 'one-time' || r.Type === 'persistent')) {
        out.set(r.SpotInstanceRequestId, r.Type);
      }
    }
  };
  for (const batch of chunk([...new Set(requestIds)], 100)) {
    try {
      await ask(batch);
    } catch {
      if (batch.length === 1) continue;
      for (const id of batch) await ask([id]).catch(() => undefined);
    }
  }
  return out;
}

/** An instance the API left out of a batch answer (neither an error nor a result). */
export class InstanceNotInResponseError extends CostGuardError {
  readonly code = 'InstanceNotInResponse';
  constructor(
    readonly instanceId: string,
    operation: string,
  ) {
    super(`${operation} did not report ${instanceId}`);
    this.name = 'InstanceNotInResponseError';
  }
}

type BatchCall = (ids: string[]) => Promise<ReadonlySet<string> | undefined>;

interface Pending {
  readonly id: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the instance IDs asked for in the same tick into calls of at most `maxBatch` IDs, and gives each caller
 * its own outcome. A failed call is retried one ID at a time, so the error lands on the instance that caused it.
 * Callers that want batching start their requests together (e.g. `Promise.all`); a lone request is a call of one.
 */
export class InstanceBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly operation: string,
    private readonly maxBatch: number,
    private readonly call: BatchCall,
  ) {}

  run(instanceId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ id: instanceId, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (const batch of chunk(items, this.maxBatch)) await this.runBatch(batch);
  }

  private settle(item: Pending, confirmed: ReadonlySet<string> | undefined): void {
    if (!confirmed || confirmed.has(item.id)) item.resolve();
    else item.reject(new InstanceNotInResponseError(item.id, this.operation));
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    try {
      const confirmed = await this.call(batch.map((p) => p.id));
      for (const item of batch) this.settle(item, confirmed);
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    for (const item of batch) {
      try {
        this.settle(item, await this.call([item.id]));
      } catch (error) {
        item.reject(error);
      }
    }
  }
}

/** `{ a: '1', b: '2' }` and `{ b: '2', a: '1' }` share one CreateTags batch. */
const tagSetKey = (tags: Tags) => JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Batched per-instance EC2 writes for one region. Create one per region; requests started together (e.g. with
 * `Promise.all`) share calls, and each request settles with its own instance's outcome.
 */
export class Ec2Writer {
  private readonly taggers = new Map<string, InstanceBatcher>();
  private readonly untaggers = new Map<string, InstanceBatcher>();
  private readonly terminator: InstanceBatcher;
  private readonly stopper: InstanceBatcher;
  private readonly starter: InstanceBatcher;

  constructor(private readonly client: EC2Client) {
    this.terminator = new InstanceBatcher('TerminateInstances', ACTION_BATCH_SIZE, async (ids) => {
      const res = await client.send(new TerminateInstancesCommand({ InstanceIds: ids }));
      return new Set((res.TerminatingInstances ?? []).map((i) => i.InstanceId ?? ''));
    });
    this.stopper = new InstanceBatcher('StopInstances', ACTION_BATCH_SIZE, async (ids) => {
      const res = await client.send(new StopInstancesCommand({ InstanceIds: ids }));
      return new Set((res.StoppingInstances ?? []).map((i) => i.InstanceId ?? ''));
    });
    this.starter = new InstanceBatcher('StartInstances', ACTION_BATCH_SIZE, async (ids) => {
      const res = await client.send(new StartInstancesCommand({ InstanceIds: ids }));
      return new Set((res.StartingInstances ?? []).map((i) => i.InstanceId ?? ''));
    });
  }

  /** Sets every tag of `tags` on the instance (batched with other instances getting exactly the same tags). */
  tag(instanceId: string, tags: Tags): Promise<void> {
    const entries = Object.entries(tags);
    if (entries.length === 0) return Promise.resolve();
    const key = tagSetKey(tags);
    let batcher = this.taggers.get(key);
    if (!batcher) {
      const Tags = entries.map(([Key, Value]) => ({ Key, Value }));
      batcher = new InstanceBatcher('CreateTags', TAG_BATCH_SIZE, async (ids) => {
        await this.client.send(new CreateTagsCommand({ Resources: ids, Tags }));
        return undefined;
      });
      this.taggers.set(key, batcher);
    }
    return batcher.run(instanceId);
  }

  /**
   * Removes the tags named by `keys` (whatever their values). No keys, no call: DeleteTags without tag keys would
   * delete every tag of the instance, the opt-out tag included.
   */
  untag(instanceId: string, keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)].sort();
    if (unique.length === 0) return Promise.resolve();
    const key = unique.join('\u0000');
    let batcher = this.untaggers.get(key);
    if (!batcher) {
      const Tags = unique.map((Key) => ({ Key }));
      batcher = new InstanceBatcher('DeleteTags', TAG_BATCH_SIZE, async (ids) => {
        await this.client.send(new DeleteTagsCommand({ Resources: ids, Tags }));
        return undefined;
      });
      this.untaggers.set(key, batcher);
    }
    return batcher.run(instanceId);
  }

  terminate(instanceId: string): Promise<void> {
    return this.terminator.run(instanceId);
  }

  stop(instanceId: string): Promise<void> {
    return this.stopper.run(instanceId);
  }

  start(instanceId: string): Promise<void> {
    return this.starter.run(instanceId);
  }
}
