/**
 * Reads the `costGuard` object from CDK context and validates it with the one schema (lambda/core/config.ts).
 * A bad value throws ConfigError, which fails `cdk synth` with the field, the value and what is allowed.
 */
import type { Node } from 'constructs';
import { type CostGuardConfig, parseConfig } from '../lambda/core/config';
import { parseJsonText } from '../lambda/core/json-text';

export const CONFIG_CONTEXT_KEY = 'costGuard';

export function configFromContext(node: Node): CostGuardConfig {
  let raw: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY) ?? {};
  // `cdk synth -c costGuard='{"dryRun":false}'` hands the object over as JSON text.
  if (typeof raw === 'string') raw = parseJsonText(raw, `Context '${CONFIG_CONTEXT_KEY}'`);
  return parseConfig(raw, `cdk context '${CONFIG_CONTEXT_KEY}'`);
}

/**
 * The part of the config a capability's Lambda needs: the shared keys plus its own section. In organization mode
 * `accounts` is shared too (the fan-out's targets, the spoke role's name, the organization-wide limit); in
 * single-account mode it is left out, so the functions' environment stays as it was.
 */
export function configSlice(
  config: CostGuardConfig,
  own: readonly (keyof CostGuardConfig)[],
): Partial<CostGuardConfig> {
  const shared: (keyof CostGuardConfig)[] = ['dryRun', 'regions', 'slack', 'tags', 'pricing'];
  if (config.accounts.mode === 'organization') shared.push('accounts');
  const keys = new Set([...shared, ...own]);
  return Object.fromEntries(Object.entries(config).filter(([k]) => keys.has(k as keyof CostGuardConfig)));
}
