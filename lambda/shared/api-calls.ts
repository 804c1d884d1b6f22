/**
 * Counts AWS API calls by operation (e.g. `EC2.DescribeInstances`), so every run can report how many calls it made: the figure that shows the reaper scales with pages, not instances.
 */

interface Sender {
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
}

export class ApiCallCounter {
  private readonly counts = new Map<string, number>();

  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /**
   * Attaches the counter to an SDK v3 client: each command sent counts once (SDK retries are not counted). It wraps
   * `send` on the instance and looks the prototype's `send` up at call time, so mocked clients
   * (aws-sdk-client-mock stubs the prototype) are counted the same way as real ones.
   */
  attach<T extends object>(client: T, service: string): T {
    const proto = Object.getPrototypeOf(client) as Sender;
    const counter = this;
    Object.defineProperty(client, 'send', {
      configurable: true,
      value(this: T, command: { constructor: { name: string } }, ...rest: unknown[]) {
        counter.record(`${service}.${command.constructor.name.replace(/Command$/, '')}`);
        return proto.send.call(this, command, ...rest);
      },
    });
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
