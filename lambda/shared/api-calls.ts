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

/** One AWS call as the counter saw it: for `--verbose` logs and progress. */
export interface ApiCall {
  /** `EC2.DescribeInstances` */
  readonly operation: string;
  readonly region?: string;
  /** From send to answer (or error), milliseconds. */
  readonly durationMs: number;
  /** The error's code when the call failed (after the SDK's own retries). */
  readonly error?: string;
}

/** Called when a call starts (`onStart`) and when it ends (`onEnd`). */
export interface ApiCallHooks {
  readonly onStart?: (operation: string) => void;
  readonly onEnd?: (call: ApiCall) => void;
}

const codeOf = (error: unknown): string =>
  (error as { name?: string; Code?: string } | undefined)?.Code ?? (error as Error | undefined)?.name ?? 'Error';

export class ApiCallCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly hooks: ApiCallHooks = {}) {}

  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /**
   * Attaches the counter to an SDK v3 client: each command sent counts once (SDK retries are not counted). It wraps
   * `send` on the instance and looks the prototype's `send` up at call time, so mocked clients
   * (aws-sdk-client-mock stubs the prototype) are counted the same way as real ones.
   */
  attach<T extends object>(client: T, service: string, region?: string): T {
    const proto = Object.getPrototypeOf(client) as Sender;
    const counter = this;
    const { onStart, onEnd } = this.hooks;
    Object.defineProperty(client, 'send', {
      configurable: true,
      value(this: T, command: unknown, ...rest: unknown[]) {
        const operation = `${service}.${operationName(command)}`;
        counter.record(operation);
        onStart?.(operation);
        if (!onEnd) return proto.send.call(this, command, ...rest);
        const started = performance.now();
        const end = (error?: unknown) =>
          onEnd({
            operation,
            ...(region ? { region } : {}),
            durationMs: Math.round(performance.now() - started),
            ...(error !== undefined ? { error: codeOf(error) } : {}),
          });
        const result = proto.send.call(this, command, ...rest);
        if (!result || typeof (result as Promise<unknown>).then !== 'function') {
          end();
          return result;
        }
        return result.then(
          (value) => {
            end();
            return value;
          },
          (error: unknown) => {
            end(error);
            throw error;
          },
        );
      },
    });
    return client;
  }

  /** A counter with the same hooks and no counts (one per report section). */
  fresh(): ApiCallCounter {
    return new ApiCallCounter(this.hooks);
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
