import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DOCS_FILES, renderConfigDocs } from '../../../scripts/config-docs';

const root = path.join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** Fails with the command that fixes it, and the first line that differs. */
function expectUpToDate(file: string, committed: string, fresh: string): void {
  if (committed === fresh) return;
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? b.length : line;
  throw new Error(
    `${file} is out of date with lambda/core/config.ts: run npm run docs:config and commit the result.\n` +
      `First difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  generated: ${b[at] ?? '(end of file)'}`,
  );
}

describe('Function: renderConfigDocs', () => {
  const docs = renderConfigDocs();

  it('matches the committed docs/configuration.md', () => {
    // Prepare
    const committed = read(CONFIG_DOCS_FILES.markdown);

    // Assess
    expectUpToDate(CONFIG_DOCS_FILES.markdown, committed, docs.markdown);
  });

  it('matches the committed docs/config.schema.json', () => {
    // Prepare: the file is Biome-formatted, so compare the JSON it holds, key order included.
    const committed = JSON.stringify(JSON.parse(read(CONFIG_DOCS_FILES.schema)), null, 2);

    // Assess
    expectUpToDate(CONFIG_DOCS_FILES.schema, committed, JSON.stringify(docs.schema, null, 2));
  });

  it('documents every top-level key of the schema', () => {
    // Prepare
    const keys = Object.keys(docs.schema.properties ?? {});

    // Assess
    expect(keys).toEqual(
      expect.arrayContaining(['dryRun', 'regions', 'slack', 'idleGpu', 'storage', 'budgets', 'observability']),
    );
    const markdown = read(CONFIG_DOCS_FILES.markdown);
    const missing = keys.filter((key) => !markdown.includes(`\`${key}\``) && !markdown.includes(`\`${key}.`));
    expect(missing).toEqual([]);
  });

  it('gives every key a description', () => {
    // Prepare
    const undescribed: string[] = [];
    const visit = (node: typeof docs.schema, at: string) => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undescribed.push(`${at}${name}`);
        visit(child, `${at}${name}.`);
        if (child.items) visit(child.items, `${at}${name}[].`);
      }
    };

    // Act
    visit(docs.schema, '');

    // Assess
    expect(undescribed).toEqual([]);
  });

  it('escapes pipes in table cells, so a regular expression does not split its row', () => {
    // Prepare
    const regionRow = docs.markdown.split('\n').find((line) => line.startsWith('| `regions` |'));

    // Assess
    expect(regionRow).toContain('(-gov\\|-iso');
    expect(regionRow?.split(/(?<!\\)\|/)).toHaveLength(7);
  });
});
