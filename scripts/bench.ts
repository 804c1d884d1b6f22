/**
 * `npm run bench`: every benchmark, one after the other, each in a fresh node process so peak memory figures do not
 * mix: the reaper over 1,000 and 5,000 simulated GPU instances, the lifecycle run over 500 buckets, the budget guard
 * over 2,000 and 5,000 instances at its action threshold, the right-sizing advice over 1,000 GPU instances with 14 days
 * of hourly metrics, the SageMaker guard over 500 endpoints in a region, the organization fan-out over 200 accounts ×
 * 4 regions × 50 GPU instances (20 units at once), and each Lambda's bundle size and load time. Prints figures;
 * asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const scripts = [
  'bench-reaper.ts',
  'bench-lifecycle.ts',
  'bench-budgets.ts',
  'bench-rightsizing.ts',
  'bench-sagemaker.ts',
  'bench-organization.ts',
  'bench-bundles.ts',
];
let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script} ===`);
  const result = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, script)], {
    stdio: 'inherit',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed > 0 ? 1 : 0;
