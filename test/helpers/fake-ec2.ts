/**
 * A small EC2 for tests, behind aws-sdk-client-mock: a fleet of instances whose state and tags change as the code
 * under test stops, starts, terminates and tags them, so a second run sees what the first did.
 *
 * It answers the way EC2 does where the guards depend on it:
 * - DescribeInstances honours `instance-state-name`, `instance-id`, `tag-key` and `tag:KEY` filters and pages with NextToken (`pageSize`);
 * - DescribeInstanceTypes fails the whole call with `InvalidInstanceType` when one name is unknown;
 * - Stop/Start/Terminate and CreateTags/DeleteTags fail the whole call when one instance fails (a one-time Spot
 *   instance cannot be stopped, a termination-protected one cannot be terminated, a terminated one cannot change);
 * - injected faults fail the next `times` calls of an operation (naming one instance, when `instanceId` is given);
 * - `effects` counts the state changes per instance and `changes` logs each with the tags the instance had then;
 * - `calls` logs every call with the instances it named and how it failed (an injected fault, or EC2's own refusal),
 *   and `onCall` sees each call as it arrives, before it is answered (e.g. to note the fleet's state or the clock then).
 *
 * Install it on a mock (`fake.install(ec2Mock)`), or route it with other services' fakes (`fake.routeOn(fakes)`).
 */
