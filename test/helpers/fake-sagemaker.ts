/**
 * A small SageMaker (and the CloudWatch `Invocations` it publishes) behind aws-sdk-client-mock that keeps state
 * across runs: a deleted endpoint is gone from the next ListEndpoints, a stopped notebook is no longer InService, an
 * updated domain reads back its new settings, a recreated endpoint is there again. Lists page like the API (MaxResults,
 * NextToken). Optional latency for benchmarks. Used by the adapter, service, proof and benchmark code.
 */
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  type CreateEndpointCommandInput,
  DeleteEndpointCommand,
  DescribeDomainCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeSpaceCommand,
  DescribeUserProfileCommand,
  ListAppsCommand,
  ListDomainsCommand,
  ListEndpointsCommand,
  ListInferenceComponentsCommand,
  ListNotebookInstancesCommand,
  ListSpacesCommand,
  ListTagsCommand,
  ListUserProfilesCommand,
  SageMakerClient,
  StopNotebookInstanceCommand,
  UpdateDomainCommand,
  type UpdateDomainCommandInput,
  UpdateSpaceCommand,
  type UpdateSpaceCommandInput,
  UpdateUserProfileCommand,
  type UpdateUserProfileCommandInput,
} from '@aws-sdk/client-sagemaker';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

export const FAKE_ACCOUNT = '123456789012';

export interface FakeVariant {
  readonly name: string;
  readonly instanceType?: string;
  readonly serverless?: boolean;
  count: number;
}

export interface FakeEndpoint {
  readonly name: string;
  configName: string;
  status: string;
  creationTime: Date;
  lastModifiedTime?: Date;
  tags: Record<string, string>;
  /** Invocations datapoints by variant name; a variant absent here has no datapoint. */
  invocations: Record<string, number[]>;
  /** Error name DeleteEndpoint answers with for this endpoint. */
  deleteFailsWith?: string;
  /**
   * Statuses the next DescribeEndpoint calls report, one each (e.g. someone deleting it meanwhile); `NotFound` and
   * `Throttled` make that call fail as SageMaker would.
   */
  describeStatuses?: string[];
}

export interface FakeConfig {
  readonly variants: readonly FakeVariant[];
  readonly async?: boolean;
}

export interface FakeNotebook {
  readonly name: string;
  readonly instanceType: string;
  status: string;
  readonly creationTime: Date;
  lastModifiedTime: Date;
  readonly lifecycleConfigName?: string;
  tags: Record<string, string>;
}

export interface FakeDomain {
  readonly id: string;
  readonly name: string;
  status: string;
  settings: Record<string, Record<string, unknown>>;
  tags: Record<string, string>;
}

/** A user profile or space of a domain, with its own UserSettings / SpaceSettings. */
export interface FakeStudioOwner {
  readonly kind: 'user-profile' | 'space';
  readonly domainId: string;
  readonly name: string;
  status: string;
  settings: Record<string, Record<string, unknown>>;
  tags: Record<string, string>;
}

export interface FakeApp {
  readonly domainId: string;
  readonly appType: string;
  readonly appName: string;
  readonly status: string;
  readonly userProfileName?: string;
  readonly spaceName?: string;
  readonly instanceType?: string;
  readonly creationTime: Date;
}

export interface FakeSageMakerWorld {
  readonly region: string;
  readonly endpoints: Map<string, FakeEndpoint>;
  readonly configs: Map<string, FakeConfig>;
  readonly notebooks: Map<string, FakeNotebook>;
  readonly domains: Map<string, FakeDomain>;
  readonly apps: FakeApp[];
  readonly owners: FakeStudioOwner[];
  readonly inferenceComponents: { name: string; endpoint: string }[];
  /** Operations that fail (error name), for fault tests: e.g. `{ ListTags: 'ThrottlingException' }`. */
  readonly fail: Partial<Record<string, string>>;
  /** GetMetricData fails with this error name. */
  metricsFailWith?: string;
}

