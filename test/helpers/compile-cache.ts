/**
 * V8 code caching for Jest's module compilation. Jest gives every test file its own module registry, so a worker
 * compiles each module again for each file that loads it: the AWS SDK clients, aws-cdk-lib, zod and the project's own
 * modules, over a hundred times per run. Compiling (parsing) was a sixth of the suite's CPU time.
 *
 * `cachingCompile` wraps `vm.compileFunction`: the first compile of a module in a worker also produces V8's code cache,
 * and later compiles of the same module (same file name, same source text, same parameters) start from that cache.
 * The function is compiled in the caller's context each time, so nothing but V8's parse result is shared between test
 * files; modules are still loaded, and run, once per file. When V8 rejects a cache (another V8 version or flags), the
 * module is compiled from source, as without the cache.
 */
import type * as vm from 'node:vm';

type CompileFunction = typeof vm.compileFunction;

export interface CompileCacheStats {
  /** Compiles that started from a code cache. */
  hits: number;
  /** Compiles from source (first sight of a module, or its source changed). */
  misses: number;
  /** Caches V8 refused (the module was compiled from source). */
  rejected: number;
  /** Bytes of code cache held. */
  bytes: number;
}

interface Entry {
  readonly code: string;
  readonly params: string;
  readonly data: Buffer;
}

export function cachingCompile(compile: CompileFunction): { compile: CompileFunction; stats: CompileCacheStats } {
  const entries = new Map<string, Entry>();
  const stats: CompileCacheStats = { hits: 0, misses: 0, rejected: 0, bytes: 0 };
  const cached: CompileFunction = (code, params, options) => {
    const filename = options?.filename;
    // Without a file name there is no key, and a caller's own cache stays the caller's.
    if (!filename || options.cachedData || options.produceCachedData) return compile(code, params, options);
    const paramList = (params ?? []).join(',');
    const entry = entries.get(filename);
    if (entry && entry.code === code && entry.params === paramList) {
      const fn = compile(code, params, { ...options, cachedData: entry.data });
      if (fn.cachedDataRejected) stats.rejected += 1;
      else stats.hits += 1;
      return fn;
    }
    const fn = compile(code, params, { ...options, produceCachedData: true });
    stats.misses += 1;
    if (fn.cachedDataProduced && fn.cachedData) {
      stats.bytes += fn.cachedData.length - (entry?.data.length ?? 0);
      entries.set(filename, { code, params: paramList, data: fn.cachedData });
    }
    return fn;
  };
  return { compile: cached, stats };
}
