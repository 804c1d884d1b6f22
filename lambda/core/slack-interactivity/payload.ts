/**
 * A Slack interactivity request body, after its signature was checked: `payload=<JSON>` form-encoded. Only
 * `block_actions` (a button pressed) is acted on; its fields are checked strictly and everything else is dropped.
 * Pure.
 */
import { CostGuardError } from '../errors';

/** A body that is not an interactivity payload Slack sends (malformed form, JSON or fields). */
export class SlackPayloadError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackPayloadError';
  }
}

/** One pressed button of a block_actions payload. */
export interface PressedAction {
  readonly actionId: string;
  /** The button's value: decoded and checked by core/slack-actions.ts decodeAction. */
  readonly value: string;
  readonly blockId?: string;
  /** Slack's time of the press (seconds.micro, a string): with the user, what makes a press unique. */
  readonly actionTs: string;
}

export interface BlockActions {
  readonly type: 'block_actions';
  readonly teamId: string;
  readonly user: { readonly id: string; readonly name?: string };
  /** Where ephemeral answers go (up to 5 posts within 30 minutes). */
  readonly responseUrl?: string;
  /** The message holding the button: chat.update needs its channel and ts. */
  readonly channelId?: string;
  readonly messageTs?: string;
  /** The message as Slack holds it (its blocks are rewritten to replace an answered instance's buttons). */
  readonly message?: { readonly text?: string; readonly blocks: readonly Record<string, unknown>[] };
  readonly actions: readonly PressedAction[];
}

/** Any other interaction type (a shortcut, a view submission): acknowledged, nothing done. */
export interface OtherInteraction {
  readonly type: string;
  readonly teamId: string;
}

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const TEAM_ID = /^[TE][A-Z0-9]{2,20}$/;
const SLACK_TS = /^\d{1,12}\.\d{1,9}$/;
const CHANNEL_ID = /^[CDG][A-Z0-9]{2,20}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The team of a payload: `team.id`, or `user.team_id` when Slack sends no team object. */
function teamOf(payload: Record<string, unknown>): string | undefined {
  const team = isObject(payload.team) ? text(payload.team.id) : undefined;
  const userTeam = isObject(payload.user) ? text(payload.user.team_id) : undefined;
  return team ?? userTeam;
}

/** Parses a form body `payload=<JSON>`; a SlackPayloadError names what is wrong (never echoing the body). */
export function parseInteraction(rawBody: string): BlockActions | OtherInteraction {
  const form = new URLSearchParams(rawBody);
  const raw = form.get('payload');
  if (raw === null) throw new SlackPayloadError('the body has no payload field');
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch (cause) {
    throw new SlackPayloadError('the payload is not JSON', { cause });
  }
  if (!isObject(payload)) throw new SlackPayloadError('the payload is not a JSON object');
  const type = text(payload.type);
  const teamId = teamOf(payload);
  if (!type) throw new SlackPayloadError('the payload has no type');
  if (!teamId || !TEAM_ID.test(teamId)) throw new SlackPayloadError('the payload names no workspace (team.id)');
  if (type !== 'block_actions') return { type, teamId };

  const user = isObject(payload.user) ? payload.user : undefined;
  const userId = text(user?.id);
  if (!userId || !USER_ID.test(userId)) throw new SlackPayloadError('the payload names no user (user.id)');
  const userName = text(user?.username) ?? text(user?.name);
  const rawActions = Array.isArray(payload.actions) ? payload.actions : [];
  const actions: PressedAction[] = [];
  for (const a of rawActions.slice(0, 25)) {
    if (!isObject(a)) continue;
    const actionId = text(a.action_id);
    const value = text(a.value);
    const actionTs = text(a.action_ts);
    if (!actionId || value === undefined || !actionTs || !SLACK_TS.test(actionTs)) continue;
    const blockId = text(a.block_id);
    actions.push({ actionId, value, actionTs, ...(blockId ? { blockId } : {}) });
  }
  if (actions.length === 0) throw new SlackPayloadError('the payload has no pressed button');

  const container = isObject(payload.container) ? payload.container : {};
  const channel = isObject(payload.channel) ? text(payload.channel.id) : undefined;
  const channelId = text(container.channel_id) ?? channel;
  const messageTs = text(container.message_ts) ?? (isObject(payload.message) ? text(payload.message.ts) : undefined);
  const responseUrl = text(payload.response_url);
  const message = isObject(payload.message) ? payload.message : undefined;
  const blocks = Array.isArray(message?.blocks) ? message.blocks.filter(isObject) : undefined;
  const messageText = text(message?.text);
  return {
    type: 'block_actions',
    teamId,
    user: { id: userId, ...(userName ? { name: userName.slice(0, 80) } : {}) },
    ...(responseUrl ? { responseUrl } : {}),
    ...(channelId && CHANNEL_ID.test(channelId) ? { channelId } : {}),
    ...(messageTs && SLACK_TS.test(messageTs) ? { messageTs } : {}),
    ...(blocks ? { message: { ...(messageText !== undefined ? { text: messageText } : {}), blocks } } : {}),
    actions,
  };
}
