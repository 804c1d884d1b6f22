/**
 * The test environment: Jest's Node environment, with two changes for workers that run many test files in turn.
 *
 * - V8 code caching for module compilation (see helpers/compile-cache.ts). Installed once per worker process, when
 *   Jest first loads this environment.
 * - The AsyncLocalStorage instances a test file creates are disabled when the file is done. jest-circus creates one
 *   per test file and never disables it; on Node 20 every enabled instance stays in a process-wide list that runs on
 *   each new promise, and stamps the promise with one more property. By a worker's last file, each promise paid for
 *   every earlier file. See helpers/async-local-storage.ts.
 */
import { TestEnvironment } from 'jest-environment-node';
import { trackAsyncLocalStorage } from './helpers/async-local-storage';
import { cachingCompile } from './helpers/compile-cache';

// The module objects themselves (an `import * as` namespace would be a copy): Jest's runtime calls
// `vm.compileFunction`, and jest-circus constructs `async_hooks.AsyncLocalStorage`, looking both up at use.
import asyncHooks = require('node:async_hooks');
import vm = require('node:vm');

const INSTALLED = Symbol.for('ml-cost-guard.compile-cache');
const vmModule = vm as typeof vm & { [INSTALLED]?: true };
if (!vmModule[INSTALLED]) {
  const cache = cachingCompile(vm.compileFunction);
  if (process.env.DEBUG_COMPILE_CACHE) process.on('exit', () => console.error(JSON.stringify(cache.stats)));
  // Jest looks `compileFunction` up on the module object at each compile, so replacing it there is enough.
  Object.defineProperty(vmModule, 'compileFunction', { value: cache.compile });
  Object.defineProperty(vmModule, INSTALLED, { value: true });
}

const storages = trackAsyncLocalStorage(asyncHooks);

export default class CostGuardTestEnvironment extends TestEnvironment {
  // Everything created from here on belongs to this test file (a worker runs one file at a time).
  private readonly created = storages.collect();

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      this.created.disableAll();
    }
  }
}
