/**
 * The contract between the guard's Slack messages and its interactivity endpoint: which buttons exist, what their
 * `action_id`s are, and what a button's `value` carries. The message builders (reaper warnings, budget alerts) put
 * buttons in with `actionButtons`; the endpoint reads a press back with `decodeAction`. Pure.
 *
 * A button's value is compact JSON (`{"v":1,"kind":"keep","instanceId":"i-…","region":"us-east-1","hours":4}`)
 * of at most 2,000 characters (Slack's limit). The endpoint treats it as a request, never as evidence: it comes in a
 * request Slack signed, but any app holding the bot token could have posted the message, so the value is checked
 * strictly here (known fields only, instance id, region, hours within `slack.maxKeepHours`) and every fact it names
 * (the instance runs, the guard stopped it, the configured action) is read again from AWS before anything changes.
 */
import type { ActionsBlock, Button, ContextBlock } from '@slack/types';
import { CostGuardError } from './errors';
import { AWS_REGION_CODE } from './regions';

/** The `action_id` of each kind of button. Keep buttons add `.<hours>` so the ids within one block stay unique. */
export const ACTION_IDS = Object.freeze({
  keep: 'cost-guard.keep',
  'act-now': 'cost-guard.act-now',
  restore: 'cost-guard.restore',
  'keep-running': 'cost-guard.keep-running',
} as const);

export type ActionKind = keyof typeof ACTION_IDS;

/** The instance an action is about. */
export interface ActionTarget {
  readonly instanceId: string;
  readonly region: string;
}

/** Keep the instance out of the reaper's (and the budget guard's) hands for `hours`, capped by maxKeepHours. */
export interface KeepAction extends ActionTarget {
  readonly kind: 'keep';
  readonly hours: number;
}

/** Do now what the warning announced, through the same checks as a scheduled reaper run. */
export interface ActNowAction extends ActionTarget {
  readonly kind: 'act-now';
  /** The action the button's label promised: the endpoint refuses when the configured action differs now. */
  readonly action: 'stop' | 'terminate';
}

/** Start an instance the budget guard stopped for `budget` (only when the stop index says the guard stopped it). */
export interface RestoreAction extends ActionTarget {
  readonly kind: 'restore';
  readonly budget: string;
}

/** Keep an instance listed to be stopped next for `budget` running: a keep of `hours` the budget guard honours. */
export interface KeepRunningAction extends ActionTarget {
  readonly kind: 'keep-running';
  readonly budget: string;
  readonly hours: number;
}

export type ActionValue = KeepAction | ActNowAction | RestoreAction | KeepRunningAction;

/** What a button carries before it is encoded: an ActionValue without its target. */
export type ButtonSpec =
  | Omit<KeepAction, keyof ActionTarget>
  | Omit<ActNowAction, keyof ActionTarget>
  | Omit<RestoreAction, keyof ActionTarget>
  | Omit<KeepRunningAction, keyof ActionTarget>;

/** Slack's limits: a button value, an action_id and a block_id, elements in one actions block. */
export const MAX_BUTTON_VALUE = 2000;
export const MAX_ACTION_ID = 255;
export const MAX_ELEMENTS_PER_ACTIONS_BLOCK = 25;

/** EC2 instance ids: `i-` and 8 (old) or 17 hex digits. */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;
/** AWS Budgets names: 1-100 characters, no `:` or `\`. */
const BUDGET_NAME_PATTERN = /^[^:\\]{1,100}$/;

/** Encoding version: a value with another version is refused, so an old message cannot be misread. */
const VERSION = 1;

/** A button value, action id or block id that is not one the guard wrote, or one out of the configured bounds. */
export class ActionValueError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActionValueError';
  }
}

const FIELDS: Readonly<Record<ActionKind, readonly string[]>> = {
  keep: ['v', 'kind', 'instanceId', 'region', 'hours'],
  'act-now': ['v', 'kind', 'instanceId', 'region', 'action'],
  restore: ['v', 'kind', 'instanceId', 'region', 'budget'],
  'keep-running': ['v', 'kind', 'instanceId', 'region', 'budget', 'hours'],
};

const isKind = (value: unknown): value is ActionKind => typeof value === 'string' && Object.hasOwn(ACTION_IDS, value);

/** The fields of `value` in a fixed order (the encoded text does not depend on how the object was built). */
function ordered(value: ActionValue): Record<string, unknown> {
  const record = value as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { v: VERSION };
  for (const key of FIELDS[value.kind].slice(1)) out[key] = record[key];
  return out;
}

/** The limits a decoded value is checked against (from the `slack` config section). */
export interface ActionLimits {
  readonly maxKeepHours: number;
}

function checkHours(hours: unknown, limits: ActionLimits): number {
  if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 1 || hours > limits.maxKeepHours)
    throw new ActionValueError(
      `keep hours must be a whole number from 1 to ${limits.maxKeepHours} (slack.maxKeepHours), got ${JSON.stringify(hours)}`,
    );
  return hours;
}

