import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { activeKeeps } from '../../../lambda/adapters/keep-store';
import { readMonth } from '../../../lambda/adapters/ledger';
import { keepCommand } from '../../../lambda/cli/keep';
import { main } from '../../../lambda/cli/main';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const ec2Mock = mockClient(EC2Client);
const stsMock = mockClient(STSClient);
const A = 'i-0aaaaaaaaaaaaaaa1';
const ARN = 'arn:aws:sts::123456789012:assumed-role/Dev/alice';
let table: FakeStateTable;
let ec2: FakeEc2;

beforeEach(() => {
  ec2Mock.reset();
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: ARN });
  table = fakeStateTable();
  ec2 = new FakeEc2({ instances: [fakeInstance(A)] }).install(ec2Mock);
});
afterEach(() => table.mock.restore());

function io(config: unknown = { dryRun: false, slack: { maxKeepHours: 48, keepHours: [4, 24] } }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'keep-'));
  writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify(config));
  return fakeIO({ cwd: dir, env: { AWS_REGION: 'us-east-1' }, now: () => TEST_NOW });
}

describe('Command: cost-guard keep', () => {
  it('sets the same keep as the Slack button: record, tag, ledger entry naming the caller', async () => {
    // Act
    const t = io();
    const code = await keepCommand([A, '--hours', '8', '--reason', 'eval run', '--config', 'cost-guard.json'], t);
    // Assess
    expect(code).toBe(0);
    expect(t.stdout()).toContain(`kept ${A} (us-east-1) until 2026-11-15T20:00:00Z (8 h): eval run`);
    const keep = (
      await activeKeeps(new DynamoDBClient({ region: 'us-east-1' }), 'ml-cost-guard-state', 'us-east-1', TEST_NOW)
    ).get(A);
    expect(keep).toMatchObject({
      by: ARN,
      byName: 'alice',
      reason: 'eval run',
      source: 'cli',
      until: '2026-11-15T20:00:00Z',
    });
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBe('2026-11-15T20:00:00Z');
    const ledger = await readMonth(new DynamoDBClient({ region: 'us-east-1' }), 'ml-cost-guard-state', '2026-11');
    expect(ledger.find((e) => e.kind === 'keep')?.reason).toContain(ARN);
  });

  it('is a command of the cost-guard CLI', async () => {
    const t = io();
    expect(await main(['keep', A, '--hours', '1', '--config', 'cost-guard.json'], t)).toBe(0);
  });

  it.each([
    [[A, '--hours', '49'], 'from 1 to 48'],
    [[A, '--hours', '0'], 'from 1 to 48'],
    [[A, '--hours', '2.5'], 'from 1 to 48'],
    [[A], '--hours is required'],
    [['i-XYZ', '--hours', '4'], 'not an EC2 instance ID'],
    [[A, '--hours', '4', '--reason', 'x'.repeat(201)], 'at most 200'],
  ])('refuses %j before any AWS call', async (argv, message) => {
    const t = io();
    await expect(keepCommand([...argv, '--config', 'cost-guard.json'], t)).rejects.toThrow(message);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('writes no tag in dry run, and keeps all the same', async () => {
    const t = io();
    expect(await keepCommand([A, '--hours', '4', '--dry-run', '--config', 'cost-guard.json'], t)).toBe(0);
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBeUndefined();
    expect(t.stdout()).toContain('dry run: no tag written');
  });
});
