/**
 * The layers of ml-cost-guard, enforced in `npm test` (npm run layers). See docs/architecture.md.
 *   core     -> nothing outside core (pure: no SDK, no clock, no network)
 *   shared   -> core
 *   adapters -> core, shared
 *   runtime  -> core, shared, adapters
 *   services -> core, shared, adapters, runtime
 *   handlers -> services, runtime, shared, core, adapters
 *   cli      -> anything but lib
 *   lib, bin/ml-cost-guard -> lambda/core only (config, names, constants); bin/cost-guard.js launches the CLI
 */
const layer = (name) => `^lambda/${name}/`;
const forbid = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: to });

module.exports = {
  forbidden: [
    forbid(
      'core-is-pure',
      layer('core'),
      { path: '^(lambda/(?!core/)|lib/|bin/)' },
      'core imports nothing outside core',
    ),
    forbid(
      'core-no-runtime-packages',
      layer('core'),
      {
        dependencyTypesNot: ['type-only'],
        path: 'node_modules/(@aws-sdk|@aws-lambda-powertools|@slack/web-api|aws-cdk-lib|constructs)/',
      },
      'core makes no SDK, CDK or Slack client calls (type-only imports are fine)',
    ),
    forbid(
      'shared-uses-core-only',
      layer('shared'),
      { path: '^(lambda/(?!core/|shared/)|lib/|bin/)' },
      'shared -> core',
    ),
    forbid(
      'adapters-use-core-and-shared',
      layer('adapters'),
      { path: '^(lambda/(?!core/|shared/|adapters/)|lib/|bin/)' },
      'adapters -> core and shared',
    ),
    forbid(
      'runtime-below-services',
      layer('runtime'),
      { path: '^(lambda/(services|handlers|cli)/|lib/|bin/)' },
      'runtime -> core, shared, adapters',
    ),
    forbid(
      'services-below-entries',
      layer('services'),
      { path: '^(lambda/(handlers|cli)/|lib/|bin/)' },
      'services -> core, shared, adapters, runtime',
    ),
    forbid(
      'handlers-only-wire',
      layer('handlers'),
      { path: '^(lambda/cli/|lib/|bin/)' },
      'handlers never import the CLI or CDK code',
    ),
    forbid('cli-not-cdk', layer('cli'), { path: '^(lib/|bin/)' }, 'the CLI never imports CDK code'),
    forbid(
      'cdk-uses-core-only',
      '^(lib/|bin/ml-cost-guard)',
      { path: '^lambda/(?!core/)' },
      'CDK code imports only lambda/core (config, names, constants)',
    ),
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'import cycles make the layers meaningless',
      from: { path: '^(lambda|lib|bin)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(lambda|lib|bin|node_modules)/',
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