function checkText(name: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new ActionValueError(`${name} must be ${what}, got ${JSON.stringify(value)?.slice(0, 120)}`);
  return value;
}

/** Checks every field of a value (from a button, or about to be written into one); returns it typed and frozen. */
export function checkActionValue(raw: unknown, limits: ActionLimits): ActionValue {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ActionValueError('a button value must be a JSON object');
  const record = raw as Record<string, unknown>;
  if (record.v !== VERSION)
    throw new ActionValueError(`unknown button value version ${JSON.stringify(record.v)} (expected ${VERSION})`);
  const kind = record.kind;
  if (!isKind(kind)) throw new ActionValueError(`unknown action kind ${JSON.stringify(kind)?.slice(0, 60)}`);
  const unknown = Object.keys(record).filter((key) => !FIELDS[kind].includes(key));
  if (unknown.length > 0)
    throw new ActionValueError(`unknown field(s) in a ${kind} button value: ${unknown.join(', ').slice(0, 200)}`);
  const target = {
    instanceId: checkText('instanceId', record.instanceId, INSTANCE_ID_PATTERN, 'an EC2 instance id (i-…)'),
    region: checkText('region', record.region, AWS_REGION_CODE, 'an AWS region code'),
  };
  switch (kind) {
    case 'keep':
      return Object.freeze({ kind, ...target, hours: checkHours(record.hours, limits) });
    case 'act-now': {
      const action = record.action;
      if (action !== 'stop' && action !== 'terminate')
        throw new ActionValueError(`action must be stop or terminate, got ${JSON.stringify(action)?.slice(0, 60)}`);
      return Object.freeze({ kind, ...target, action });
    }
    case 'restore':
      return Object.freeze({
        kind,
        ...target,
        budget: checkText('budget', record.budget, BUDGET_NAME_PATTERN, 'a budget name'),
      });
    case 'keep-running':
      return Object.freeze({
        kind,
        ...target,
        budget: checkText('budget', record.budget, BUDGET_NAME_PATTERN, 'a budget name'),
        hours: checkHours(record.hours, limits),
      });
  }
}

/** A button's value: compact JSON, checked first (a value the endpoint would refuse is never written). */
export function encodeActionValue(value: ActionValue, limits: ActionLimits): string {
  const text = JSON.stringify(ordered(checkActionValue({ ...value, v: VERSION }, limits)));
  if (text.length > MAX_BUTTON_VALUE)
    throw new ActionValueError(`a button value has at most ${MAX_BUTTON_VALUE} characters (got ${text.length})`);
  return text;
}

