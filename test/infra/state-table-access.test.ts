/**
 * The state table grants follow the code: every DynamoDB command an adapter sends is granted by the use that stands
 * for it (lib/constructs/state-table-access.ts), and no use grants what its adapters do not send (no Scan, PartiQL or
 * table action). A new command, or a new DynamoDB adapter, fails here until the grant says so.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { STATE_TABLE_ACCESS, type StateTableUse } from '../../lib/constructs/state-table-access';
import { sdkCommands } from '../helpers/sdk-commands';

const ADAPTERS = path.join(__dirname, '..', '..', 'lambda', 'adapters');

/** DynamoDB client commands (client-dynamodb and lib-dynamodb names) and the IAM action each needs. */
const COMMAND_ACTIONS: Record<string, string[]> = {
  GetItem: ['dynamodb:GetItem'],
  Get: ['dynamodb:GetItem'],
  PutItem: ['dynamodb:PutItem'],
  Put: ['dynamodb:PutItem'],
  UpdateItem: ['dynamodb:UpdateItem'],
  Update: ['dynamodb:UpdateItem'],
  DeleteItem: ['dynamodb:DeleteItem'],
  Delete: ['dynamodb:DeleteItem'],
  Query: ['dynamodb:Query'],
  Scan: ['dynamodb:Scan'],
  BatchWriteItem: ['dynamodb:BatchWriteItem'],
  BatchWrite: ['dynamodb:BatchWriteItem'],
  BatchGetItem: ['dynamodb:BatchGetItem'],
  BatchGet: ['dynamodb:BatchGetItem'],
  // Transactions are authorized per item action; the adapters would have to say which.
  TransactWriteItems: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  TransactWrite: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  TransactGetItems: ['dynamodb:GetItem'],
  TransactGet: ['dynamodb:GetItem'],
  ExecuteStatement: ['dynamodb:PartiQLSelect', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate'],
};

/** The DynamoDB commands an adapter sends. */
const dynamoCommands = (file: string): string[] =>
  sdkCommands(path.join(ADAPTERS, file), ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);

function actionsOf(file: string): string[] {
  return dynamoCommands(file).flatMap((command) => {
    const actions = COMMAND_ACTIONS[command];
    if (!actions) throw new Error(`${file} sends ${command}Command: add its IAM action to COMMAND_ACTIONS`);
    return actions;
  });
}

/**
 * Each adapter that sends DynamoDB commands, the uses that stand for it in a deployed function, and what it sends
 * only from the CLI (`cost-guard restore` runs with the user's own credentials, so no role needs it).
 */
const ADAPTER_USES: Record<string, { uses: StateTableUse[]; cliOnly?: string[] }> = {
  // readMonth (Query); its writes after a run go through state-table.ts.
  'ledger.ts': { uses: ['ledgerWrite', 'ledgerRead'] },
  // The batch writes of the ledger and the stop index after a run (BatchWriteItem); marking a stop or a deleted
  // endpoint restored (UpdateItem): restore.
  'state-table.ts': { uses: ['ledgerWrite'], cliOnly: ['dynamodb:UpdateItem'] },
  // recordStops after a run (through state-table.ts); guardStops (Query): restore.
  'stop-index.ts': { uses: ['ledgerWrite'], cliOnly: ['dynamodb:Query'] },
  'state-store.ts': { uses: ['state'] },
  // The launch cap's record (GetItem, PutItem): the budget guard, and `cost-guard restore` with the user's credentials.
  'launch-cap-store.ts': { uses: ['state'] },
  // The reaper's warnings and the SageMaker guard's (sagemaker-warnings.ts says only its key and fields).
  'warning-store.ts': { uses: ['warnings'] },
  // Keeps (Query, conditional PutItem) and the Slack endpoint's once-only marks (conditional PutItem).
  'keep-store.ts': { uses: ['state'] },
  'interaction-store.ts': { uses: ['state'] },
  // The SageMaker guard's endpoint index: written before and after each DeleteEndpoint (PutItem, UpdateItem); read
  // (Query) by `restore --sagemaker`.
  'endpoint-index.ts': { uses: ['state'] },
  // Organization mode: each unit's report (PutItem), read by the digest step (Query); every fan-out capability's
  // function in the hub needs them.
  'fan-out-store.ts': { uses: ['state'] },
};

function dynamoAdapters(): string[] {
  return readdirSync(ADAPTERS)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => dynamoCommands(f).length > 0)
    .sort();
}

describe('State table grants (lib/constructs/state-table-access.ts) against the adapters', () => {
  it('finds the commands the adapters send (the scan works)', () => {
    expect(dynamoCommands('state-table.ts')).toEqual(['BatchWriteItem', 'UpdateItem']);
    expect(dynamoCommands('ledger.ts')).toEqual(['Query']);
    expect(dynamoCommands('clients.ts')).toEqual([]);
  });

  it('knows every adapter that sends DynamoDB commands (a new one must say which use grants it)', () => {
    expect(dynamoAdapters()).toEqual(Object.keys(ADAPTER_USES).sort());
  });

  it.each(Object.entries(ADAPTER_USES))('grants every command %s sends in a function', (file, { uses, cliOnly }) => {
    // Prepare
    const granted = new Set<string>(uses.flatMap((use) => STATE_TABLE_ACCESS[use]));
    // Act
    const missing = actionsOf(file).filter((a) => !granted.has(a) && !(cliOnly ?? []).includes(a));
    // Assess
    expect(missing).toEqual([]);
  });

  it.each(Object.keys(STATE_TABLE_ACCESS) as StateTableUse[])(
    'grants through `%s` only what its adapters send',
    (use) => {
      // Prepare: the adapters this use stands for.
      const sent = new Set(
        Object.entries(ADAPTER_USES)
          .filter(([, a]) => a.uses.includes(use))
          .flatMap(([file]) => actionsOf(file)),
      );
      // Act
      const unused = STATE_TABLE_ACCESS[use].filter((a) => !sent.has(a));
      // Assess: Query on state records was asked for with the state-store work of issue 9 (listing records); drop
      // it from STATE_TABLE_ACCESS.state if that work ends without it.
      expect(unused.filter((a) => !(use === 'state' && a === 'dynamodb:Query'))).toEqual([]);
    },
  );

  it('grants no Scan, PartiQL, batch read or table action to any use', () => {
    for (const action of Object.values(STATE_TABLE_ACCESS).flat()) {
      expect(action).toMatch(/^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|Query|BatchWriteItem)$/);
    }
  });
});
