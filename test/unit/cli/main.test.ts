import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { main } from '../../../lambda/cli/main';
import { fakeIO } from '../../helpers/cli-io';

function tempDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-cli-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

describe('Function: main', () => {
  it('prints the usage and exits 2 without a command', async () => {
    const io = fakeIO();
    expect(await main([], io)).toBe(2);
    expect(io.stdout()).toContain('Usage: cost-guard <command>');
  });

  it('prints the usage and exits 0 for --help', async () => {
    const io = fakeIO();
    expect(await main(['--help'], io)).toBe(0);
    for (const command of ['estimate', 'plan', 'run', 'restore', 'config']) expect(io.stdout()).toContain(command);
  });

  it('exits 2 naming an unknown command', async () => {
    const io = fakeIO();
    expect(await main(['reap'], io)).toBe(2);
    expect(io.stderr()).toContain("unknown command 'reap'");
  });

  it('suggests the closest command for a mistyped one', async () => {
    const io = fakeIO();
    expect(await main(['paln'], io)).toBe(2);
    expect(io.stderr()).toContain("unknown command 'paln'; did you mean plan?");
  });

  it('exits 2 naming line and column of a malformed cdk.json, and shows the line', async () => {
    // Prepare: a missing comma after "app"
    const cwd = tempDir({ 'cdk.json': '{\n  "app": "x"\n  "context": { "costGuard": {} }\n}\n' });
    const io = fakeIO({ cwd });
    // Act
    const code = await main(['config'], io);
    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain(
      "cdk.json is not valid JSON at line 3, column 3: expected ',' or '}' after property value",
    );
    expect(io.stderr()).toContain('\n      "context": { "costGuard": {} }\n      ^');
  });

  it('exits 2 suggesting the closest key for a mistyped one in the config file', async () => {
    const cwd = tempDir({ 'guard.json': { idelGpu: { action: 'stop' } } });
    const io = fakeIO({ cwd });
    expect(await main(['config', '--config', 'guard.json'], io)).toBe(2);
    expect(io.stderr()).toContain('costGuard.idelGpu: unknown key; did you mean idleGpu?');
  });

  it('prints the config from cdk.json context with defaults filled in', async () => {
    // Prepare
    const cwd = tempDir({ 'cdk.json': { app: 'x', context: { costGuard: { idleGpu: { action: 'terminate' } } } } });
    const io = fakeIO({ cwd });
    // Act
    const code = await main(['config'], io);
    // Assess
    expect(code).toBe(0);
    const printed = JSON.parse(io.stdout().split('\n').slice(1).join('\n'));
    expect(printed.idleGpu.action).toBe('terminate');
    expect(printed.budgets.alertPercent).toBe(80);
  });

  it('reads --config FILE holding the costGuard object itself', async () => {
    const cwd = tempDir({ 'guard.json': { dryRun: false } });
    const io = fakeIO({ cwd });
    expect(await main(['config', '--config', 'guard.json'], io)).toBe(0);
    expect(io.stdout()).toContain('"dryRun": false');
  });

  it('reads --config FILE holding the object under a costGuard key, and still checks what is inside', async () => {
    // Prepare
    const cwd = tempDir({
      'guard.json': { costGuard: { idleGpu: { action: 'terminate' } } },
      'bad.json': { costGuard: { idelGpu: {} } },
    });
    // Act + Assess
    const io = fakeIO({ cwd });
    expect(await main(['config', '--config', 'guard.json', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout()).idleGpu.action).toBe('terminate');
    const bad = fakeIO({ cwd });
    expect(await main(['config', '--config', 'bad.json'], bad)).toBe(2);
    expect(bad.stderr()).toContain('did you mean idleGpu?');
  });

  it('exits 2 with the field, value and range when the config is invalid', async () => {
    const cwd = tempDir({ 'guard.json': { budgets: { alertPercent: 150 } } });
    const io = fakeIO({ cwd });
    expect(await main(['config', '--config', 'guard.json'], io)).toBe(2);
    expect(io.stderr()).toContain('costGuard.budgets.alertPercent: alertPercent must be from 0 to 100 (got 150)');
  });

  it('exits 2 when the config file is missing or not JSON', async () => {
    const cwd = tempDir({ 'bad.json': '{ nope' });
    const missing = fakeIO({ cwd });
    expect(await main(['config', '--config', 'absent.json'], missing)).toBe(2);
    expect(missing.stderr()).toContain('Cannot read config file');
    const bad = fakeIO({ cwd });
    expect(await main(['config', '--config', 'bad.json'], bad)).toBe(2);
    expect(bad.stderr()).toContain('is not valid JSON');
  });

  it('exits 2 on an unknown flag', async () => {
    const io = fakeIO();
    expect(await main(['config', '--nope'], io)).toBe(2);
    expect(io.stderr()).toContain('unknown option --nope');
    const typo = fakeIO();
    expect(await main(['config', '--confg', 'x.json'], typo)).toBe(2);
    expect(typo.stderr()).toContain('cost-guard config: unknown option --confg; did you mean --config?');
  });
});
