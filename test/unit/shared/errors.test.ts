import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../../lambda/core/config';
import { CostGuardError as CoreCostGuardError } from '../../../lambda/core/errors';
import {
  AwsAccessError,
  CostGuardError,
  InvalidEnvironmentError,
  MissingEnvironmentError,
  SlackDeliveryError,
} from '../../../lambda/shared/errors';

describe('Class: CostGuardError', () => {
  it('is the one base, whether imported from core or shared', () => {
    expect(CostGuardError).toBe(CoreCostGuardError);
  });

  it('carries the message, its name and the cause', () => {
    // Prepare
    const cause = new Error('socket hang up');
    // Act
    const error = new CostGuardError('could not read the budget', { cause });
    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CostGuardError');
    expect(error.message).toBe('could not read the budget');
    expect(error.cause).toBe(cause);
  });

  it.each<[string, () => Error]>([
    ['MissingEnvironmentError', () => new MissingEnvironmentError('AWS_REGION', { cause: 'x' })],
    [
      'InvalidEnvironmentError',
      () => new InvalidEnvironmentError('COST_GUARD_CONFIG', 'is not valid JSON', { cause: 'x' }),
    ],
    ['SlackDeliveryError', () => new SlackDeliveryError('Slack refused', 'channel_not_found', { cause: 'x' })],
    ['AwsAccessError', () => new AwsAccessError('no credentials', { cause: 'x' })],
    ['ConfigError', () => new ConfigError('bad config', ['costGuard.x'], { cause: 'x' })],
  ])('%s extends it, says its own name and keeps the cause', (name, make) => {
    const error = make();
    expect(error).toBeInstanceOf(CostGuardError);
    expect(error.name).toBe(name);
    expect(error.cause).toBe('x');
  });
});

/**
 * Every error class under lambda/ extends CostGuardError (directly or through another of ours) and sets `name` to
 * its own class name as a literal (minified bundles rename classes, so `new.target.name` is not used). Read from the
 * source, so a new class is checked without being listed here.
 */
describe('Rule: every error class in lambda/ extends CostGuardError and names itself', () => {
  const root = path.join(__dirname, '../../../lambda');
  const files = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(root, f));
  const classes = new Map<string, { parent: string; file: string; body: string }>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/class (\w+)(?:<[^>{]*>)? extends (\w+)(?:<[^>{]*>)? \{/g)) {
      const end = source.indexOf('\n}', m.index);
      classes.set(m[1]!, { parent: m[2]!, file: path.relative(root, file), body: source.slice(m.index, end) });
    }
    for (const m of source.matchAll(/class (\w+Error)\b(?!(?:<[^>{]*>)? extends)/g)) {
      classes.set(m[1]!, { parent: '(none)', file: path.relative(root, file), body: '' });
    }
  }
  const errorClasses = [...classes.entries()].filter(([name]) => name.endsWith('Error') && name !== 'CostGuardError');

  it('finds the error classes', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(10);
  });

  it.each(errorClasses.map(([name, c]) => [name, c.file] as const))('%s (%s) extends CostGuardError', (name) => {
    const chain: string[] = [name];
    let current = classes.get(name);
    while (current && !chain.includes(current.parent)) {
      chain.push(current.parent);
      if (current.parent === 'CostGuardError') break;
      current = classes.get(current.parent);
    }
    expect(chain.at(-1)).toBe('CostGuardError');
  });

  it.each(errorClasses.map(([name, c]) => [name, c.file] as const))('%s (%s) sets name to its class name', (name) => {
    expect(classes.get(name)!.body).toContain(`this.name = '${name}';`);
  });
});
