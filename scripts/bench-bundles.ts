/**
 * Bundle size and cold load time of every Lambda handler: bundles each entry of lambda/handlers (the Lambdas only;
 * restore is a CLI command) with esbuild as the stack does (lib/constructs/cost-guard-function.ts: minified CommonJS
 * for the nodejs24.x runtime, AWS SDK external, as the runtime provides it), then times a fresh `node` requiring it
 * (the local Node, which may be older than the runtime), median of several runs. Prints figures; asserts nothing.
 * Targets: < 1.5 MB, < 300 ms.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'bench-out');
const RUNS = Number(process.env.BENCH_LOAD_RUNS ?? 5);
/** The esbuild target of the stack's functions (NODEJS_24_X). */
const TARGET = 'node24';

mkdirSync(OUT, { recursive: true });
const handlers = readdirSync(path.join(ROOT, 'lambda', 'handlers')).filter((f) => f.endsWith('.ts'));
const rows: string[][] = [['handler', 'bundle', 'load (median)', 'target']];
for (const file of handlers) {
  const outfile = path.join(OUT, file.replace(/\.ts$/, '.js'));
  buildSync({
    entryPoints: [path.join(ROOT, 'lambda', 'handlers', file)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    external: ['@aws-sdk/*'],
    logLevel: 'error',
  });
  const bytes = statSync(outfile).size;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    times.push(
      Number(
        execFileSync(process.execPath, ['-e', script], {
          cwd: ROOT,
          env: { ...process.env, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        }).toString(),
      ),
    );
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const ok = bytes < 1.5 * 1024 * 1024 && median < 300;
  rows.push([file, `${(bytes / 1024).toFixed(1)} KB`, `${median.toFixed(1)} ms`, ok ? 'ok' : 'OVER']);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(
  `Lambda bundles (esbuild ${TARGET}, minified, AWS SDK external; load = fresh node ${process.version} require, median of ${RUNS} runs)`,
);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
