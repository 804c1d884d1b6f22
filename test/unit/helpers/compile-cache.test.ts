/** The test environment's code cache gives the same functions as compiling from source, and never a stale one. */
import * as vm from 'node:vm';
import { cachingCompile } from '../../helpers/compile-cache';

const PARAMS = ['module', 'exports'];
const SOURCE = 'module.exports = { marker: globalThis.marker, twice: (n) => n * 2 };';

/** Runs a compiled module body in the context it was compiled for, and returns its exports. */
function load(fn: { call(self: unknown, ...args: unknown[]): unknown }): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  fn.call(undefined, module, module.exports);
  return module.exports;
}

describe('Function: cachingCompile', () => {
  it('compiles a module again from its code cache, in the new context', () => {
    // Prepare: two contexts, as two test files have
    const { compile, stats } = cachingCompile(vm.compileFunction);
    const first = vm.createContext({ marker: 'first' });
    const second = vm.createContext({ marker: 'second' });
    // Act
    const a = load(compile(SOURCE, PARAMS, { filename: '/m.js', parsingContext: first }));
    const b = load(compile(SOURCE, PARAMS, { filename: '/m.js', parsingContext: second }));
    // Assess: the second compile started from the cache, and its globals are the second context's
    expect(stats).toMatchObject({ hits: 1, misses: 1, rejected: 0 });
    expect(stats.bytes).toBeGreaterThan(0);
    expect([a.marker, b.marker]).toEqual(['first', 'second']);
    expect((b.twice as (n: number) => number)(21)).toBe(42);
  });

  it('compiles changed source text from source, never from the old cache', () => {
    const { compile, stats } = cachingCompile(vm.compileFunction);
    const context = vm.createContext({});
    load(compile('module.exports = { n: 1 };', PARAMS, { filename: '/m.js', parsingContext: context }));
    // Act: the same file, edited (watch mode), then as edited again
    const edited = () =>
      load(compile('module.exports = { n: 2 };', PARAMS, { filename: '/m.js', parsingContext: context }));
    // Assess
    expect(edited().n).toBe(2);
    expect(edited().n).toBe(2);
    expect(stats).toMatchObject({ hits: 1, misses: 2 });
  });

  it('keeps separate entries per file name and per parameter list', () => {
    const { compile, stats } = cachingCompile(vm.compileFunction);
    compile(SOURCE, PARAMS, { filename: '/a.js' });
    compile(SOURCE, PARAMS, { filename: '/b.js' });
    compile(SOURCE, [...PARAMS, 'require'], { filename: '/b.js' });
    expect(stats).toMatchObject({ hits: 0, misses: 3 });
  });

  it('passes through a compile without a file name, or with a cache of its own', () => {
    // Prepare: a compile function that records what it was asked
    const asked: (vm.CompileFunctionOptions | undefined)[] = [];
    const { compile, stats } = cachingCompile((code, params, options) => {
      asked.push(options);
      return vm.compileFunction(code, params, options);
    });
    const own = vm.compileFunction(SOURCE, PARAMS, { produceCachedData: true }).cachedData;
    // Act
    compile(SOURCE, PARAMS);
    compile(SOURCE, PARAMS, { filename: '/m.js', cachedData: own });
    // Assess: nothing was cached, and the caller's options went through as they were
    expect(stats).toMatchObject({ hits: 0, misses: 0, bytes: 0 });
    expect(asked).toEqual([undefined, { filename: '/m.js', cachedData: own }]);
  });

  it('counts a cache V8 refuses, and the module still compiles from source', () => {
    // Prepare: V8 refuses every cache (as after a V8 upgrade)
    const { compile, stats } = cachingCompile((code, params, options) => {
      const fn = vm.compileFunction(code, params, { ...options, cachedData: undefined });
      return options?.cachedData ? Object.assign(fn, { cachedDataRejected: true }) : fn;
    });
    // Act
    compile(SOURCE, PARAMS, { filename: '/m.js' });
    const again = load(compile(SOURCE, PARAMS, { filename: '/m.js' }));
    // Assess
    expect(stats).toMatchObject({ hits: 0, misses: 1, rejected: 1 });
    expect((again.twice as (n: number) => number)(2)).toBe(4);
  });
});
