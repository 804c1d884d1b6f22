/**
 * Jest's module runtime (jest-runtime), with the source text of installed packages kept for the whole worker.
 *
 * Jest gives each test file a new runtime and file cache, so a worker read and decoded every package file again for
 * each test file that loaded it: the AWS SDK clients, aws-cdk-lib and zod, over a hundred times per run, a few
 * percent of the suite's CPU time and garbage for the collector. See helpers/layered-file-cache.js.
 *
 * Plain CommonJS: Jest loads `runtime` with Node's `require`, before any transform.
 */
const Runtime = require('jest-runtime').default;
const { LayeredFileCache } = require('./helpers/layered-file-cache');

/** Package file texts, for every test file this worker runs. */
const packageTexts = new Map();

class CostGuardRuntime extends Runtime {
  constructor(config, environment, resolver, transformer, cacheFS, ...rest) {
    super(config, environment, resolver, transformer, new LayeredFileCache(cacheFS, packageTexts), ...rest);
  }
}

module.exports = CostGuardRuntime;
