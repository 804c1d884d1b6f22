/**
 * Writes the configuration reference generated from lambda/core/config.ts:
 *   docs/configuration.md     a table per section: key, type, default, allowed values, description
 *   docs/config.schema.json   the JSON Schema of the costGuard object, for editors
 *
 * Run it after changing the schema: `npm run docs:config` (tsx scripts/gen-config-docs.ts). A unit test fails while
 * the committed files differ from what this writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DOCS_FILES, renderConfigDocs } from './config-docs';

const root = path.join(__dirname, '..');

/** Formats JSON the way `biome check` expects it, so `npm test`'s lint passes on the generated file. */
function biomeFormat(text: string, file: string): string {
  const biome = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'biome.cmd' : 'biome');
  const result = spawnSync(biome, ['format', `--stdin-file-path=${file}`], {
    cwd: root,
    input: text,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`biome format ${file} failed: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

function main(): void {
  const { markdown, schema } = renderConfigDocs();
  mkdirSync(path.join(root, 'docs'), { recursive: true });
  writeFileSync(path.join(root, CONFIG_DOCS_FILES.markdown), markdown);
  writeFileSync(
    path.join(root, CONFIG_DOCS_FILES.schema),
    biomeFormat(`${JSON.stringify(schema, null, 2)}\n`, CONFIG_DOCS_FILES.schema),
  );
  process.stdout.write(`wrote ${CONFIG_DOCS_FILES.markdown} and ${CONFIG_DOCS_FILES.schema}\n`);
}

main();
