// The workers (child processes) inherit this environment. Semi-spaces of up to 64 MB instead of V8's 16 MB: the
// property suites allocate heavily, and fewer scavenges cut the suite's CPU time by a tenth before the worker caches
// of test/jest-runtime.js and test/jest-environment.ts; now by 0-4% in interleaved runs, within the machine's noise.
if (!/--max-semi-space-size/.test(process.env.NODE_OPTIONS ?? '')) {
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, '--max-semi-space-size=64'].filter(Boolean).join(' ');
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/jest-environment.ts',
  runtime: '<rootDir>/test/jest-runtime.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // marked ships ES modules only: compiled to CommonJS for the tests that parse markdown with it.
    '/node_modules/marked/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!marked/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup-matchers.ts'],
  // Both cores: jest's default (cores - 1) runs one worker on a 2-core machine.
  maxWorkers: 2,
  // A worker ends a run holding a heap of 1-2 GB, mostly garbage of earlier test files, and Node takes about 0.3 s to
  // tear such a heap down on an idle core, longer while the other worker still runs. Jest's default of 500 ms then
  // kills a healthy worker and warns of a leak ("A worker process has failed to exit gracefully").
  workerGracefulExitTimeout: 3000,
  testTimeout: 60000,
};
