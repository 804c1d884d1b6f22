/**
 * SageMaker for the SageMaker guard: endpoints (ListEndpoints, DescribeEndpoint, DescribeEndpointConfig, ListTags,
 * ListInferenceComponents), notebook instances (ListNotebookInstances, ListTags), Studio (ListDomains,
 * DescribeDomain, ListApps, ListTags; per domain ListUserProfiles / DescribeUserProfile and ListSpaces /
 * DescribeSpace), and the writes (DeleteEndpoint, StopNotebookInstance, UpdateDomain, UpdateUserProfile,
 * UpdateSpace, CreateEndpoint for restore).
 *
 * Calls per region: list pages of 100; one DescribeEndpoint per InService endpoint; one DescribeEndpointConfig per
 * distinct config; ListTags only for endpoints and notebooks on GPU or accelerator types, and for domains. The
 * per-resource calls run a few at a time (`concurrency`) so 500 endpoints take seconds, not minutes; the SDK
 * retries throttling. A resource whose describe fails is reported in `errors` (the run alarms) and never acted on;
 * one whose tags cannot be read is returned with `tagsUnknown` (never acted on).
 */
import {
  CreateEndpointCommand,
  DeleteEndpointCommand,
  DescribeDomainCommand,
  type DescribeDomainResponse,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type DescribeEndpointConfigOutput,
  DescribeSpaceCommand,
  DescribeUserProfileCommand,
  paginateListApps,
  paginateListDomains,
  paginateListEndpoints,
  paginateListInferenceComponents,
  paginateListNotebookInstances,
  paginateListSpaces,
  paginateListTags,
  paginateListUserProfiles,
  type SageMakerClient,
  StopNotebookInstanceCommand,
  UpdateDomainCommand,
  UpdateSpaceCommand,
  UpdateUserProfileCommand,
} from '@aws-sdk/client-sagemaker';
import { isAcceleratedType } from '../core/sagemaker/decide';
import type { AppSettings, StudioAppFacts, StudioDomainFacts, StudioOwnerFacts } from '../core/sagemaker/studio';
import type { EndpointFacts, EndpointVariant, NotebookFacts } from '../core/sagemaker/types';
import { errorCode } from '../shared/errors';

/** Per-resource calls in flight at once, per region. */
export const DEFAULT_CONCURRENCY = 8;