export function emptyWorld(region = 'us-east-1'): FakeSageMakerWorld {
  return {
    region,
    endpoints: new Map(),
    configs: new Map(),
    notebooks: new Map(),
    domains: new Map(),
    apps: [],
    owners: [],
    inferenceComponents: [],
    fail: {},
  };
}

export const awsError = (name: string, message = `${name} (simulated)`) => Object.assign(new Error(message), { name });

const arn = (world: FakeSageMakerWorld, kind: string, name: string) =>
  `arn:aws:sagemaker:${world.region}:${FAKE_ACCOUNT}:${kind}/${name.toLowerCase()}`;

/** Adds an endpoint with its config: one variant per entry of `variants`. */
export function addEndpoint(
  world: FakeSageMakerWorld,
  name: string,
  o: {
    variants?: FakeVariant[];
    async?: boolean;
    createdHoursAgo?: number;
    now: Date;
    tags?: Record<string, string>;
    invocations?: Record<string, number[]>;
    status?: string;
  },
): FakeEndpoint {
  const variants = o.variants ?? [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', count: 1 }];
  const configName = `${name}-config`;
  world.configs.set(configName, { variants, ...(o.async ? { async: true } : {}) });
  const created = new Date(o.now.getTime() - (o.createdHoursAgo ?? 24 * 30) * 3_600_000);
  const e: FakeEndpoint = {
    name,
    configName,
    status: o.status ?? 'InService',
    creationTime: created,
    lastModifiedTime: created,
    tags: o.tags ?? {},
    invocations: o.invocations ?? {},
  };
  world.endpoints.set(name, e);
  return e;
}

export interface FakeSageMaker {
  readonly sm: AwsClientStub<SageMakerClient>;
  readonly cw: AwsClientStub<CloudWatchClient>;
  restore(): void;
}

function page<T>(items: readonly T[], token: string | undefined, max: number | undefined) {
  const size = Math.min(max ?? 100, 100);
  const start = token ? Number(token) : 0;
  const next = start + size < items.length ? String(start + size) : undefined;
  return { items: items.slice(start, start + size), ...(next ? { NextToken: next } : {}) };
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Mocks every SageMakerClient and CloudWatchClient with `world`. `latencyMs` delays each answer. */
export function installFakeSageMaker(world: FakeSageMakerWorld, o: { latencyMs?: number } = {}): FakeSageMaker {
  const sm = mockClient(SageMakerClient);
  const cw = mockClient(CloudWatchClient);
  const answer =
    <I, R>(op: string, fn: (input: I) => R) =>
    (input: I): Promise<R> =>
      new Promise((resolve, reject) => {
        const run = () => {
          try {
            const failure = world.fail[op];
            if (failure) throw awsError(failure);
            resolve(fn(input));
          } catch (error) {
            reject(error);
          }
        };
        if (o.latencyMs) setTimeout(run, o.latencyMs);
        else queueMicrotask(run);
      });
  const endpointOr404 = (name: string) => {
    const e = world.endpoints.get(name);
    if (!e) throw awsError('ValidationException', `Could not find endpoint "${name}".`);
    return e;
  };

  sm.on(ListEndpointsCommand).callsFake(
    answer('ListEndpoints', (input: { StatusEquals?: string; NextToken?: string; MaxResults?: number }) => {
      const all = [...world.endpoints.values()].filter((e) => !input.StatusEquals || e.status === input.StatusEquals);
      const p = page(all, input.NextToken, input.MaxResults);
      return {
        Endpoints: p.items.map((e) => ({
          EndpointName: e.name,
          EndpointArn: arn(world, 'endpoint', e.name),
          CreationTime: e.creationTime,
          LastModifiedTime: e.lastModifiedTime ?? e.creationTime,
          EndpointStatus: e.status,
        })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(DescribeEndpointCommand).callsFake(
    answer('DescribeEndpoint', (input: { EndpointName: string }) => {
      const e = endpointOr404(input.EndpointName);
      const next = e.describeStatuses?.shift();
      if (next === 'NotFound') throw awsError('ValidationException', `Could not find endpoint "${e.name}".`);
      if (next === 'Throttled') throw awsError('ThrottlingException');
      if (next) e.status = next;
      const config = world.configs.get(e.configName);
      return {
        EndpointName: e.name,
        EndpointArn: arn(world, 'endpoint', e.name),
        EndpointConfigName: e.configName,
        EndpointStatus: e.status,
        CreationTime: e.creationTime,
        LastModifiedTime: e.lastModifiedTime ?? e.creationTime,
        ProductionVariants: (config?.variants ?? []).map((v) => ({
          VariantName: v.name,
          ...(v.serverless ? { CurrentServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } } : {}),
          ...(v.serverless ? {} : { CurrentInstanceCount: v.count, DesiredInstanceCount: v.count }),
        })),
        ...(config?.async ? { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://out/' } } } : {}),
      };
    }),
  );
  sm.on(DescribeEndpointConfigCommand).callsFake(
    answer('DescribeEndpointConfig', (input: { EndpointConfigName: string }) => {
      const c = world.configs.get(input.EndpointConfigName);
      if (!c)
        throw awsError('ValidationException', `Could not find endpoint configuration "${input.EndpointConfigName}".`);
      return {
        EndpointConfigName: input.EndpointConfigName,
        EndpointConfigArn: arn(world, 'endpoint-config', input.EndpointConfigName),
        ProductionVariants: c.variants.map((v) => ({
          VariantName: v.name,
          ...(v.instanceType && !v.serverless ? { InstanceType: v.instanceType, InitialInstanceCount: v.count } : {}),
          ...(v.serverless ? { ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } } : {}),
        })),
        ...(c.async ? { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://out/' } } } : {}),
      };
    }),
  );
  sm.on(ListTagsCommand).callsFake(
    answer('ListTags', (input: { ResourceArn: string }) => {
      const all = [
        ...[...world.endpoints.values()].map((e) => [arn(world, 'endpoint', e.name), e.tags] as const),
        ...[...world.notebooks.values()].map((n) => [arn(world, 'notebook-instance', n.name), n.tags] as const),
        ...[...world.domains.values()].map((d) => [arn(world, 'domain', d.id), d.tags] as const),
        ...world.owners.map((o) => [arn(world, o.kind, `${o.domainId}/${o.name}`), o.tags] as const),
      ];
      const found = all.find(([a]) => a === input.ResourceArn);
      if (!found) throw awsError('ValidationException', `Resource ${input.ResourceArn} not found`);
      return { Tags: tagList(found[1]) };
    }),
  );
  sm.on(ListInferenceComponentsCommand).callsFake(
    answer('ListInferenceComponents', (input: { NextToken?: string; MaxResults?: number }) => {
      const p = page(world.inferenceComponents, input.NextToken, input.MaxResults);
      return {
        InferenceComponents: p.items.map((ic) => ({
          InferenceComponentName: ic.name,
          InferenceComponentArn: arn(world, 'inference-component', ic.name),
          EndpointName: ic.endpoint,
          EndpointArn: arn(world, 'endpoint', ic.endpoint),
          VariantName: 'AllTraffic',
          CreationTime: new Date(0),
          LastModifiedTime: new Date(0),
        })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(DeleteEndpointCommand).callsFake(
    answer('DeleteEndpoint', (input: { EndpointName: string }) => {
      const e = endpointOr404(input.EndpointName);
      if (e.deleteFailsWith) throw awsError(e.deleteFailsWith);
      if (e.status === 'Deleting') throw awsError('ValidationException', 'Cannot update in-progress endpoint');
      // Gone: the config stays.
      world.endpoints.delete(e.name);
      return {};
    }),
  );
  sm.on(CreateEndpointCommand).callsFake(
    answer('CreateEndpoint', (input: CreateEndpointCommandInput) => {
      if (world.endpoints.has(input.EndpointName!))
        throw awsError('ValidationException', 'Cannot create already existing endpoint');
      if (!world.configs.has(input.EndpointConfigName!)) {
        throw awsError('ValidationException', `Could not find endpoint configuration "${input.EndpointConfigName}".`);
      }
      world.endpoints.set(input.EndpointName!, {
        name: input.EndpointName!,
        configName: input.EndpointConfigName!,
        status: 'Creating',
        creationTime: new Date(),
        tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
        invocations: {},
      });
      return { EndpointArn: arn(world, 'endpoint', input.EndpointName!) };
    }),
  );
  sm.on(ListNotebookInstancesCommand).callsFake(
    answer('ListNotebookInstances', (input: { StatusEquals?: string; NextToken?: string; MaxResults?: number }) => {
      const all = [...world.notebooks.values()].filter((n) => !input.StatusEquals || n.status === input.StatusEquals);
      const p = page(all, input.NextToken, input.MaxResults);
      return {
        NotebookInstances: p.items.map((n) => ({
          NotebookInstanceName: n.name,
          NotebookInstanceArn: arn(world, 'notebook-instance', n.name),
          NotebookInstanceStatus: n.status,
          InstanceType: n.instanceType,
          CreationTime: n.creationTime,
          LastModifiedTime: n.lastModifiedTime,
          ...(n.lifecycleConfigName ? { NotebookInstanceLifecycleConfigName: n.lifecycleConfigName } : {}),
        })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(StopNotebookInstanceCommand).callsFake(
    answer('StopNotebookInstance', (input: { NotebookInstanceName: string }) => {
      const n = world.notebooks.get(input.NotebookInstanceName);
      if (!n) throw awsError('ValidationException', 'RecordNotFound');
      n.status = 'Stopping';
      return {};
    }),
  );
  sm.on(ListDomainsCommand).callsFake(
    answer('ListDomains', (input: { NextToken?: string; MaxResults?: number }) => {
      const p = page([...world.domains.values()], input.NextToken, input.MaxResults);
      return {
        Domains: p.items.map((d) => ({
          DomainId: d.id,
          DomainArn: arn(world, 'domain', d.id),
          DomainName: d.name,
          Status: d.status,
        })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(DescribeDomainCommand).callsFake(
    answer('DescribeDomain', (input: { DomainId: string }) => {
      const d = world.domains.get(input.DomainId);
      if (!d) throw awsError('ResourceNotFound');
      return {
        DomainId: d.id,
        DomainArn: arn(world, 'domain', d.id),
        DomainName: d.name,
        Status: d.status,
        DefaultUserSettings: structuredClone(d.settings),
      };
    }),
  );
  sm.on(UpdateDomainCommand).callsFake(
    answer('UpdateDomain', (input: UpdateDomainCommandInput) => {
      const d = world.domains.get(input.DomainId!);
      if (!d) throw awsError('ResourceNotFound');
      // UpdateDomain replaces each app settings object it is given, and leaves the others.
      for (const [k, v] of Object.entries(input.DefaultUserSettings ?? {})) d.settings[k] = structuredClone(v);
      return { DomainArn: arn(world, 'domain', d.id) };
    }),
  );
  const ownerOr404 = (kind: FakeStudioOwner['kind'], domainId: string, name: string) => {
    const o = world.owners.find((x) => x.kind === kind && x.domainId === domainId && x.name === name);
    if (!o) throw awsError('ResourceNotFound');
    return o;
  };
  const listOwners =
    (kind: FakeStudioOwner['kind']) => (input: { DomainIdEquals?: string; NextToken?: string; MaxResults?: number }) =>
      page(
        world.owners.filter((o) => o.kind === kind && (!input.DomainIdEquals || o.domainId === input.DomainIdEquals)),
        input.NextToken,
        input.MaxResults,
      );
  sm.on(ListUserProfilesCommand).callsFake(
    answer('ListUserProfiles', (input: { DomainIdEquals?: string; NextToken?: string; MaxResults?: number }) => {
      const p = listOwners('user-profile')(input);
      return {
        UserProfiles: p.items.map((o) => ({ DomainId: o.domainId, UserProfileName: o.name, Status: o.status })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(ListSpacesCommand).callsFake(
    answer('ListSpaces', (input: { DomainIdEquals?: string; NextToken?: string; MaxResults?: number }) => {
      const p = listOwners('space')(input);
      return {
        Spaces: p.items.map((o) => ({ DomainId: o.domainId, SpaceName: o.name, Status: o.status })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  sm.on(DescribeUserProfileCommand).callsFake(
    answer('DescribeUserProfile', (input: { DomainId: string; UserProfileName: string }) => {
      const o = ownerOr404('user-profile', input.DomainId, input.UserProfileName);
      return {
        DomainId: o.domainId,
        UserProfileName: o.name,
        UserProfileArn: arn(world, o.kind, `${o.domainId}/${o.name}`),
        Status: o.status,
        UserSettings: structuredClone(o.settings),
      };
    }),
  );
  sm.on(DescribeSpaceCommand).callsFake(
    answer('DescribeSpace', (input: { DomainId: string; SpaceName: string }) => {
      const o = ownerOr404('space', input.DomainId, input.SpaceName);
      return {
        DomainId: o.domainId,
        SpaceName: o.name,
        SpaceArn: arn(world, o.kind, `${o.domainId}/${o.name}`),
        Status: o.status,
        SpaceSettings: structuredClone(o.settings),
      };
    }),
  );
  // Updates replace each app settings object they are given, and leave the others.
  sm.on(UpdateUserProfileCommand).callsFake(
    answer('UpdateUserProfile', (input: UpdateUserProfileCommandInput) => {
      const o = ownerOr404('user-profile', input.DomainId!, input.UserProfileName!);
      for (const [k, v] of Object.entries(input.UserSettings ?? {})) o.settings[k] = structuredClone(v);
      return { UserProfileArn: arn(world, o.kind, `${o.domainId}/${o.name}`) };
    }),
  );
  sm.on(UpdateSpaceCommand).callsFake(
    answer('UpdateSpace', (input: UpdateSpaceCommandInput) => {
      const o = ownerOr404('space', input.DomainId!, input.SpaceName!);
      for (const [k, v] of Object.entries(input.SpaceSettings ?? {})) o.settings[k] = structuredClone(v);
      return { SpaceArn: arn(world, o.kind, `${o.domainId}/${o.name}`) };
    }),
  );
  sm.on(ListAppsCommand).callsFake(
    answer('ListApps', (input: { NextToken?: string; MaxResults?: number }) => {
      const p = page(world.apps, input.NextToken, input.MaxResults);
      return {
        Apps: p.items.map((a) => ({
          DomainId: a.domainId,
          AppType: a.appType,
          AppName: a.appName,
          Status: a.status,
          CreationTime: a.creationTime,
          ...(a.userProfileName ? { UserProfileName: a.userProfileName } : {}),
          ...(a.spaceName ? { SpaceName: a.spaceName } : {}),
          ...(a.instanceType ? { ResourceSpec: { InstanceType: a.instanceType } } : {}),
        })),
        ...(p.NextToken ? { NextToken: p.NextToken } : {}),
      };
    }),
  );
  cw.on(GetMetricDataCommand).callsFake(
    answer('GetMetricData', (input: GetMetricDataCommandInput) => {
      if (world.metricsFailWith) throw awsError(world.metricsFailWith);
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
          const dims = q.MetricStat?.Metric?.Dimensions ?? [];
          const endpoint = dims.find((d) => d.Name === 'EndpointName')?.Value ?? '';
          const variant = dims.find((d) => d.Name === 'VariantName')?.Value ?? '';
          return { Id: q.Id, Values: world.endpoints.get(endpoint)?.invocations[variant] ?? [] };
        }),
      };
    }),
  );
  return {
    sm,
    cw,
    restore() {
      sm.restore();
      cw.restore();
    },
  };
}
