/**
 * Tracks the AsyncLocalStorage instances created in a Jest worker, so the test environment can disable a test file's
 * instances when the file is done.
 *
 * Why: on Node 20 (the engines floor) an enabled AsyncLocalStorage sits in a process-wide list until `disable()`, and
 * an async hook walks that list for every new promise, setting one property per instance on it. jest-circus creates
 * an instance for each test file (its test execution context) and never disables it, so a worker's promises get
 * slower, and larger, with every file it has run. Disabling an instance whose test file is over changes nothing a
 * test can see: its module registry is gone with the file.
 *
 * The module's `AsyncLocalStorage` is replaced by a subclass that records each new instance with the collector open
 * at the time; instances keep their own class's behaviour, and `instanceof AsyncLocalStorage` still holds.
 */
import type * as asyncHooks from 'node:async_hooks';

type AsyncLocalStorageClass = typeof asyncHooks.AsyncLocalStorage;
type Instance = InstanceType<AsyncLocalStorageClass>;

export interface Collection {
  /** Disables every instance created since `collect()` opened this collection, and closes it. */
  disableAll(): void;
}

export interface Tracker {
  /** Opens a collection: instances created from now on, until the next `collect()`, are recorded in it. */
  collect(): Collection;
}

const TRACKER = Symbol.for('ml-cost-guard.async-local-storage-tracker');

/** Installs the tracking subclass on `mod` once (a second call returns the same tracker). */
export function trackAsyncLocalStorage(mod: { AsyncLocalStorage: AsyncLocalStorageClass }): Tracker {
  const installed = (mod as { [TRACKER]?: Tracker })[TRACKER];
  if (installed) return installed;
  let current: Set<Instance> | undefined;
  const Base = mod.AsyncLocalStorage;
  class TrackedAsyncLocalStorage<T> extends Base<T> {
    constructor() {
      super();
      current?.add(this);
    }
  }
  const tracker: Tracker = {
    collect() {
      const created = new Set<Instance>();
      current = created;
      return {
        disableAll() {
          for (const storage of created) storage.disable();
          created.clear();
          if (current === created) current = undefined;
        },
      };
    },
  };
  Object.defineProperty(mod, 'AsyncLocalStorage', {
    value: TrackedAsyncLocalStorage,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(mod, TRACKER, { value: tracker });
  return tracker;
}
