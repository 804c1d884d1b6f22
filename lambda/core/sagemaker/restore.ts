/**
 * Which endpoints `cost-guard restore --sagemaker` recreates: only those the guard's own records say it deleted (the
 * endpoint index the guard writes before and after each DeleteEndpoint), never because of a name or a tag. Each is
 * recreated with CreateEndpoint from the endpoint config it ran on, with the tags it had (the `aws:` ones excepted:
 * AWS sets those itself). Pure.
 */

/** A deletion the guard recorded. */
export interface RecordedEndpointDeletion {
  readonly endpointName: string;
  readonly region: string;
  readonly endpointConfigName: string;
  /** The endpoint's tags when it was deleted. */
  readonly tags: Readonly<Record<string, string>>;
  readonly deletedAt: string;
  readonly reason: string;
  /** ISO creation time of the endpoint that was deleted. */
  readonly creationTime?: string;
}

/** What SageMaker says now about the recorded endpoint's name and its config. */
export interface EndpointRestoreFacts {
  /** An endpoint of this name exists (any status): undefined when it does not. */
  readonly endpointStatus?: string;
  /** The endpoint config still exists. */
  readonly configExists: boolean;
}

export interface EndpointRestoreRefusal {
  readonly endpointName: string;
  readonly region: string;
  readonly reason: string;
}

export interface EndpointRestorePlan {
  readonly create: readonly RecordedEndpointDeletion[];
  readonly refused: readonly EndpointRestoreRefusal[];
}

/** Tags CreateEndpoint may set again: keys starting `aws:` are AWS's own and rejected by the API. */
export function restorableTags(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags)
    .filter(([k]) => !k.toLowerCase().startsWith('aws:'))
    .map(([Key, Value]) => ({ Key, Value }));
}

/** Decides, for one region, which recorded deletions to undo. `facts` by endpoint name. */
export function planEndpointRestore(
  deletions: readonly RecordedEndpointDeletion[],
  facts: ReadonlyMap<string, EndpointRestoreFacts>,
): EndpointRestorePlan {
  const create: RecordedEndpointDeletion[] = [];
  const refused: EndpointRestoreRefusal[] = [];
  for (const d of deletions) {
    const f = facts.get(d.endpointName);
    const refuse = (reason: string) => refused.push({ endpointName: d.endpointName, region: d.region, reason });
    if (!f) {
      refuse('could not be checked: not recreated (when in doubt, no action)');
      continue;
    }
    if (f.endpointStatus !== undefined) {
      refuse(`an endpoint of this name exists now (${f.endpointStatus}): nothing to recreate`);
      continue;
    }
    if (!f.configExists) {
      refuse(`its endpoint config '${d.endpointConfigName}' no longer exists: cannot be recreated from it`);
      continue;
    }
    create.push(d);
  }
  return { create, refused };
}
