/**
 * Counts AWS API calls by operation (e.g. `EC2.DescribeInstances`) through an SDK middleware, so every run can report
 * how many calls it made: the figure that shows the reaper scales with pages, not instances.
 */

interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string; clientName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string; override?: boolean },
  ): void;
}

export class ApiCallCounter {
  private readonly counts = new Map<string, number>();

  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /** Attaches the counter to an SDK v3 client; each command sent counts once (retries are not counted). */
  attach<T extends { middlewareStack: unknown }>(client: T, service: string): T {
    (client.middlewareStack as MiddlewareStackLike).add(
      (next, context) => async (args) => {
        this.record(`${service}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`);
        return next(args);
      },
      { step: 'initialize', name: 'costGuardApiCallCounter', override: true },
    );
    return client;
  }

  byOperation(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
