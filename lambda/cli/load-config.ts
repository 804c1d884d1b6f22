/**
 * Where the CLI gets its config: `--config FILE` (a JSON file holding the costGuard object, or a cdk.json whose
 * context holds it), else ./cdk.json's context. Validated with the same schema as `cdk synth`.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, type CostGuardConfig, parseConfig } from '../core/config';
import { parseJsonText } from '../core/json-text';
import type { CliIO } from './io';

export interface LoadedConfig {
  readonly config: CostGuardConfig;
  readonly source: string;
}

/**
 * Reads the costGuard object from a file: the object itself, the object under a `costGuard` key, or a cdk.json with
 * `context.costGuard`.
 */
export function readConfigFile(file: string): { raw: unknown; source: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Cannot read config file ${file}: ${(cause as Error).message}`, [], { cause });
  }
  const json = parseJsonText(text, `Config file ${file}`);
  const ctx = (json as { context?: { costGuard?: unknown } } | null)?.context;
  if (ctx && typeof ctx === 'object') return { raw: ctx.costGuard ?? {}, source: `${file} context 'costGuard'` };
  // `{"costGuard": {...}}`: the object under its own name (no config key is called costGuard, so this is unambiguous).
  const wrapped = (json as { costGuard?: unknown } | null)?.costGuard;
  if (wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped)) {
    return { raw: wrapped, source: `${file} 'costGuard'` };
  }
  return { raw: json, source: file };
}

/** Resolves and validates the config given `--config FILE` (or none). */
export function resolveConfig(configFile: string | undefined, io: Pick<CliIO, 'cwd'>): LoadedConfig {
  const file = configFile ? path.resolve(io.cwd, configFile) : path.join(io.cwd, 'cdk.json');
  if (!configFile && !existsSync(file))
    return { config: parseConfig({}, 'defaults'), source: 'defaults (no cdk.json)' };
  const { raw, source } = readConfigFile(file);
  return { config: parseConfig(raw, source), source };
}