import {
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DeleteTagsCommand,
  type DeleteTagsCommandInput,
  DescribeInstanceAttributeCommand,
  type DescribeInstanceAttributeCommandInput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandInput,
  DescribeSpotInstanceRequestsCommand,
  type DescribeSpotInstanceRequestsCommandInput,
  type Instance,
  type InstanceTypeInfo,
  StartInstancesCommand,
  type StartInstancesCommandInput,
  StopInstancesCommand,
  type StopInstancesCommandInput,
  TerminateInstancesCommand,
  type TerminateInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { RoutedFakes } from './routed-fakes';

export type FakeInstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** One instance of the fake fleet. `state` and `tags` change as the code under test acts. */
export interface FakeInstance {
  readonly id: string;
  readonly type: string;
  state: FakeInstanceState;
  tags: Record<string, string>;
  /** Omitted from DescribeInstances when undefined (EC2 always sends it; the reaper must cope without). */
  readonly launchTime?: Date;
  readonly lifecycle?: 'spot' | 'scheduled' | 'capacity-block';
  readonly spotRequestId?: string;
  /** Spot request type; a Spot instance that is not `persistent` (EC2's default is one-time) cannot be stopped. */
  readonly spotType?: 'one-time' | 'persistent';
  /** DisableApiTermination. */
  readonly terminationProtected?: boolean;
}

/** What DescribeInstanceTypes says about a type. */
export interface FakeType {
  readonly kind: 'gpu' | 'neuron' | 'none';
  /** GPUs or Neuron devices. @default 1 */
  readonly count?: number;
  /** @default 'A10G' for GPUs, 'Inferentia2' for Neuron */
  readonly name?: string;
  /** @default true for GPU types, false otherwise */
  readonly instanceStorage?: boolean;
}

export type Ec2Operation =
  | 'DescribeInstances'
  | 'DescribeInstanceTypes'
  | 'DescribeSpotInstanceRequests'
  | 'DescribeInstanceAttribute'
  | 'CreateTags'
  | 'DeleteTags'
  | 'StopInstances'
  | 'StartInstances'
  | 'TerminateInstances';

/** The next `times` calls of `operation` (those naming `instanceId`, when given) fail with `code`. */
export interface Ec2Fault {
  readonly operation: Ec2Operation;
  readonly code: string;
  /** @default Infinity */
  times?: number;
  readonly instanceId?: string;
  /** HTTP status of the simulated error. @default 400 (500 and up for server faults) */
  readonly status?: number;
}

/** The types most tests need. */
export const FAKE_TYPES: Readonly<Record<string, FakeType>> = {
  'g4dn.xlarge': { kind: 'gpu', name: 'T4' },
  'g5.xlarge': { kind: 'gpu' },
  'g5.2xlarge': { kind: 'gpu' },
  'p4d.24xlarge': { kind: 'gpu', count: 8, name: 'A100' },
  'inf2.xlarge': { kind: 'neuron' },
  'm5.large': { kind: 'none' },
};

/** An SDK-shaped service error (`name` is the code, as in SDK v3). */
export function awsError(code: string, status = 400): Error {
  return Object.assign(new Error(`${code} (simulated)`), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** One state change a Stop/Start/Terminate call made, with the instance's tags at that moment. */
export interface FakeEc2Change {
  readonly operation: 'StopInstances' | 'StartInstances' | 'TerminateInstances';
  readonly id: string;
  readonly from: FakeInstanceState;
  readonly to: FakeInstanceState;
  readonly tags: Readonly<Record<string, string>>;
}

/** One call the fake answered, in order of arrival: what it named and, once answered, how it failed. */
export interface FakeEc2Call {
  readonly operation: Ec2Operation;
  /**
   * The instance IDs the call named (InstanceIds, Resources or InstanceId); none for the calls that list
   * (DescribeInstances, DescribeInstanceTypes, DescribeSpotInstanceRequests).
   */
  readonly instanceIds: readonly string[];
  /** Set when the call failed: the error code it was answered with. */
  errorCode?: string;
  /** Set when an injected fault failed the call (absent when EC2's own rules refused it). */
  fault?: Ec2Fault;
}

export interface FakeEc2Options {
  readonly instances?: readonly FakeInstance[];
  /** @default FAKE_TYPES */
  readonly types?: Readonly<Record<string, FakeType>>;
  readonly faults?: readonly Ec2Fault[];
  /** Instances per DescribeInstances page. @default 1000 */
  readonly pageSize?: number;
  /** Called as each call arrives, before the fake answers it. */
  readonly onCall?: (call: FakeEc2Call) => void;
}

/** A fleet instance with defaults: a running on-demand g5.xlarge without tags or launch time. */
export function fakeInstance(id: string, over: Partial<FakeInstance> = {}): FakeInstance {
  return { id, type: 'g5.xlarge', state: 'running', tags: {}, ...over };
}

export class FakeEc2 {
  readonly instances: FakeInstance[];
  types: Record<string, FakeType>;
  faults: Ec2Fault[];
  pageSize: number;
  /** Times each instance changed state because of a Stop/Start/Terminate call. */
  readonly effects = new Map<string, number>();
  /** Every state change, in order (what `effects` counts, with the tags each instance had when it changed). */
  readonly changes: FakeEc2Change[] = [];
  /** Every call, in order of arrival, with its outcome (`calls.filter((c) => c.fault)`: the faults that fired). */
  readonly calls: FakeEc2Call[] = [];
  /** Called as each call arrives, before the fake answers it (the call's outcome is not known yet). */
  onCall: ((call: FakeEc2Call) => void) | undefined;

  constructor(options: FakeEc2Options = {}) {
    this.instances = [...(options.instances ?? [])];
    this.types = { ...(options.types ?? FAKE_TYPES) };
    this.faults = [...(options.faults ?? [])];
    this.pageSize = options.pageSize ?? 1000;
    this.onCall = options.onCall;
  }

  get(id: string): FakeInstance {
    const found = this.instances.find((i) => i.id === id);
    if (!found) throw awsError('InvalidInstanceID.NotFound');
    return found;
  }

  /** Answers every EC2 command sent through `mock` (a `mockClient(EC2Client)`; install again after `reset()`). */
  install(mock: { readonly send: { callsFake(fake: never): unknown } }): this {
    const fakes = new RoutedFakes();
    this.routeOn(fakes);
    mock.send.callsFake(fakes.dispatch as never);
    return this;
  }

  /** Adds this fake's EC2 routes to `fakes` (which may route other services too). */
  routeOn(fakes: RoutedFakes): void {
    fakes.route(DescribeInstancesCommand, (input) =>
      this.answer('DescribeInstances', [], (call) => this.describeInstances(input, call)),
    );
    fakes.route(DescribeInstanceTypesCommand, (input) =>
      this.answer('DescribeInstanceTypes', [], (call) => this.describeInstanceTypes(input, call)),
    );
    fakes.route(DescribeSpotInstanceRequestsCommand, (input) =>
      this.answer('DescribeSpotInstanceRequests', [], (call) => this.describeSpotRequests(input, call)),
    );
    fakes.route(DescribeInstanceAttributeCommand, (input) =>
      this.answer('DescribeInstanceAttribute', [input.InstanceId ?? ''], (call) => this.describeAttribute(input, call)),
    );
    fakes.route(CreateTagsCommand, (input) =>
      this.answer('CreateTags', input.Resources ?? [], (call) => this.createTags(input, call)),
    );
    fakes.route(DeleteTagsCommand, (input) =>
      this.answer('DeleteTags', input.Resources ?? [], (call) => this.deleteTags(input, call)),
    );
    const act =
      (operation: 'StopInstances' | 'StartInstances' | 'TerminateInstances') =>
      (input: StopInstancesCommandInput | StartInstancesCommandInput | TerminateInstancesCommandInput) =>
        this.answer(operation, input.InstanceIds ?? [], (call) => this.act(operation, call));
    fakes.route(StopInstancesCommand, act('StopInstances'));
    fakes.route(StartInstancesCommand, act('StartInstances'));
    fakes.route(TerminateInstancesCommand, act('TerminateInstances'));
  }

  /** Logs the call, tells `onCall`, answers it with `respond`, and notes the error code when it fails. */
  private answer<T>(operation: Ec2Operation, instanceIds: readonly string[], respond: (call: FakeEc2Call) => T): T {
    const call: FakeEc2Call = { operation, instanceIds };
    this.calls.push(call);
    this.onCall?.(call);
    try {
      return respond(call);
    } catch (error) {
      call.errorCode = (error as Error).name;
      throw error;
    }
  }

  private trip(call: FakeEc2Call): void {
    for (const fault of this.faults) {
      if (fault.operation !== call.operation || (fault.times ?? Number.POSITIVE_INFINITY) <= 0) continue;
      if (fault.instanceId !== undefined && !call.instanceIds.includes(fault.instanceId)) continue;
      if (fault.times !== undefined) fault.times -= 1;
      call.fault = fault;
      throw awsError(fault.code, fault.status);
    }
  }

  private describeInstances(input: DescribeInstancesCommandInput, call: FakeEc2Call) {
    this.trip(call);
    const filters = input.Filters ?? [];
    const matches = (i: FakeInstance) =>
      filters.every((f) => {
        if (f.Name === 'instance-state-name') return (f.Values ?? []).includes(i.state);
        if (f.Name === 'instance-id') return (f.Values ?? []).includes(i.id);
        if (f.Name === 'tag-key') return (f.Values ?? []).some((key) => Object.hasOwn(i.tags, key));
        if (f.Name?.startsWith('tag:')) {
          const key = f.Name.slice(4);
          return Object.hasOwn(i.tags, key) && (f.Values ?? []).includes(i.tags[key]!);
        }
        throw awsError('InvalidParameterValue');
      });
    const all = this.instances.filter(matches);
    const size = Math.min(this.pageSize, input.MaxResults ?? Number.POSITIVE_INFINITY);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? String(start + size) : undefined;
    return {
      Reservations: page.length > 0 ? [{ Instances: page.map((i) => this.toInstance(i)) }] : [],
      ...(next ? { NextToken: next } : {}),
    };
  }

  private toInstance(i: FakeInstance): Instance {
    return {
      InstanceId: i.id,
      InstanceType: i.type as Instance['InstanceType'],
      State: { Name: i.state },
      ...(i.launchTime ? { LaunchTime: i.launchTime } : {}),
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      ...(i.lifecycle ? { InstanceLifecycle: i.lifecycle as Instance['InstanceLifecycle'] } : {}),
      ...(i.spotRequestId ? { SpotInstanceRequestId: i.spotRequestId } : {}),
    };
  }

  private describeInstanceTypes(input: DescribeInstanceTypesCommandInput, call: FakeEc2Call) {
    this.trip(call);
    const names = (input.InstanceTypes ?? []).map(String);
    if (names.some((n) => !Object.hasOwn(this.types, n))) throw awsError('InvalidInstanceType');
    return { InstanceTypes: names.map((n) => typeInfo(n, this.types[n]!)) };
  }

  private describeSpotRequests(input: DescribeSpotInstanceRequestsCommandInput, call: FakeEc2Call) {
    const ids = input.SpotInstanceRequestIds ?? [];
    this.trip(call);
    const requests = ids.map((id) => {
      const i = this.instances.find((x) => x.spotRequestId === id);
      if (!i) throw awsError('InvalidSpotInstanceRequestID.NotFound');
      return { SpotInstanceRequestId: id, ...(i.spotType ? { Type: i.spotType } : {}) };
    });
    return { SpotInstanceRequests: requests };
  }

  private describeAttribute(input: DescribeInstanceAttributeCommandInput, call: FakeEc2Call) {
    const id = input.InstanceId ?? '';
    this.trip(call);
    const i = this.get(id);
    return { InstanceId: id, DisableApiTermination: { Value: i.terminationProtected === true } };
  }

  private createTags(input: CreateTagsCommandInput, call: FakeEc2Call) {
    this.trip(call);
    const targets = call.instanceIds.map((id) => this.get(id));
    for (const i of targets) for (const t of input.Tags ?? []) i.tags[t.Key!] = t.Value ?? '';
    return {};
  }

  private deleteTags(input: DeleteTagsCommandInput, call: FakeEc2Call) {
    this.trip(call);
    // DeleteTags without tag keys deletes every tag: the code must never send it, so the fake refuses it.
    if (!input.Tags || input.Tags.length === 0) throw new Error('DeleteTags without tag keys would delete every tag');
    const targets = call.instanceIds.map((id) => this.get(id));
    for (const i of targets) for (const t of input.Tags) delete i.tags[t.Key!];
    return {};
  }

  private act(operation: 'StopInstances' | 'StartInstances' | 'TerminateInstances', call: FakeEc2Call) {
    this.trip(call);
    const targets = call.instanceIds.map((id) => this.get(id));
    // All or nothing: EC2 answers one error for the whole request.
    for (const i of targets) {
      if (i.state === 'terminated') throw awsError('IncorrectInstanceState');
      if (operation === 'TerminateInstances' && i.terminationProtected) throw awsError('OperationNotPermitted');
      if (operation === 'StopInstances' && i.lifecycle === 'spot' && i.spotType !== 'persistent') {
        throw awsError('UnsupportedOperation');
      }
    }
    const to: FakeInstanceState =
      operation === 'StopInstances' ? 'stopped' : operation === 'StartInstances' ? 'running' : 'terminated';
    for (const i of targets) {
      if (i.state !== to) {
        this.effects.set(i.id, (this.effects.get(i.id) ?? 0) + 1);
        this.changes.push({ operation, id: i.id, from: i.state, to, tags: { ...i.tags } });
      }
      i.state = to;
    }
    const list = targets.map((i) => ({ InstanceId: i.id }));
    if (operation === 'StopInstances') return { StoppingInstances: list };
    if (operation === 'StartInstances') return { StartingInstances: list };
    return { TerminatingInstances: list };
  }
}

function typeInfo(name: string, t: FakeType): InstanceTypeInfo {
  const base = {
    InstanceType: name as InstanceTypeInfo['InstanceType'],
    InstanceStorageSupported: t.instanceStorage ?? t.kind === 'gpu',
  };
  if (t.kind === 'gpu') {
    return {
      ...base,
      GpuInfo: { Gpus: [{ Name: t.name ?? 'A10G', Manufacturer: 'NVIDIA', Count: t.count ?? 1 }] },
    };
  }
  if (t.kind === 'neuron') {
    return { ...base, NeuronInfo: { NeuronDevices: [{ Name: t.name ?? 'Inferentia2', Count: t.count ?? 1 }] } };
  }
  return base;
}
