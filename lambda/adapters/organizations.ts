/**
 * AWS Organizations and STS for the organization fan-out: which accounts to guard (active members of the configured
 * OUs, nested OUs included, plus the listed accounts, minus the excluded), and the spoke role's credentials in each.
 *
 * Every list is paginated with the SDK's paginators. An account that is named but not guardable (suspended, closed,
 * not a member) is returned with its reason, never silently dropped.
 */
import {
  type Account,
  type OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { TargetAccount } from '../core/organization/fan-out';
import { CostGuardError, errorCode, errorMessage } from '../shared/errors';

export interface TargetSelection {
  readonly organizationalUnitIds: readonly string[];
  readonly accountIds: readonly string[];
  readonly exclude: readonly string[];
}

export interface TargetListing {
  /** Active accounts to guard, sorted by ID. */
  readonly accounts: TargetAccount[];
  /** Accounts the config names that are not guarded, each with why. */
  readonly skipped: { readonly accountId: string; readonly reason: string }[];
}

/** Organizations' account status: `State` (since 2025) or the older `Status`. */
function isActive(account: Account): boolean {
  const state = (account as Account & { State?: string }).State ?? account.Status;
  return state === 'ACTIVE';
}

function stateOf(account: Account): string {
  return ((account as Account & { State?: string }).State ?? account.Status ?? 'unknown').toLowerCase();
}

/** Accounts directly under `parentId` and, breadth first, under every OU nested in it. */
async function accountsUnder(client: OrganizationsClient, parentId: string): Promise<Account[]> {
  const found: Account[] = [];
  const queue = [parentId];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const parent = queue.shift()!;
    if (seen.has(parent)) continue;
    seen.add(parent);
    for await (const page of paginateListAccountsForParent({ client }, { ParentId: parent })) {
      found.push(...(page.Accounts ?? []));
    }
    for await (const page of paginateListOrganizationalUnitsForParent({ client }, { ParentId: parent })) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) queue.push(ou.Id);
    }
  }
  return found;
}

/**
 * The accounts to guard. The OUs are walked with ListAccountsForParent / ListOrganizationalUnitsForParent; the
 * listed accounts are looked up with one paginated ListAccounts. Throws what Organizations throws (access denied:
 * the hub is neither the management account nor a delegated administrator).
 */
export async function listTargetAccounts(client: OrganizationsClient, o: TargetSelection): Promise<TargetListing> {
  const excluded = new Set(o.exclude);
  const byId = new Map<string, Account>();
  for (const ou of o.organizationalUnitIds) {
    for (const account of await accountsUnder(client, ou)) if (account.Id) byId.set(account.Id, account);
  }
  const skipped: { accountId: string; reason: string }[] = [];
  const wanted = o.accountIds.filter((id) => !byId.has(id));
  if (wanted.length > 0) {
    const all = new Map<string, Account>();
    for await (const page of paginateListAccounts({ client }, {})) {
      for (const account of page.Accounts ?? []) if (account.Id) all.set(account.Id, account);
    }
    for (const id of wanted) {
      const account = all.get(id);
      if (account) byId.set(id, account);
      else if (!excluded.has(id)) skipped.push({ accountId: id, reason: 'not a member of this organization' });
    }
  }
  const accounts: TargetAccount[] = [];
  for (const [id, account] of byId) {
    if (excluded.has(id)) continue;
    if (!isActive(account)) {
      skipped.push({ accountId: id, reason: `account is ${stateOf(account)}, not active` });
      continue;
    }
    accounts.push({ id, name: account.Name ?? id });
  }
  accounts.sort((a, b) => a.id.localeCompare(b.id));
  skipped.sort((a, b) => a.accountId.localeCompare(b.accountId));
  return { accounts, skipped };
}

/** The spoke role could not be assumed: the account has no spoke role, or it does not trust this caller. */
export class SpokeRoleAccessError extends CostGuardError {
  constructor(
    readonly accountId: string,
    readonly roleArn: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot assume ${roleArn} (${code}): deploy the spoke role to account ${accountId} (the hub's StackSet covers the configured OUs; otherwise \`cdk deploy MlCostGuardSpoke\` there) and check it trusts this hub`,
      options,
    );
    this.name = 'SpokeRoleAccessError';
  }
}

/** Temporary credentials, in the shape every SDK client's `credentials` option takes. */
export interface SpokeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface AssumeOptions {
  readonly accountId: string;
  readonly roleArn: string;
  readonly sessionName: string;
  /** @default 3600 (the role's default maximum session) */
  readonly durationSeconds?: number;
}

/**
 * Temporary credentials of the spoke role. Throws SpokeRoleAccessError for a role that is missing or does not trust
 * the caller (AccessDenied); other errors (throttling after the SDK's retries, network) pass through as they are.
 */
export async function assumeSpokeRole(sts: STSClient, o: AssumeOptions): Promise<SpokeCredentials> {
  const answer = await sts
    .send(
      new AssumeRoleCommand({
        RoleArn: o.roleArn,
        RoleSessionName: o.sessionName,
        DurationSeconds: o.durationSeconds ?? 3600,
      }),
    )
    .catch((error: unknown) => {
      const code = errorCode(error);
      if (code === 'AccessDenied' || code === 'AccessDeniedException')
        throw new SpokeRoleAccessError(o.accountId, o.roleArn, code, { cause: error });
      throw error;
    });
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new SpokeRoleAccessError(o.accountId, o.roleArn, 'no credentials in the AssumeRole answer');
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  };
}

/** One line for a unit that failed: the error's code and message. */
export function describeAccountFailure(error: unknown): string {
  if (error instanceof SpokeRoleAccessError) return error.message;
  const code = errorCode(error);
  const message = errorMessage(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
