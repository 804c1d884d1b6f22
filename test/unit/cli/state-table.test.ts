/**
 * A missing or misnamed state table: the CLI names the table, the region and what to do, exits 1 with that one
 * sentence (no stack trace) before reading or changing anything, and `plan` reports the same sentence instead of
 * passing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliCapability } from '../../../lambda/cli/capabilities';
import { main } from '../../../lambda/cli/main';
import { runCommandFor } from '../../../lambda/cli/run';
import type { CapabilityName } from '../../../lambda/runtime/capability';
import type { RunContext, RunSummary } from '../../../lambda/runtime/context';
import { fakeIO } from '../../helpers/cli-io';

const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBClient);
const budgets = mockClient(BudgetsClient);

const notFound = () => Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });

/** The sentence the CLI prints for a missing table. */
const missing = (table: string, region = 'us-east-1') =>
  `State table '${table}' not found in ${region}: deploy the stack in that account and region (cdk deploy), ` +
  'or set state.tableName / pass --state-table NAME to name the deployed table.';

function configDir(config: unknown = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-state-table-'));
  writeFileSync(path.join(dir, 'guard.json'), JSON.stringify(config));
  return dir;
}

beforeEach(() => {
  for (const m of [sts, dynamodb, budgets]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
});

describe('Command: run (state table)', () => {
  it('exits 1 naming the table, the region and what to do, with no stack trace and nothing read', async () => {
    // Prepare: no stack deployed in this region.
    dynamodb.on(DescribeTableCommand).rejects(notFound());
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['run', 'budgets', '--config', 'guard.json'], io);
    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toBe(`cost-guard run: ${missing('ml-cost-guard-state')}`);
    expect(io.stdout()).toBe('');
    expect(budgets.calls()).toHaveLength(0);
  });

  it.each([
    ['state.tableName', { state: { tableName: 'team-state' } }, [], 'team-state'],
    [
      '--state-table (over state.tableName)',
      { state: { tableName: 'team-state' } },
      ['--state-table', 'other'],
      'other',
    ],
  ])('checks and names the table of %s', async (_what, config, flags, table) => {
    // Prepare
    dynamodb.on(DescribeTableCommand).rejects(notFound());
    const io = fakeIO({ cwd: configDir(config), env: { AWS_REGION: 'eu-west-1' } });
    // Act
    const code = await main(['run', 'budgets', '--config', 'guard.json', ...flags], io);
    // Assess
    expect(code).toBe(1);
    expect(dynamodb).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: table });
    expect(io.stderr()).toBe(`cost-guard run: ${missing(table, 'eu-west-1')}`);
  });

  it('uses the table as named, with a warning, when the check itself is refused', async () => {
    // Prepare: the user may not call DescribeTable; the run still goes to the named table, never without one.
    dynamodb
      .on(DescribeTableCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    let seen: string | undefined;
    const probe: CliCapability = {
      name: 'budgets',
      description: 'records the table it was given',
      async run(ctx: RunContext): Promise<RunSummary> {
        seen = ctx.stateTableName;
        return {
          capability: 'budgets',
          dryRun: ctx.dryRun,
          startedAt: ctx.now.toISOString(),
          actions: [],
          monthlySavingsUsd: 0,
          apiCalls: {},
          notes: [],
        };
      },
      formatText: () => 'ok',
    };
    const io = fakeIO({ env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await runCommandFor(new Map<CapabilityName, CliCapability>([['budgets', probe]]))(['budgets'], io);
    // Assess
    expect(code).toBe(0);
    expect(seen).toBe('ml-cost-guard-state');
    expect(io.stderr()).toBe(
      'warning: cannot check the state table ml-cost-guard-state in us-east-1 (AccessDeniedException); using it as named',
    );
  });
});

describe('Command: restore (state table)', () => {
  it('exits 1 with the same sentence', async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).rejects(notFound());
    const io = fakeIO({ cwd: configDir({ state: { tableName: 'typo-state' } }), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['restore', '--config', 'guard.json'], io);
    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toBe(`cost-guard restore: ${missing('typo-state')}`);
  });
});

describe('Command: plan (state table)', () => {
  it('reports the missing table at the top and exits 1 instead of passing', async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).rejects(notFound());
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['plan', '--config', 'guard.json', '--only', 'budgets'], io);
    // Assess
    expect(code).toBe(1);
    expect(io.stdout().split('\n')[2]).toBe(`ERROR: ${missing('ml-cost-guard-state')}`);
    expect(io.stdout()).toContain('== budgets ==');
  });

  it('puts the problem in the JSON report', async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).rejects(notFound());
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(
      ['plan', '--config', 'guard.json', '--only', 'budgets', '--format', 'json', '--state-table', 'x'],
      io,
    );
    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(io.stdout()).problems).toEqual([missing('x')]);
  });

  it('passes when the table exists (control)', async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'ml-cost-guard-state' } });
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['plan', '--config', 'guard.json', '--only', 'budgets', '--format', 'json'], io);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout()).problems).toBeUndefined();
  });
});
