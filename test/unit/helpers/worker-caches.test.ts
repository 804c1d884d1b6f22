/**
 * What the test environment and runtime keep for a whole Jest worker: package file texts (shared between test files,
 * never a project file's), and the AsyncLocalStorage instances a test file created (disabled when it is done).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { trackAsyncLocalStorage } from '../../helpers/async-local-storage';

type FileCache = Map<string, string>;
const { LayeredFileCache } = require('../../helpers/layered-file-cache') as {
  LayeredFileCache: new (own: FileCache, shared: FileCache) => FileCache;
};

const PACKAGE = '/repo/node_modules/@aws-sdk/client-ec2/dist-cjs/index.js';
const WINDOWS_PACKAGE = 'C:\\repo\\node_modules\\zod\\index.cjs';
const PROJECT = '/repo/lambda/core/tags.ts';

describe('Class: LayeredFileCache', () => {
  it("gives a later test file the package texts an earlier one read, and never a project file's", () => {
    // Prepare: two test files of one worker
    const shared: FileCache = new Map();
    const first = new LayeredFileCache(new Map([['/repo/test/a.test.ts', 'test a']]), shared);
    first.set(PACKAGE, 'ec2 client');
    first.set(WINDOWS_PACKAGE, 'zod');
    first.set(PROJECT, 'tags v1');
    // Act
    const second = new LayeredFileCache(new Map([['/repo/test/b.test.ts', 'test b']]), shared);
    // Assess
    expect([second.get(PACKAGE), second.get(WINDOWS_PACKAGE)]).toEqual(['ec2 client', 'zod']);
    expect(second.has(PACKAGE)).toBe(true);
    expect(second.get(PROJECT)).toBeUndefined();
    expect(second.has(PROJECT)).toBe(false);
    expect(second.get('/repo/test/a.test.ts')).toBeUndefined();
    expect(second.get('/repo/test/b.test.ts')).toBe('test b');
  });

  it("clears only the test file's own entries (Jest's teardown and resetModules)", () => {
    const shared: FileCache = new Map();
    const own: FileCache = new Map();
    const cache = new LayeredFileCache(own, shared);
    cache.set(PACKAGE, 'ec2 client');
    cache.set(PROJECT, 'tags');
    expect(cache.size).toBe(1);
    // Act
    cache.clear();
    // Assess
    expect(own.size).toBe(0);
    expect(cache.get(PROJECT)).toBeUndefined();
    expect(cache.get(PACKAGE)).toBe('ec2 client');
  });

  it("reads the test file's own entry first (the runner puts the test file's text there)", () => {
    const shared: FileCache = new Map([[PACKAGE, 'shared text']]);
    const cache = new LayeredFileCache(new Map([[PACKAGE, 'own text']]), shared);
    expect(cache.get(PACKAGE)).toBe('own text');
    expect(cache.delete(PACKAGE)).toBe(true);
    expect(cache.get(PACKAGE)).toBe('shared text');
  });
});

describe('Function: trackAsyncLocalStorage', () => {
  /** A module object like `node:async_hooks`, with the real class: the tracker replaces its property. */
  const fakeModule = () => ({ AsyncLocalStorage });

  it('disables the instances created while a collection was open, and only those', () => {
    // Prepare
    const mod = fakeModule();
    const tracker = trackAsyncLocalStorage(mod);
    const before = new mod.AsyncLocalStorage<string>();
    const collection = tracker.collect();
    const during = new mod.AsyncLocalStorage<string>();
    // Act: both hold a store until the collection is disabled
    const seen = before.run('kept', () =>
      during.run('dropped', () => {
        collection.disableAll();
        return [before.getStore(), during.getStore()];
      }),
    );
    // Assess: a disabled instance has no store, even inside its own run
    expect(seen).toEqual(['kept', undefined]);
    expect(during).toBeInstanceOf(AsyncLocalStorage);
  });

  it('records instances in the newest collection only (one test file at a time)', () => {
    const mod = fakeModule();
    const tracker = trackAsyncLocalStorage(mod);
    const first = tracker.collect();
    const a = new mod.AsyncLocalStorage<string>();
    const second = tracker.collect();
    const b = new mod.AsyncLocalStorage<string>();
    a.enterWith('a');
    b.enterWith('b');
    // Act
    first.disableAll();
    // Assess: the first file's instance lost its store, the second's still has its own
    expect(a.getStore()).toBeUndefined();
    expect(b.getStore()).toBe('b');
    second.disableAll();
    expect(b.getStore()).toBeUndefined();
  });

  it('installs once per module object', () => {
    const mod = fakeModule();
    const tracker = trackAsyncLocalStorage(mod);
    const Tracked = mod.AsyncLocalStorage;
    expect(Tracked).not.toBe(AsyncLocalStorage);
    expect(trackAsyncLocalStorage(mod)).toBe(tracker);
    expect(mod.AsyncLocalStorage).toBe(Tracked);
  });
});