/** A button's value back: strict (see checkActionValue); anything else is an ActionValueError. */
export function decodeActionValue(text: unknown, limits: ActionLimits): ActionValue {
  if (typeof text !== 'string') throw new ActionValueError('a button value must be a string');
  if (text.length > MAX_BUTTON_VALUE)
    throw new ActionValueError(`a button value has at most ${MAX_BUTTON_VALUE} characters (got ${text.length})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ActionValueError('a button value must be JSON', { cause });
  }
  return checkActionValue(parsed, limits);
}

/** The `action_id` of a button: `cost-guard.keep.4` for a 4-hour keep, the kind's id for the others. */
export function actionIdOf(spec: ButtonSpec): string {
  return spec.kind === 'keep' ? `${ACTION_IDS.keep}.${spec.hours}` : ACTION_IDS[spec.kind];
}

/** The kind an action_id names, or undefined when it is not one of the guard's buttons. */
export function actionKindOf(actionId: unknown): ActionKind | undefined {
  if (typeof actionId !== 'string') return undefined;
  if (/^cost-guard\.keep\.\d{1,4}$/.test(actionId)) return 'keep';
  for (const [kind, id] of Object.entries(ACTION_IDS))
    if (kind !== 'keep' && actionId === id) return kind as ActionKind;
  return undefined;
}

/** A pressed button: its action_id and value, checked together (a keep value under a stop id is refused). */
export function decodeAction(actionId: unknown, value: unknown, limits: ActionLimits): ActionValue {
  const kind = actionKindOf(actionId);
  if (!kind) throw new ActionValueError(`unknown action_id ${JSON.stringify(actionId)?.slice(0, 80)}`);
  const decoded = decodeActionValue(value, limits);
  if (decoded.kind !== kind || actionIdOf(decoded) !== actionId)
    throw new ActionValueError(`action_id ${actionId} does not match its value (${decoded.kind})`);
  return decoded;
}

/** "4 h", "1 day", "3 days", "1 week", "2 weeks": how a keep length reads on a button and in a message. */
export function keepLengthText(hours: number): string {
  if (hours % 168 === 0) return hours === 168 ? '1 week' : `${hours / 168} weeks`;
  if (hours % 24 === 0) return hours === 24 ? '1 day' : `${hours / 24} days`;
  return `${hours} h`;
}

/** The label of a button (plain_text, at most 75 characters). */
export function buttonLabel(spec: ButtonSpec): string {
  switch (spec.kind) {
    case 'keep':
      return `Keep ${keepLengthText(spec.hours)}`;
    case 'act-now':
      return spec.action === 'terminate' ? 'Terminate now' : 'Stop now';
    case 'restore':
      return 'Restore';
    case 'keep-running':
      return 'Keep this one running';
  }
}

/** The block_id prefix of an instance's buttons; `replaceActionBlocks` finds them by it. */
export function actionBlockId(instanceId: string, part = 0): string {
  return part === 0 ? `cost-guard.actions.${instanceId}` : `cost-guard.actions.${instanceId}.${part}`;
}

const CONFIRM_TEXT: Record<'stop' | 'terminate', string> = {
  stop: 'The instance is stopped now (its instance-store data is lost; EBS volumes stay). The guard checks again that it is idle, not opted out and not protected before it acts.',
  terminate:
    'The instance is terminated now: its instance-store and any volume deleted on termination are gone. The guard checks again that it is idle, not opted out and not protected before it acts.',
};

function button(target: ActionTarget, spec: ButtonSpec, limits: ActionLimits): Button {
  const value = encodeActionValue({ ...spec, ...target } as ActionValue, limits);
  const b: Button = {
    type: 'button',
    action_id: actionIdOf(spec),
    text: { type: 'plain_text', text: buttonLabel(spec) },
    value,
  };
  if (spec.kind === 'act-now')
    return {
      ...b,
      style: 'danger',
      confirm: {
        title: { type: 'plain_text', text: spec.action === 'terminate' ? 'Terminate now?' : 'Stop now?' },
        text: { type: 'plain_text', text: CONFIRM_TEXT[spec.action] },
        confirm: { type: 'plain_text', text: spec.action === 'terminate' ? 'Terminate' : 'Stop' },
        deny: { type: 'plain_text', text: 'Cancel' },
        style: 'danger',
      },
    };
  if (spec.kind === 'restore') return { ...b, style: 'primary' };
  return b;
}

/**
 * The actions block(s) of one instance's buttons: at most 25 buttons a block (Slack's limit), block ids from
 * `actionBlockId`. Every value is checked as the endpoint will check it, so a keep of more than maxKeepHours is an
 * ActionValueError here, not a button that fails when pressed. Duplicate buttons (same action_id) are dropped.
 */
export function actionButtons(
  target: ActionTarget,
  specs: readonly ButtonSpec[],
  limits: ActionLimits,
): ActionsBlock[] {
  const seen = new Set<string>();
  const buttons: Button[] = [];
  for (const spec of specs) {
    const id = actionIdOf(spec);
    if (seen.has(id)) continue;
    seen.add(id);
    buttons.push(button(target, spec, limits));
  }
  const blocks: ActionsBlock[] = [];
  for (let i = 0; i < buttons.length; i += MAX_ELEMENTS_PER_ACTIONS_BLOCK)
    blocks.push({
      type: 'actions',
      block_id: actionBlockId(target.instanceId, blocks.length),
      elements: buttons.slice(i, i + MAX_ELEMENTS_PER_ACTIONS_BLOCK),
    });
  return blocks;
}

/** The buttons of a reaper warning: a keep per configured length (within the cap), then "Stop/Terminate now". */
export function reaperWarningButtons(
  target: ActionTarget,
  options: {
    readonly action: 'stop' | 'terminate' | 'notify';
    readonly keepHours: readonly number[];
    readonly maxKeepHours: number;
  },
): ActionsBlock[] {
  const specs: ButtonSpec[] = options.keepHours
    .filter((hours) => Number.isInteger(hours) && hours >= 1 && hours <= options.maxKeepHours)
    .map((hours) => ({ kind: 'keep', hours }));
  if (options.action !== 'notify') specs.push({ kind: 'act-now', action: options.action });
  return actionButtons(target, specs, { maxKeepHours: options.maxKeepHours });
}

/** Does this block hold buttons of `instanceId` (as `actionButtons` wrote them)? */
export function isActionBlockOf(block: { readonly type: string; readonly block_id?: string }, instanceId: string) {
  if (block.type !== 'actions' || typeof block.block_id !== 'string') return false;
  const id = actionBlockId(instanceId);
  return block.block_id === id || block.block_id.startsWith(`${id}.`);
}

/**
 * A message's blocks with the buttons of `instanceId` replaced by `replacement` (a context line such as "kept until
 * 14:00 UTC by @alice"): the first of its actions blocks becomes the line, the others go. Other blocks are kept as
 * they are. Returns undefined when the message has no buttons of that instance (already answered).
 */
export function replaceActionBlocks<B extends { readonly type: string; readonly block_id?: string }>(
  blocks: readonly B[],
  instanceId: string,
  replacement: ContextBlock,
): Array<B | ContextBlock> | undefined {
  let replaced = false;
  const out: Array<B | ContextBlock> = [];
  for (const block of blocks) {
    if (!isActionBlockOf(block, instanceId)) out.push(block);
    else if (!replaced) {
      out.push(replacement);
      replaced = true;
    }
  }
  return replaced ? out : undefined;
}
