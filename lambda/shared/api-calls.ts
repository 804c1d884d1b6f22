/**
 * Counts AWS API calls by operation (e.g. `EC2.DescribeInstances`), so every run can report how many calls it made: the figure that shows the reaper scales with pages, not instances.
 */

interface Sender {
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
}

/**
 * The API operation a command calls: `DescribeInstances` for a DescribeInstancesCommand. Read from the command's
 * operation schema (`[kind, namespace, name, …]` in SDK v3), which survives minification; the Lambda bundles are
 * minified, so the class name alone reads `Vi` there. The class name is the fallback.
 */
export function operationName(command: unknown): string {
  const schema = (command as { schema?: unknown }).schema;
  if (Array.isArray(schema) && typeof schema[2] === 'string' && schema[2].length > 0) return schema[2];
  if (schema && typeof schema === 'object' && typeof (schema as { name?: unknown }).name === 'string') {
    return (schema as { name: string }).name;
  }
  const ctor = (command as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof ctor === 'string' ? ctor.replace(/Command$/, '') : 'Unknown';
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
      value(this: T, command: unknown, ...rest: unknown[]) {
        counter.record(`${service}.${operationName(command)}`);
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
