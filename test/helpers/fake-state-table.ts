/**
 * An in-memory DynamoDB table behind aws-sdk-client-mock that honours conditional writes: PutItem, UpdateItem and
 * Query evaluate the ConditionExpression / UpdateExpression they are given (the small subset the state store uses:
 * `attribute_not_exists(a)`, `a = :v`, `a < :v`, `AND`, `OR`, parentheses, `#names`; `SET a = :v, …`), and a failed
 * condition throws ConditionalCheckFailedException with the old item when ALL_OLD is asked for. Each call is atomic,
 * as in DynamoDB, so two runs racing through `Promise.all` see one winner.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
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
  const tokens = expr.match(/attribute_not_exists|attribute_exists|\(|\)|<=|>=|<>|=|<|>|[#:]?[A-Za-z_][A-Za-z0-9_]*/g);
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
  const set = /SET\s+(.+?)(?:\s+REMOVE\s+(.+))?$/.exec(expr);
  if (!set) throw new Error(`unsupported update ${expr}`);
  for (const assignment of set[1]!.split(',')) {
    const [left, right] = assignment.split('=').map((s) => s.trim());
    const attr = left!.startsWith('#') ? names![left!]! : left!;
    item[attr] = values![right!]!;
  }
  for (const attr of set[2]?.split(',').map((s) => s.trim()) ?? []) delete item[attr];
}

export interface FakeStateTable {
  readonly items: Map<string, Item>;
  readonly mock: ReturnType<typeof mockClient>;
  /** Item by pk and sk, as plain values. */
  get(pk: string, sk: string): Record<string, string | number> | undefined;
}

const id = (pk: string, sk: string) => `${pk}\u0000${sk}`;

/** Mocks every DynamoDBClient with an in-memory table. Call `mock.restore()` (or mockClient reset) after the test. */
export function fakeStateTable(): FakeStateTable {
  const items = new Map<string, Item>();
  const mock = mockClient(DynamoDBClient);
  mock.on(PutItemCommand).callsFake(async (input: PutItemCommand['input']) => {
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
  mock.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommand['input']) => {
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
    const item: Item = { ...(old ?? { pk: input.Key!.pk!, sk: input.Key!.sk! }) };
    applyUpdate(item, input.UpdateExpression!, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    items.set(key, item);
    return {};
  });
  mock.on(QueryCommand).callsFake(async (input: QueryCommand['input']) => {
    const pk = input.ExpressionAttributeValues![':pk']!.S!;
    const found = [...items.values()].filter((i) => i.pk!.S === pk).sort((a, b) => a.sk!.S!.localeCompare(b.sk!.S!));
    return { Items: found };
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
