import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEndpointCommand, DeleteEndpointCommand } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { markDeletion, recordDeleting } from '../../../lambda/adapters/endpoint-index';
import { CAPABILITIES } from '../../../lambda/cli/capabilities';
import { formatSageMakerText, sageMakerView } from '../../../lambda/cli/format/sagemaker';
import { restoreCommand } from '../../../lambda/cli/restore';
import { restoreEndpoints } from '../../../lambda/services/restore';
import { type SageMakerSummary, sageMakerCapability } from '../../../lambda/services/sagemaker';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW, testContext } from '../../helpers/context';
import {
  addEndpoint,
  emptyWorld,
  type FakeSageMaker,
  type FakeSageMakerWorld,
  installFakeSageMaker,
} from '../../helpers/fake-sagemaker';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const REGION = 'us-east-1';
const stsMock = mockClient(STSClient);
let table: FakeStateTable;
let world: FakeSageMakerWorld;
let fake: FakeSageMaker;

beforeEach(() => {
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  table = fakeStateTable();
  world = emptyWorld();
  fake = installFakeSageMaker(world);
});
afterEach(() => {
  table.mock.restore();
  fake.restore();
});

/** A deletion the guard recorded (before and after its DeleteEndpoint), as a run writes it. */
async function givenDeleted(name: string, tags: Record<string, string> = { team: 'nlp' }) {
  const ddb = new DynamoDBClient({ region: REGION });
  await recordDeleting(ddb, 'state', {
    endpointName: name,
    region: REGION,
    endpointConfigName: `${name}-config`,
    tags,
    reason: 'idle',
    at: '2026-11-10T08:00:00.000Z',
  });
  await markDeletion(ddb, 'state', REGION, name, 'deleted', '2026-11-10T08:00:00.000Z');
}

const configDir = (config: unknown) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sagemaker-cli-'));
  writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify(config));
  return dir;
};

