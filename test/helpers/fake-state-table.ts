/**
 * An in-memory DynamoDB table behind aws-sdk-client-mock that honours conditional writes: PutItem, UpdateItem,
 * DeleteItem, GetItem, BatchWriteItem (every request processed) and Query (by pk) evaluate the ConditionExpression / UpdateExpression they are given (the small subset the state store uses:
 * `attribute_not_exists(a)`, `a = :v`, `a < :v`, `contains(set, :v)`, `NOT`, `AND`, `OR`, parentheses, `#names`;
 * `SET a = :v, …`, `REMOVE a`, `ADD n :num, s :set`), and a failed condition throws ConditionalCheckFailedException
 * with the old item when ALL_OLD is asked for. Each call is atomic,
 * as in DynamoDB, so two runs racing through `Promise.all` see one winner.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

function scalar(v: AttributeValue | undefined): string | number | undefined {
  if (!v) return undefined;
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  return JSON.stringify(v);
}

/** Tokenizes and evaluates a condition expression against `item` (undefined = no item). */
export function evaluateCondition(expr: string, item: Item | undefined, names: Names, values: Values): boolean {
  const tokens = expr.match(
    /attribute_not_exists|attribute_exists|\(|\)|,|<=|>=|<>|=|<|>|[#:]?[A-Za-z_][A-Za-z0-9_]*/g,
  );
  if (!tokens) throw new Error(`cannot parse condition ${expr}`);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++]!;
  const name = (t: string) => (t.startsWith('#') ? (names?.[t] ?? t) : t);
  const operand = (t: string) => (t.startsWith(':') ? scalar(values?.[t]) : scalar(item?.[name(t)]));

  function primary(): boolean {
    const t = next();
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error(`missing ) in ${expr}`);
      return v;
    }
    if (t === 'attribute_not_exists' || t === 'attribute_exists') {
      next(); // (
      const attr = name(next());
      next(); // )
      const exists = item !== undefined && item[attr] !== undefined;
      return t === 'attribute_exists' ? exists : !exists;
    }
    if (t === 'NOT') return !primary();
    if (t === 'contains') {
      next(); // (
      const attrName = name(next()); // (read before `item?.[…]`, which skips its index when there is no item)
      const attr = item?.[attrName];
      next(); // ,
      const needle = values?.[next()]?.S;
      next(); // )
      if (!attr || needle === undefined) return false;
      return attr.SS ? attr.SS.includes(needle) : (attr.S?.includes(needle) ?? false);
    }
    const op = next();
    const left = operand(t);
    const right = operand(next());
    if (left === undefined || right === undefined) return false;
    switch (op) {
      case '=':
        return left === right;
      case '<>':
        return left !== right;
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      case '>':
        return left > right;
      case '>=':
        return left >= right;
      default:
        throw new Error(`unsupported operator ${op} in ${expr}`);
    }
  }
  function and(): boolean {
    let v = primary();
    while (peek() === 'AND') {
      next();
      const r = primary();
      v = v && r;
    }
    return v;
  }
  function or(): boolean {
    let v = and();
    while (peek() === 'OR') {
      next();
      const r = and();
      v = v || r;
    }
    return v;
  }
  const result = or();
  if (pos !== tokens.length) throw new Error(`unparsed rest of condition ${expr}`);
  return result;
}

function applyUpdate(item: Item, expr: string, names: Names, values: Values): void {
  const clauses = [...expr.matchAll(/\b(SET|REMOVE|ADD)\s+(.+?)(?=\s+(?:SET|REMOVE|ADD)\s|$)/g)];
  if (clauses.length === 0) throw new Error(`unsupported update ${expr}`);
  const attrOf = (a: string) => (a.startsWith('#') ? names![a]! : a);
  for (const [, verb, body] of clauses) {
    for (const part of body!.split(',').map((p) => p.trim())) {
      if (verb === 'SET') {
        const [left, right] = part.split('=').map((p) => p.trim());
        item[attrOf(left!)] = values![right!]!;
      } else if (verb === 'REMOVE') {
        delete item[attrOf(part)];
      } else {
        const [left, right] = part.split(/\s+/);
        const attr = attrOf(left!);
        const add = values![right!]!;
        const old = item[attr];
        if (add.N !== undefined) item[attr] = { N: String(Number(old?.N ?? 0) + Number(add.N)) };
        else if (add.SS) item[attr] = { SS: [...new Set([...(old?.SS ?? []), ...add.SS])] };
        else throw new Error(`unsupported ADD value in ${expr}`);
      }
    }
  }
}

