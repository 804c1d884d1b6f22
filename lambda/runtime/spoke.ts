/**
 * Clients in another account of the organization (accounts.mode: organization): the hub assumes the account's
 * spoke role (accounts.roleName) and gets a client factory holding those credentials. The hub's own account needs
 * no role: its own clients are returned. One AssumeRole per account per run (the credentials last an hour; no run
 * of a unit lasts that long: the functions time out after 5 minutes). Their calls count on the run's counter.
 */
import type { ClientFactory } from '../adapters/clients';
import { assumeSpokeRole } from '../adapters/organizations';
import { spokeRoleArn, spokeSessionName } from '../core/organization/fan-out';
import { partitionOf } from '../core/regions';
import type { RunContext } from './context';

export interface SpokeClientsOptions {
  /** Names the session in the spoke's CloudTrail: `ml-cost-guard-<capability>-<run id>`. */
  readonly capability: string;
  readonly runId: string;
}

/** Client factories per account for one run; the hub's account (ctx.accountId) uses the run's own clients. */
export class SpokeClients {
  private readonly cache = new Map<string, Promise<ClientFactory>>();

  constructor(
    private readonly ctx: Pick<RunContext, 'clients' | 'config' | 'accountId'>,
    private readonly o: SpokeClientsOptions,
  ) {}

  /** The role this hub assumes in `accountId`. */
  roleArn(accountId: string): string {
    return spokeRoleArn(partitionOf(this.ctx.clients.defaultRegion), accountId, this.ctx.config.accounts.roleName);
  }

  /**
   * Clients in `accountId`. Throws SpokeRoleAccessError when the role is missing or does not trust the hub; a
   * failed AssumeRole is not cached, so a later call tries again.
   */
  forAccount(accountId: string): Promise<ClientFactory> {
    if (accountId === this.ctx.accountId) return Promise.resolve(this.ctx.clients);
    let clients = this.cache.get(accountId);
    if (!clients) {
      clients = assumeSpokeRole(this.ctx.clients.sts(), {
        accountId,
        roleArn: this.roleArn(accountId),
        sessionName: spokeSessionName(this.o.capability, this.o.runId),
      }).then((credentials) => this.ctx.clients.forAccount(credentials, { shareCounter: true }));
      clients.catch(() => this.cache.delete(accountId));
      this.cache.set(accountId, clients);
    }
    return clients;
  }
}
