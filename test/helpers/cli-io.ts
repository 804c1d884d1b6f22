/** A CliIO that collects output, for command tests. */
import type { CliIO } from '../../lambda/cli/io';
import { TEST_NOW } from './context';

export function fakeIO(overrides: Partial<CliIO> = {}): CliIO & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
    isTTY: false,
    cwd: process.cwd(),
    now: () => TEST_NOW,
    ...overrides,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}