const iso = (d: Date | undefined): string | undefined =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of `items` in the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** The tags of one resource (every page), as a plain record. */
export async function listTags(client: SageMakerClient, arn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  for await (const page of paginateListTags({ client }, { ResourceArn: arn })) {
    for (const t of page.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  }
  return tags;
}

/** Tags, or `tagsUnknown` when they cannot be read (the resource is then never acted on). */
async function tagsOrUnknown(
  client: SageMakerClient,
  arn: string,
): Promise<{ tags: Record<string, string>; tagsUnknown?: true }> {
  try {
    return { tags: await listTags(client, arn) };
  } catch {
    return { tags: {}, tagsUnknown: true };
  }
}

/** Inference components by the endpoint hosting them; throws when they cannot be listed. */
export async function listInferenceComponents(client: SageMakerClient): Promise<Map<string, string[]>> {
  const byEndpoint = new Map<string, string[]>();
  for await (const page of paginateListInferenceComponents({ client, pageSize: 100 }, {})) {
    for (const ic of page.InferenceComponents ?? []) {
      if (!ic.EndpointName || !ic.InferenceComponentName) continue;
      const list = byEndpoint.get(ic.EndpointName) ?? [];
      list.push(ic.InferenceComponentName);
      byEndpoint.set(ic.EndpointName, list);
    }
  }
  return byEndpoint;
}

export interface EndpointScan {
  readonly endpoints: EndpointFacts[];
  /** One line per endpoint (or config) that could not be described: nothing is decided for it. */
  readonly errors: string[];
  /** Inference components could not be listed: no endpoint of the region may be judged. */
  readonly inferenceComponentsUnknown: boolean;
}

/**
 * Every InService endpoint of the region with its variants (instance types from the endpoint config, current
 * instance counts from DescribeEndpoint), asynchronous or not, its inference components and, for endpoints on GPU
 * or accelerator types, its tags.
 */
export async function listEndpoints(
  client: SageMakerClient,
  region: string,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<EndpointScan> {
  const summaries: { name: string; arn: string }[] = [];
  for await (const page of paginateListEndpoints({ client, pageSize: 100 }, { StatusEquals: 'InService' })) {
    for (const e of page.Endpoints ?? []) {
      if (e.EndpointName && e.EndpointArn) summaries.push({ name: e.EndpointName, arn: e.EndpointArn });
    }
  }
  const errors: string[] = [];
  let components: Map<string, string[]> | undefined;
  try {
    components = summaries.length > 0 ? await listInferenceComponents(client) : new Map();
  } catch (error) {
    errors.push(`${region}: ListInferenceComponents failed (${errorCode(error)}): no endpoint judged there`);
  }
  const configs = new Map<string, Promise<DescribeEndpointConfigOutput>>();
  const config = (name: string) => {
    let p = configs.get(name);
    if (!p) {
      p = client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
      configs.set(name, p);
    }
    return p;
  };
  const described = await mapLimit(summaries, concurrency, async (s): Promise<EndpointFacts | undefined> => {
    try {
      const e = await client.send(new DescribeEndpointCommand({ EndpointName: s.name }));
      const configName = e.EndpointConfigName ?? '';
      const c = configName ? await config(configName) : undefined;
      const typeOf = new Map((c?.ProductionVariants ?? []).map((v) => [v.VariantName, v]));
      const variants: EndpointVariant[] = (e.ProductionVariants ?? []).map((v) => {
        const spec = typeOf.get(v.VariantName);
        const serverless =
          v.CurrentServerlessConfig !== undefined ||
          v.DesiredServerlessConfig !== undefined ||
          spec?.ServerlessConfig !== undefined;
        return {
          variantName: v.VariantName ?? '',
          ...(spec?.InstanceType ? { instanceType: spec.InstanceType } : {}),
          serverless,
          ...(v.CurrentInstanceCount !== undefined ? { currentInstanceCount: v.CurrentInstanceCount } : {}),
        };
      });
      const creationTime = iso(e.CreationTime);
      const lastModifiedTime = iso(e.LastModifiedTime);
      const ics = components?.get(s.name);
      const facts: EndpointFacts = {
        name: s.name,
        arn: e.EndpointArn ?? s.arn,
        region,
        status: e.EndpointStatus ?? 'unknown',
        ...(creationTime ? { creationTime } : {}),
        ...(lastModifiedTime ? { lastModifiedTime } : {}),
        endpointConfigName: configName,
        variants,
        async: e.AsyncInferenceConfig !== undefined || c?.AsyncInferenceConfig !== undefined,
        ...(ics && ics.length > 0 ? { inferenceComponents: { count: ics.length, names: ics } } : {}),
        tags: {},
      };
      if (!variants.some((v) => isAcceleratedType(v.instanceType))) return facts;
      return { ...facts, ...(await tagsOrUnknown(client, facts.arn)) };
    } catch (error) {
      errors.push(`${region}: endpoint ${s.name} could not be described (${errorCode(error)}): not judged`);
      return undefined;
    }
  });
  return {
    endpoints: described.filter((e): e is EndpointFacts => e !== undefined),
    errors,
    inferenceComponentsUnknown: components === undefined,
  };
}

/** What DescribeEndpoint says now (just before a delete): undefined when the endpoint does not exist. */
export async function endpointNow(
  client: SageMakerClient,
  name: string,
): Promise<{ status?: string; endpointConfigName?: string } | undefined> {
  try {
    const e = await client.send(new DescribeEndpointCommand({ EndpointName: name }));
    return {
      ...(e.EndpointStatus ? { status: e.EndpointStatus } : {}),
      ...(e.EndpointConfigName ? { endpointConfigName: e.EndpointConfigName } : {}),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** SageMaker answers a missing endpoint or config with ValidationException "Could not find …". */
export function isNotFound(error: unknown): boolean {
  return (
    (errorCode(error) === 'ValidationException' || errorCode(error) === 'ResourceNotFound') &&
    /could not find|does not exist|not found/i.test(error instanceof Error ? error.message : String(error))
  );
}

export async function endpointConfigExists(client: SageMakerClient, name: string): Promise<boolean> {
  try {
    await client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Deletes the endpoint; its endpoint config and models stay. */
export async function deleteEndpoint(client: SageMakerClient, name: string): Promise<void> {
  await client.send(new DeleteEndpointCommand({ EndpointName: name }));
}

/** Recreates an endpoint from an endpoint config, with the given tags. */
export async function createEndpoint(
  client: SageMakerClient,
  name: string,
  endpointConfigName: string,
  tags: readonly { Key: string; Value: string }[],
): Promise<void> {
  await client.send(
    new CreateEndpointCommand({
      EndpointName: name,
      EndpointConfigName: endpointConfigName,
      ...(tags.length > 0 ? { Tags: [...tags] } : {}),
    }),
  );
}

export interface NotebookScan {
  readonly notebooks: NotebookFacts[];
}

/** Every InService notebook instance on a GPU or accelerator type, with its tags. */
export async function listGpuNotebooks(
  client: SageMakerClient,
  region: string,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<NotebookScan> {
  const found: Omit<NotebookFacts, 'tags'>[] = [];
  for await (const page of paginateListNotebookInstances({ client, pageSize: 100 }, { StatusEquals: 'InService' })) {
    for (const n of page.NotebookInstances ?? []) {
      if (!n.NotebookInstanceName || !n.NotebookInstanceArn || !isAcceleratedType(n.InstanceType)) continue;
      const creationTime = iso(n.CreationTime);
      const lastModifiedTime = iso(n.LastModifiedTime);
      found.push({
        name: n.NotebookInstanceName,
        arn: n.NotebookInstanceArn,
        region,
        status: n.NotebookInstanceStatus ?? 'unknown',
        instanceType: n.InstanceType!,
        ...(creationTime ? { creationTime } : {}),
        ...(lastModifiedTime ? { lastModifiedTime } : {}),
        ...(n.NotebookInstanceLifecycleConfigName
          ? { lifecycleConfigName: n.NotebookInstanceLifecycleConfigName }
          : {}),
      });
    }
  }
  const notebooks = await mapLimit(found, concurrency, async (n) => ({
    ...n,
    ...(await tagsOrUnknown(client, n.arn)),
  }));
  return { notebooks };
}

export async function stopNotebook(client: SageMakerClient, name: string): Promise<void> {
  await client.send(new StopNotebookInstanceCommand({ NotebookInstanceName: name }));
}

export interface StudioScan {
  readonly domains: StudioDomainFacts[];
  readonly apps: StudioAppFacts[];
  readonly errors: string[];
}

function appSettingsOf(d: DescribeDomainResponse): StudioDomainFacts['appSettings'] {
  const s = d.DefaultUserSettings;
  return {
    ...(s?.JupyterLabAppSettings ? { JupyterLab: s.JupyterLabAppSettings as AppSettings } : {}),
    ...(s?.CodeEditorAppSettings ? { CodeEditor: s.CodeEditorAppSettings as AppSettings } : {}),
  };
}

/** The region's Studio domains (settings, tags) and running apps. */
export async function listStudio(
  client: SageMakerClient,
  region: string,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<StudioScan> {
  const ids: { id: string; arn: string; name: string }[] = [];
  for await (const page of paginateListDomains({ client, pageSize: 100 }, {})) {
    for (const d of page.Domains ?? []) {
      if (d.DomainId && d.DomainArn) ids.push({ id: d.DomainId, arn: d.DomainArn, name: d.DomainName ?? d.DomainId });
    }
  }
  const errors: string[] = [];
  const domains = await mapLimit(ids, concurrency, async (d): Promise<StudioDomainFacts | undefined> => {
    try {
      const described = await client.send(new DescribeDomainCommand({ DomainId: d.id }));
      return {
        domainId: d.id,
        name: described.DomainName ?? d.name,
        region,
        status: described.Status ?? 'unknown',
        appSettings: appSettingsOf(described),
        ...(await tagsOrUnknown(client, d.arn)),
      };
    } catch (error) {
      errors.push(`${region}: Studio domain ${d.id} could not be described (${errorCode(error)})`);
      return undefined;
    }
  });
  const apps: StudioAppFacts[] = [];
  if (ids.length > 0) {
    for await (const page of paginateListApps({ client, pageSize: 100 }, {})) {
      for (const a of page.Apps ?? []) {
        if (!a.DomainId || !a.AppName || !a.AppType || a.Status !== 'InService') continue;
        const creationTime = iso(a.CreationTime);
        apps.push({
          domainId: a.DomainId,
          region,
          appType: a.AppType,
          appName: a.AppName,
          status: a.Status,
          ...(a.UserProfileName ? { userProfileName: a.UserProfileName } : {}),
          ...(a.SpaceName ? { spaceName: a.SpaceName } : {}),
          ...(creationTime ? { creationTime } : {}),
          ...(a.ResourceSpec?.InstanceType ? { instanceType: a.ResourceSpec.InstanceType } : {}),
        });
      }
    }
  }
  return { domains: domains.filter((d): d is StudioDomainFacts => d !== undefined), apps, errors };
}

/** Sends a domain's new DefaultUserSettings app settings (each one whole, as read, with new idle settings). */
export async function updateDomainAppSettings(
  client: SageMakerClient,
  domainId: string,
  update: Readonly<Record<string, AppSettings>>,
): Promise<void> {
  await client.send(
    new UpdateDomainCommand({
      DomainId: domainId,
      DefaultUserSettings: update as NonNullable<
        ConstructorParameters<typeof UpdateDomainCommand>[0]['DefaultUserSettings']
      >,
    }),
  );
}

type OwnerSettings = { JupyterLabAppSettings?: unknown; CodeEditorAppSettings?: unknown } | undefined;

function ownerAppSettings(s: OwnerSettings): StudioOwnerFacts['appSettings'] {
  return {
    ...(s?.JupyterLabAppSettings ? { JupyterLab: s.JupyterLabAppSettings as AppSettings } : {}),
    ...(s?.CodeEditorAppSettings ? { CodeEditor: s.CodeEditorAppSettings as AppSettings } : {}),
  };
}

export interface StudioOwnerScan {
  readonly owners: StudioOwnerFacts[];
  readonly errors: string[];
}

/**
 * The user profiles and spaces of the given domains with their own JupyterLab / Code Editor settings; tags are read
 * only for those that set idle settings of their own (the others inherit the domain's and are never changed). A
 * domain whose profiles or spaces cannot be listed, or one that cannot be described, is reported in `errors`.
 */
export async function listStudioOwners(
  client: SageMakerClient,
  region: string,
  domainIds: readonly string[],
  concurrency = DEFAULT_CONCURRENCY,
): Promise<StudioOwnerScan> {
  const errors: string[] = [];
  const found: { kind: StudioOwnerFacts['kind']; domainId: string; name: string }[] = [];
  for (const domainId of domainIds) {
    try {
      for await (const page of paginateListUserProfiles({ client, pageSize: 100 }, { DomainIdEquals: domainId })) {
        for (const u of page.UserProfiles ?? []) {
          if (u.UserProfileName) found.push({ kind: 'user-profile', domainId, name: u.UserProfileName });
        }
      }
    } catch (error) {
      errors.push(`${region}: user profiles of Studio domain ${domainId} could not be listed (${errorCode(error)})`);
    }
    try {
      for await (const page of paginateListSpaces({ client, pageSize: 100 }, { DomainIdEquals: domainId })) {
        for (const sp of page.Spaces ?? []) {
          if (sp.SpaceName) found.push({ kind: 'space', domainId, name: sp.SpaceName });
        }
      }
    } catch (error) {
      errors.push(`${region}: spaces of Studio domain ${domainId} could not be listed (${errorCode(error)})`);
    }
  }
  const owners = await mapLimit(found, concurrency, async (o): Promise<StudioOwnerFacts | undefined> => {
    try {
      const d =
        o.kind === 'user-profile'
          ? await client.send(new DescribeUserProfileCommand({ DomainId: o.domainId, UserProfileName: o.name }))
          : await client.send(new DescribeSpaceCommand({ DomainId: o.domainId, SpaceName: o.name }));
      const arn = 'UserProfileArn' in d ? d.UserProfileArn : 'SpaceArn' in d ? d.SpaceArn : undefined;
      const settings = 'UserSettings' in d ? d.UserSettings : 'SpaceSettings' in d ? d.SpaceSettings : undefined;
      const appSettings = ownerAppSettings(settings);
      const facts: StudioOwnerFacts = {
        kind: o.kind,
        domainId: o.domainId,
        name: o.name,
        arn: arn ?? '',
        region,
        status: d.Status ?? 'unknown',
        appSettings,
        tags: {},
      };
      const ownIdle = Object.values(appSettings).some((a) => a?.AppLifecycleManagement?.IdleSettings !== undefined);
      if (!ownIdle) return facts;
      if (!arn) return { ...facts, tagsUnknown: true };
      return { ...facts, ...(await tagsOrUnknown(client, arn)) };
    } catch (error) {
      const noun = o.kind === 'space' ? 'space' : 'user profile';
      errors.push(`${region}: Studio ${noun} ${o.name} (${o.domainId}) could not be described (${errorCode(error)})`);
      return undefined;
    }
  });
  return { owners: owners.filter((o): o is StudioOwnerFacts => o !== undefined), errors };
}

/** Sends a user profile's or space's new app settings (each one whole, as read, with new idle settings). */
export async function updateStudioOwnerAppSettings(
  client: SageMakerClient,
  owner: Pick<StudioOwnerFacts, 'kind' | 'domainId' | 'name'>,
  update: Readonly<Record<string, AppSettings>>,
): Promise<void> {
  if (owner.kind === 'user-profile') {
    await client.send(
      new UpdateUserProfileCommand({
        DomainId: owner.domainId,
        UserProfileName: owner.name,
        UserSettings: update as NonNullable<ConstructorParameters<typeof UpdateUserProfileCommand>[0]['UserSettings']>,
      }),
    );
    return;
  }
  await client.send(
    new UpdateSpaceCommand({
      DomainId: owner.domainId,
      SpaceName: owner.name,
      SpaceSettings: update as NonNullable<ConstructorParameters<typeof UpdateSpaceCommand>[0]['SpaceSettings']>,
    }),
  );
}
