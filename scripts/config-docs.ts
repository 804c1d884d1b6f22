/**
 * The configuration reference, generated from the one config schema (lambda/core/config.ts): a Markdown page with a
 * table per section (docs/configuration.md) and a JSON Schema for editors (docs/config.schema.json).
 *
 * Pure: renders strings and objects, writes nothing. scripts/gen-config-docs.ts writes the files, and
 * test/unit/docs/config-reference.test.ts checks that the committed files equal what this renders.
 */
import { z } from 'zod';
import { costGuardConfigSchema } from '../lambda/core/config';

/** Where the generated files live, relative to the repository root. */
export const CONFIG_DOCS_FILES = {
  markdown: 'docs/configuration.md',
  schema: 'docs/config.schema.json',
} as const;

/** A JSON Schema node, as far as the renderer reads it. */
export interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly [key: string]: unknown;
}

export interface ConfigDocs {
  /** docs/configuration.md */
  readonly markdown: string;
  /** docs/config.schema.json, as an object (the file is this object, formatted by Biome). */
  readonly schema: JsonSchema;
}

/** Pages that explain a section in depth. */
const SECTION_PAGES: Readonly<Record<string, string>> = {
  slack: 'the [README](../README.md#slack-app-and-token) (setting up the Slack app)',
  tags: '[reaper.md](reaper.md) and [budget-guard.md](budget-guard.md)',
  idleGpu: '[reaper.md](reaper.md)',
  storage: '[storage-lifecycle.md](storage-lifecycle.md)',
  budgets: '[budget-guard.md](budget-guard.md)',
  sagemaker: '[sagemaker.md](sagemaker.md)',
  pricing: '[architecture.md](architecture.md#the-savings-model)',
  observability: '[monitoring.md](monitoring.md)',
};

/** Defaults longer than this are shown in a block below the table. */
const MAX_INLINE_DEFAULT = 40;

/** The JSON Schema of the `costGuard` object (input side: every key with a default is optional). */
export function configJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(costGuardConfigSchema, { io: 'input', target: 'draft-7' }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'ml-cost-guard configuration',
    description:
      'The costGuard object: cdk.json context "costGuard", or the file given to cost-guard --config. ' +
      'Generated from lambda/core/config.ts by npm run docs:config.',
    ...rest,
  };
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

interface LongDefault {
  readonly key: string;
  readonly value: unknown;
}

const code = (text: string) => `\`${text}\``;
const json = (value: unknown) => JSON.stringify(value);

/** A table cell: one line, pipes escaped (GitHub splits cells on `|`, even inside code spans). */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function isSection(s: JsonSchema): boolean {
  return s.type === 'object' && s.properties !== undefined;
}

function consts(s: JsonSchema): unknown[] | undefined {
  const anyOf = s.anyOf;
  if (!anyOf?.every((a) => 'const' in a)) return undefined;
  return anyOf.map((a) => a.const);
}

function typeOf(s: JsonSchema): string {
  const literals = consts(s);
  if (literals) {
    return literals.every((v) => Number.isInteger(v)) ? 'integer' : typeof literals[0];
  }
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') {
    return `object (${s.propertyNames ? typeOf(s.propertyNames) : 'string'} → ${typeOf(s.additionalProperties)})`;
  }
  return s.type ?? 'any';
}

/** The constraints JSON Schema states about a value, in words. */
function constraints(s: JsonSchema): string[] {
  const out: string[] = [];
  const literals = consts(s);
  if (literals) out.push(`one of ${literals.map((v) => code(json(v))).join(', ')}`);
  if (s.enum) out.push(s.enum.map((v) => code(String(v))).join(', '));
  const low =
    s.exclusiveMinimum !== undefined
      ? { n: s.exclusiveMinimum, open: true }
      : s.minimum !== undefined
        ? { n: s.minimum, open: false }
        : undefined;
  const high =
    s.exclusiveMaximum !== undefined
      ? { n: s.exclusiveMaximum, open: true }
      : s.maximum !== undefined
        ? { n: s.maximum, open: false }
        : undefined;
  if (low && high && !low.open && !high.open) out.push(`${low.n} to ${high.n}`);
  else {
    if (low) out.push(`${low.open ? '>' : '≥'} ${low.n}`);
    if (high) out.push(`${high.open ? '<' : '≤'} ${high.n}`);
  }
  if (s.minLength !== undefined && s.maxLength !== undefined) out.push(`${s.minLength} to ${s.maxLength} characters`);
  else if (s.minLength !== undefined && s.minLength > 0) out.push(`at least ${s.minLength} character(s)`);
  else if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.format === 'email') out.push('an e-mail address');
  else if (s.format === 'uri') out.push('a URL');
  else if (s.pattern !== undefined) out.push(`matches ${code(s.pattern)}`);
  return out;
}

function allowedOf(s: JsonSchema): string {
  const parts = constraints(s);
  if (s.type === 'array' && s.items && !isSection(s.items)) {
    const item = constraints(s.items);
    if (item.length > 0) parts.push(`each ${item.join(', ')}`);
  }
  if (s.type === 'object' && typeof s.additionalProperties === 'object') {
    const keys = s.propertyNames ? constraints(s.propertyNames) : [];
    const values = constraints(s.additionalProperties);
    if (keys.length > 0) parts.push(`keys: ${keys.join(', ')}`);
    if (values.length > 0) parts.push(`values: ${values.join(', ')}`);
  }
  return parts.join('; ');
}

