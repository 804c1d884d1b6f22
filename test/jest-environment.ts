/**
 * The test environment: Jest's Node environment, with V8 code caching for module compilation in each worker (see
 * helpers/compile-cache.ts). Installed once per worker process, when Jest first loads this environment.
 */
import { TestEnvironment } from 'jest-environment-node';
import { cachingCompile } from './helpers/compile-cache';

// The module object itself (an `import * as` namespace would be a copy): Jest's runtime calls `vm.compileFunction`.
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

export default TestEnvironment;