export interface FakeStateTable {
  readonly items: Map<string, Item>;
  readonly mock: ReturnType<typeof mockClient>;
  /** Item by pk and sk, as plain values. */
  get(pk: string, sk: string): Record<string, string | number> | undefined;
}

const id = (pk: string, sk: string) => `${pk}\u0000${sk}`;

/**
 * Mocks every DynamoDBClient with an in-memory table. Call `mock.restore()` (or mockClient reset) after the test.
 *
 * One `send` fake picks the handler by the command's class: a `mock.on(Command)` per command would make sinon
 * deep-compare every call with every matcher, which cost the property suites seconds. A test can still override a
 * command with `table.mock.on(Command)…` (sinon answers a matching `on` before this default); any other command is
 * answered `undefined`, as an unconfigured mock answers.
 */
export function fakeStateTable(): FakeStateTable {
  const items = new Map<string, Item>();
  const mock = mockClient(DynamoDBClient);
  const handlers = new Map<unknown, (input: never) => Promise<unknown>>();
  const answer = <I>(command: new (input: I) => { readonly input: I }, handler: (input: I) => Promise<unknown>) =>
    handlers.set(command, handler as (input: never) => Promise<unknown>);
  const dispatch = (command: { readonly constructor: unknown; readonly input: never }) =>
    handlers.get(command.constructor)?.(command.input);
  mock.send.callsFake(dispatch as never);
  answer(PutItemCommand, async (input: PutItemCommand['input']) => {
    const item = input.Item!;
    const key = id(item.pk!.S!, item.sk!.S!);
    const old = items.get(key);
    if (
      input.ConditionExpression &&
      !evaluateCondition(
        input.ConditionExpression,
        old,
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? { Item: { ...old } } : {}),
      });
    }
    items.set(key, { ...item });
    return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
  });
  answer(UpdateItemCommand, async (input: UpdateItemCommand['input']) => {
    const key = id(input.Key!.pk!.S!, input.Key!.sk!.S!);
    const old = items.get(key);
    if (
      input.ConditionExpression &&
      !evaluateCondition(
        input.ConditionExpression,
        old,
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? { Item: { ...old } } : {}),
      });
    }
    const item: Item = { ...(old ?? { pk: input.Key!.pk!, sk: input.Key!.sk! }) };
    applyUpdate(item, input.UpdateExpression!, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    items.set(key, item);
    return {};
  });
  answer(QueryCommand, async (input: QueryCommand['input']) => {
    const pk = input.ExpressionAttributeValues![':pk']!.S!;
    const found = [...items.values()].filter((i) => i.pk!.S === pk).sort((a, b) => a.sk!.S!.localeCompare(b.sk!.S!));
    return { Items: found };
  });
  answer(GetItemCommand, async (input: GetItemCommand['input']) => {
    const item = items.get(id(input.Key!.pk!.S!, input.Key!.sk!.S!));
    return item ? { Item: { ...item } } : {};
  });
  answer(DeleteItemCommand, async (input: DeleteItemCommand['input']) => {
    const key = id(input.Key!.pk!.S!, input.Key!.sk!.S!);
    const old = items.get(key);
    if (
      input.ConditionExpression &&
      !evaluateCondition(
        input.ConditionExpression,
        old,
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    items.delete(key);
    return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
  });
  // The savings ledger writes in batches of 25; every request is processed.
  answer(BatchWriteItemCommand, async (input: BatchWriteItemCommand['input']) => {
    for (const requests of Object.values(input.RequestItems ?? {})) {
      for (const r of requests) {
        if (r.PutRequest?.Item)
          items.set(id(r.PutRequest.Item.pk!.S!, r.PutRequest.Item.sk!.S!), { ...r.PutRequest.Item });
        if (r.DeleteRequest?.Key) items.delete(id(r.DeleteRequest.Key.pk!.S!, r.DeleteRequest.Key.sk!.S!));
      }
    }
    return { UnprocessedItems: {} };
  });
  return {
    items,
    mock,
    get(pk, sk) {
      const item = items.get(id(pk, sk));
      if (!item) return undefined;
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, scalar(v)!]));
    },
  };
}