function defaultOf(s: JsonSchema, required: boolean, key: string, longDefaults: LongDefault[]): string {
  if (!('default' in s)) return required ? 'required' : '—';
  const text = json(s.default);
  if (text.length <= MAX_INLINE_DEFAULT) return code(text);
  longDefaults.push({ key, value: s.default });
  return 'see below';
}

/** Rows for the properties of an object schema, nested objects and arrays of objects flattened into key paths. */
function rowsOf(s: JsonSchema, prefix: string, longDefaults: LongDefault[]): Row[] {
  const rows: Row[] = [];
  const required = new Set(s.required ?? []);
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const key = `${prefix}${name}`;
    rows.push({
      key,
      type: isSection(prop)
        ? 'object'
        : prop.type === 'array' && prop.items && isSection(prop.items)
          ? 'array of objects'
          : typeOf(prop),
      default: isSection(prop) ? '—' : defaultOf(prop, required.has(name), key, longDefaults),
      allowed: allowedOf(prop),
      description: prop.description ?? '',
    });
    if (isSection(prop)) rows.push(...rowsOf(prop, `${key}.`, longDefaults));
    else if (prop.type === 'array' && prop.items && isSection(prop.items)) {
      rows.push(...rowsOf(prop.items, `${key}[].`, longDefaults));
    }
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| Key | Type | Default | Allowed | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${[code(r.key), r.type, r.default, r.allowed || '—', r.description].map(cell).join(' | ')} |`,
    ),
  ];
  return lines.join('\n');
}

function longDefaultBlocks(longDefaults: readonly LongDefault[]): string[] {
  return longDefaults.flatMap((d) => [
    `Default of ${code(d.key)}:`,
    ['```json', JSON.stringify(d.value, null, 2), '```'].join('\n'),
  ]);
}

/** The configuration reference page, one table per section. */
export function renderConfigMarkdown(schema: JsonSchema): string {
  const props = Object.entries(schema.properties ?? {});
  const topLevel = Object.fromEntries(props.filter(([, p]) => !isSection(p)));
  const sections = props.filter(([, p]) => isSection(p));

  const blocks: string[] = [
    '# Configuration reference',
    '<!-- Generated from lambda/core/config.ts by scripts/gen-config-docs.ts. Do not edit: run `npm run docs:config`. -->',
    [
      'Every setting lives in one object, `costGuard`: in `cdk.json` context for `cdk synth` and the CLI, or in the',
      'file given to `cost-guard --config FILE`. One schema ([`lambda/core/config.ts`](../lambda/core/config.ts))',
      'validates it for `cdk synth`, the CLI and every Lambda. Every key has a default, so `{}` is a valid',
      'configuration; a bad value fails with the field, the value and what is allowed.',
      '`npx cost-guard config` prints the validated configuration with every default filled in.',
    ].join('\n'),
    [
      'Besides the ranges below, the schema checks: schedules are valid EventBridge Scheduler expressions;',
      '`budgets.alertPercent` is below `budgets.actionPercent`; budget names are unique; `storage.buckets` lists at',
      'least one bucket when `storage.selectByTag` is false; and `storage.rules` pass the checks S3 applies',
      '(see [storage-lifecycle.md](storage-lifecycle.md#constraints-checked-before-anything-is-sent)). An unknown key',
      'is an error that names the closest valid key (`costGuard.idelGpu: unknown key; did you mean idleGpu?`).',
    ].join('\n'),
    [
      'A schedule is `rate(N unit)` (N at least 1; `minute`, `hour` or `day` for 1, the plural above 1) or',
      '`cron(minutes hours day-of-month month day-of-week year)`: minutes 0-59, hours 0-23, day-of-month 1-31, month',
      '1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday), year 1970-2199; `*`, `a-b`, `a/n` or `*/n`, and',
      'lists; exactly one of day-of-month and day-of-week is `?`; `L` and `nW` only in day-of-month, `L`, `nL` and',
      '`n#k` (k 1-5) only in day-of-week, each alone; and the day must occur in the months given (no 30 FEB). A bad',
      "one fails synth naming the field and its range: `invalid schedule 'cron(0 25 * * ? *)': hours field '25'",
      'must be 0-23`.',
    ].join('\n'),
    'The same schema as JSON Schema, for editors: [`config.schema.json`](config.schema.json).',
  ];

  const longTop: LongDefault[] = [];
  blocks.push('## Top level', table(rowsOf({ properties: topLevel }, '', longTop)), ...longDefaultBlocks(longTop));

  for (const [name, section] of sections) {
    const longDefaults: LongDefault[] = [];
    const intro = [section.description, SECTION_PAGES[name] ? `More in ${SECTION_PAGES[name]}.` : undefined]
      .filter((t): t is string => Boolean(t))
      .join(' ');
    blocks.push(`## ${code(name)}`);
    if (intro) blocks.push(intro);
    blocks.push(table(rowsOf(section, `${name}.`, longDefaults)), ...longDefaultBlocks(longDefaults));
  }
  return `${blocks.join('\n\n')}\n`;
}

/** Both generated files' contents. */
export function renderConfigDocs(): ConfigDocs {
  const schema = configJsonSchema();
  return { markdown: renderConfigMarkdown(schema), schema };
}