describe('Function: restoreEndpoints', () => {
  it('recreates only the endpoints the records say the guard deleted, from their configs, with their tags', async () => {
    // Prepare: llm was deleted by the guard; "manual" was deleted by a person (config left, no record); "back" was
    // recreated since; "orphan"'s config was deleted since.
    await givenDeleted('llm', { team: 'nlp', 'aws:cloudformation:stack-name': 'x' });
    await givenDeleted('back');
    await givenDeleted('orphan');
    world.configs.set('llm-config', { variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', count: 1 }] });
    world.configs.set('manual-config', { variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', count: 1 }] });
    addEndpoint(world, 'back', { now: TEST_NOW });
    // Act
    const s = await restoreEndpoints(testContext({ stateTableName: 'state' }));
    // Assess
    expect(s.endpoints).toEqual([
      expect.objectContaining({ endpointName: 'llm', endpointConfigName: 'llm-config', status: 'done' }),
    ]);
    expect(fake.sm).toHaveReceivedCommandTimes(CreateEndpointCommand, 1);
    expect(fake.sm).toHaveReceivedCommandWith(CreateEndpointCommand, {
      EndpointName: 'llm',
      EndpointConfigName: 'llm-config',
      Tags: [{ Key: 'team', Value: 'nlp' }],
    });
    expect(s.notRecreated.map((r) => [r.endpointName, r.reason])).toEqual([
      ['back', expect.stringContaining('exists now')],
      ['orphan', expect.stringContaining('no longer exists')],
    ]);
    expect(world.endpoints.has('manual')).toBe(false);
  });

  it('recreates nothing without a state table, and says why', async () => {
    world.configs.set('llm-config', { variants: [] });
    const s = await restoreEndpoints(testContext());
    expect(s.endpoints).toEqual([]);
    expect(s.notes[0]).toMatch(/^No state table/);
    expect(fake.sm).not.toHaveReceivedCommand(CreateEndpointCommand);
  });
});

describe('Command: cost-guard restore --sagemaker', () => {
  it('recreates the endpoint, records it, and a second restore recreates nothing', async () => {
    // Prepare
    await givenDeleted('llm');
    world.configs.set('llm-config', { variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', count: 1 }] });
    const io = fakeIO({
      env: { AWS_REGION: REGION },
      cwd: configDir({ dryRun: false, state: { tableName: 'state' } }),
    });
    // Act
    const code = await restoreCommand(['--config', 'cost-guard.json', '--sagemaker'], io);
    // Assess
    expect(code).toBe(0);
    expect(io.stdout()).toContain('recreated llm us-east-1 from config llm-config');
    expect(world.endpoints.get('llm')?.status).toBe('Creating');
    expect(table.get('sagemaker-deleted#us-east-1', 'llm')?.state).toBe('restored');
    const ledger = [...table.items.values()].filter((i) => i.pk?.S?.startsWith('ledger#'));
    expect(ledger.map((i) => `${i.capability?.S}:${i.kind?.S}:${i.target?.S}`)).toEqual([
      'restore:create-endpoint:llm',
    ]);
    // Act: again (the endpoint exists now, and the record says restored)
    const again = fakeIO({ env: { AWS_REGION: REGION }, cwd: io.cwd });
    await restoreCommand(['--config', 'cost-guard.json', '--sagemaker'], again);
    expect(fake.sm).toHaveReceivedCommandTimes(CreateEndpointCommand, 1);
  });

  it('with --dry-run lists what it would recreate and creates nothing', async () => {
    await givenDeleted('llm');
    world.configs.set('llm-config', { variants: [] });
    const io = fakeIO({
      env: { AWS_REGION: REGION },
      cwd: configDir({ dryRun: false, state: { tableName: 'state' } }),
    });
    expect(await restoreCommand(['--config', 'cost-guard.json', '--sagemaker', '--dry-run'], io)).toBe(0);
    expect(io.stdout()).toContain('would recreate llm');
    expect(fake.sm).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  it('refuses --budget with --sagemaker', async () => {
    const io = fakeIO({ env: { AWS_REGION: REGION } });
    await expect(restoreCommand(['--sagemaker', '--budget', 'x'], io)).rejects.toThrow(
      /--sagemaker recreates endpoints only/,
    );
  });
});

describe('CLI: the sagemaker capability in run and plan', () => {
  const run = async (): Promise<SageMakerSummary> => {
    addEndpoint(world, 'idle', { now: TEST_NOW, tags: { owner: 'alice' } });
    addEndpoint(world, 'busy', { now: TEST_NOW, invocations: { AllTraffic: [2] } });
    world.notebooks.set('nb', {
      name: 'nb',
      instanceType: 'ml.g5.2xlarge',
      status: 'InService',
      creationTime: new Date(TEST_NOW.getTime() - 500 * 3_600_000),
      lastModifiedTime: new Date(TEST_NOW.getTime() - 50 * 3_600_000),
      tags: {},
    });
    return sageMakerCapability.run(
      testContext({ config: { sagemaker: { action: 'delete' } }, stateTableName: 'state' }),
    );
  };

  it('is registered for `cost-guard run sagemaker` and `plan`, with a plan view', () => {
    const cap = CAPABILITIES.get('sagemaker');
    expect(cap?.name).toBe('sagemaker');
    expect(cap?.planView).toBeDefined();
  });

  it('shows each idle endpoint with its decision and dollars, and the rest counted', async () => {
    const s = await run();
    const view = sageMakerView(s);
    expect(view.rows.map((r) => r.cells[0])).toEqual(['endpoint idle']);
    expect(view.rows[0]!.cells[3]).toBe('report only');
    expect(view.subtotal.monthlyUsd).toBeCloseTo(s.resources.find((r) => r.name === 'idle')!.monthlySavingsUsd!, 2);
    const counted = view.counted[0]!.groups.map((g) => g.label);
    expect(counted).toEqual(expect.arrayContaining(['invoked in the window', 'GPU notebook instances reported']));
    const text = formatSageMakerText(s, { width: 160 });
    expect(text).toContain('SageMaker guard: action delete, regions us-east-1');
    expect(text).toContain('1 GPU notebook instance(s)');
    expect(text).toContain('Prices: ml.* prices: embedded price catalog of');
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });
});
