/**
 * Slack interactivity: a person answers the guard from its message. Two steps, so that Slack gets its answer within
 * 3 seconds and a press is acted on once:
 *
 * 1. {@link receiveSlackRequest} (the function URL, or `cost-guard slack serve`) checks the request and answers at
 *    once: Slack's signature over the raw body (lambda/adapters/slack-signature.ts), a timestamp within 5 minutes,
 *    the configured workspace (`slack.teamId`), and a replay mark in the state table. Unsigned, badly signed or stale
 *    requests get 401, a replay 401, another workspace 403, a malformed payload 400; none changes anything.
 * 2. {@link handleInteraction} does the work afterwards (an asynchronous self-invocation in Lambda, in-process for
 *    `slack serve`): per pressed button a once-only mark (action_ts + user), the button value checked strictly
 *    (lambda/core/slack-actions.ts), the instance read again from EC2, the presser authorized
 *    (lambda/core/slack-interactivity/authorize.ts), then:
 *    - keep / keep this one running: the keep record (state table, capped by slack.maxKeepHours), the keep-until
 *      mirror tag (dry-run honoured), a ledger entry naming who;
 *    - stop now / terminate now: the scheduled reaper's checks (running, guardDecision: GPU type, opt-out, keep,
 *      managed, age, Spot; termination protection; the action configured now equals the button's; the per-period
 *      limit; the reaper's lease), then the ActionRunner (dry-run honoured) and the ledger;
 *    - restore: only when the stop index says the guard stopped it for that budget (core planRestore), then start
 *      and untag the guard's stopped-* tags, as `cost-guard restore` does.
 *    The original message is updated in place (the instance's buttons become "kept until 14:00 UTC by @alice"); a
 *    refusal ("not allowed", "already stopped") goes to the presser alone through `response_url`.
 */
import {
  Ec2Writer,
  InstanceTypeCatalog,
  isTerminationProtected,
  listInstances,
  spotRequestTypes,
} from '../adapters/ec2';
import { markOnce, pressMarkKey, requestMarkKey } from '../adapters/interaction-store';
import { activeKeeps, setKeep } from '../adapters/keep-store';
import { recordActions } from '../adapters/ledger';
import type { SlackInteractivityApi } from '../adapters/slack-interactivity';
import { MAX_REQUEST_AGE_S, type SignedRequest, verifySlackSignature } from '../adapters/slack-signature';
import { DynamoStateStore } from '../adapters/state-store';
import { guardStops } from '../adapters/stop-index';
import { WarningStore } from '../adapters/warning-store';
import { STOPPED_TAG_KEYS } from '../core/budgets/tags';
import type { InstanceFacts } from '../core/instances';
import { type KeepRecord, keepEnd, keepLedgerReason, keptText } from '../core/keeps';
import { checkBeforeAct, guardDecision } from '../core/reaper/decide';
import type { ReaperConfig } from '../core/reaper/types';
import { planRestore } from '../core/restore';
import { actionSavings } from '../core/savings';
import { actionPeriod } from '../core/schedule';
import { type ActionValue, decodeAction, replaceActionBlocks } from '../core/slack-actions';
import { type Authorization, approverGroups, authorize, ownerOf } from '../core/slack-interactivity/authorize';
import {
  type BlockActions,
  type PressedAction,
  parseInteraction,
  SlackPayloadError,
} from '../core/slack-interactivity/payload';
import { ephemeralText, outcomeLine, type PressOutcome } from '../core/slack-interactivity/replies';
import { tagValue } from '../core/tags';
import { ActionLimits, hubKeyScopeOf } from '../runtime/action-limits';
import type { RunContext, RunSummary } from '../runtime/context';
import { RunLeaseHeldError, withRunLeases } from '../runtime/lease';
import { recordRun } from '../runtime/record';
import { ActionRunner } from '../shared/actions';
import { errorCode, errorMessage } from '../shared/errors';

/** Once-only marks (lambda/adapters/interaction-store.ts): the state table, or memory for a table-less local run. */
export interface MarkStore {
  markOnce(key: { readonly pk: string; readonly sk: string }, now: Date): Promise<boolean>;
}

export const dynamoMarks = (client: Parameters<typeof markOnce>[0], tableName: string): MarkStore => ({
  markOnce: (key, now) => markOnce(client, tableName, key, now),
});

/** Marks held in memory (one process: `cost-guard slack serve` without a state table, and tests). */
export function memoryMarks(): MarkStore {
  const seen = new Map<string, number>();
  return {
    async markOnce(key, now) {
      const id = `${key.pk}\u0000${key.sk}`;
      const until = seen.get(id);
      if (until !== undefined && until > now.getTime()) return false;
      seen.set(id, now.getTime() + 10 * 60_000);
      return true;
    },
  };
}

export interface ReceiveOptions {
  /** The app's signing secret; undefined when not filled in yet (then every request is refused). */
  readonly signingSecret: string | undefined;
  /** `slack.teamId`: the one workspace whose requests are accepted. */
  readonly teamId: string | undefined;
  readonly marks: MarkStore;
  readonly now: Date;
}

/** Why a request was refused, for the log (never the signature or the secret). */
export type RefusalReason =
  | 'no-team-configured'
  | 'no-secret'
  | 'unsigned'
  | 'malformed'
  | 'stale'
  | 'bad-signature'
  | 'bad-payload'
  | 'foreign-team'
  | 'replayed';

export type Receipt =
  /** Accepted: answer 200 at once; `interaction` is the work to do (none for interaction types the guard ignores). */
  | { readonly status: 200; readonly interaction?: BlockActions }
  | { readonly status: 400 | 401 | 403; readonly reason: RefusalReason };

const STATUS: Record<RefusalReason, 400 | 401 | 403> = {
  'no-team-configured': 403,
  'no-secret': 401,
  unsigned: 401,
  malformed: 401,
  stale: 401,
  'bad-signature': 401,
  'bad-payload': 400,
  'foreign-team': 403,
  replayed: 401,
};

const refuse = (reason: RefusalReason): Receipt => ({ status: STATUS[reason], reason });

/** Step 1: is this a fresh, signed request from the configured workspace? Changes nothing but the replay mark. */
export async function receiveSlackRequest(request: SignedRequest, o: ReceiveOptions): Promise<Receipt> {
  if (!o.teamId) return refuse('no-team-configured');
  if (!o.signingSecret) return refuse('no-secret');
  const verdict = verifySlackSignature(request, o.signingSecret, o.now);
  if (!verdict.ok) return refuse(verdict.reason);
  let interaction: ReturnType<typeof parseInteraction>;
  try {
    interaction = parseInteraction(request.rawBody);
  } catch (error) {
    if (error instanceof SlackPayloadError) return refuse('bad-payload');
    throw error;
  }
  if (interaction.teamId !== o.teamId) return refuse('foreign-team');
  if (!(await o.marks.markOnce(requestMarkKey(verdict.signature), o.now))) return refuse('replayed');
  return interaction.type === 'block_actions'
    ? { status: 200, interaction: interaction as BlockActions }
    : { status: 200 };
}

/** How long after Slack signed a request its work may still run (its response_url lasts 30 minutes). */
export const MAX_WORK_DELAY_S = 30 * 60;

/**
 * The work step's own check of a request handed over by step 1 (the asynchronous event could come from anyone who
 * may invoke the function): the signature again, the workspace, and at most {@link MAX_WORK_DELAY_S} since Slack
 * signed it. No replay mark: each press is marked once in {@link handleInteraction}.
 */
export function verifyHandedOver(
  request: SignedRequest,
  signingSecret: string | undefined,
  teamId: string | undefined,
  now: Date,
): BlockActions | undefined {
  if (!signingSecret || !teamId) return undefined;
  const stamp = Number(
    Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'x-slack-request-timestamp')?.[1],
  );
  const age = now.getTime() / 1000 - stamp;
  // Never older than the work may be, nor from the future (the first step refused more than 5 minutes ahead).
  if (!Number.isInteger(stamp) || age > MAX_WORK_DELAY_S || age < -MAX_REQUEST_AGE_S) return undefined;
  // The signature is checked at the time Slack signed it: the age rule above replaces the 5-minute window.
  if (!verifySlackSignature(request, signingSecret, new Date(stamp * 1000)).ok) return undefined;
  try {
    const interaction = parseInteraction(request.rawBody);
    return interaction.type === 'block_actions' && interaction.teamId === teamId
      ? (interaction as BlockActions)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One press and what came of it. */
export interface PressReport {
  readonly actionId: string;
  readonly userId: string;
  readonly kind?: ActionValue['kind'];
  readonly instanceId?: string;
  readonly region?: string;
  /** Undefined for a press already handled (a duplicate delivery): nothing was done again. */
  readonly outcome?: PressOutcome;
  readonly duplicate?: boolean;
  /** The original message was updated in place. */
  readonly messageUpdated: boolean;
}

export interface InteractionSummary extends RunSummary {
  readonly capability: 'slack';
  readonly presses: readonly PressReport[];
}

export interface InteractionDeps {
  readonly slack: SlackInteractivityApi;
  readonly marks: MarkStore;
}

/** Step 2: acts on each pressed button of a verified interaction, and answers in Slack. */
export async function handleInteraction(
  ctx: RunContext,
  interaction: BlockActions,
  deps: InteractionDeps,
): Promise<InteractionSummary> {
  const presses: PressReport[] = [];
  const notes: string[] = [];
  const protective = new ActionRunner(false, ctx.now);
  for (const pressed of interaction.actions) {
    presses.push(await handlePress(ctx, interaction, pressed, deps, protective, notes));
  }
  // The keeps (never dry-run: a keep only protects) and the run's actions go to the ledger; stops and restores to
  // the stop index.
  if (ctx.stateTableName && protective.records().some((r) => r.status === 'done')) {
    try {
      await recordActions(ctx.clients.dynamodb(), ctx.stateTableName, protective.records());
    } catch (error) {
      notes.push(`ledger: keep entries not written (${errorMessage(error)})`);
    }
  }
  notes.push(...(await recordRun(ctx)));
  for (const note of notes) ctx.log.warn(note);
  const actions = [...protective.records(), ...ctx.actions.records()];
  return {
    capability: 'slack',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions,
    monthlySavingsUsd: ctx.actions.totals().monthlySavingsUsd,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    presses,
  };
}

async function handlePress(
  ctx: RunContext,
  interaction: BlockActions,
  pressed: PressedAction,
  deps: InteractionDeps,
  protective: ActionRunner,
  notes: string[],
): Promise<PressReport> {
  const userId = interaction.user.id;
  const base = { actionId: pressed.actionId, userId };
  const key = pressMarkKey(interaction.teamId, userId, pressed.actionTs, pressed.actionId);
  if (!(await deps.marks.markOnce(key, ctx.now))) {
    ctx.log.info('press already handled: not acted on again', { actionId: pressed.actionId, userId });
    return { ...base, duplicate: true, messageUpdated: false };
  }
  let value: ActionValue;
  try {
    value = decodeAction(pressed.actionId, pressed.value, { maxKeepHours: ctx.config.slack.maxKeepHours });
  } catch (error) {
    const outcome: PressOutcome = {
      kind: 'refused',
      reason: `this button is not one the guard can act on (${errorMessage(error)})`,
    };
    await answer(ctx, interaction, undefined, outcome, deps, notes);
    return { ...base, outcome, messageUpdated: false };
  }
  const target = { kind: value.kind, instanceId: value.instanceId, region: value.region };
  let outcome: PressOutcome;
  try {
    outcome = await perform(ctx, interaction, value, deps, protective);
  } catch (error) {
    ctx.log.error('press failed', { ...target, error: `${errorCode(error)}: ${errorMessage(error)}` });
    outcome = { kind: 'failed', action: value.kind, error: `${errorCode(error)}: ${errorMessage(error)}` };
  }
  const messageUpdated = await answer(ctx, interaction, value.instanceId, outcome, deps, notes);
  ctx.log.info('press handled', { ...target, userId, outcome: outcome.kind, messageUpdated });
  return { ...base, ...target, outcome, messageUpdated };
}

/** Updates the original message (an outcome that replaces the buttons) or answers the presser alone. */
async function answer(
  ctx: RunContext,
  interaction: BlockActions,
  instanceId: string | undefined,
  outcome: PressOutcome,
  deps: InteractionDeps,
  notes: string[],
): Promise<boolean> {
  const line = outcomeLine(outcome, ctx.now);
  const { channelId, messageTs, message } = interaction;
  if (line && instanceId && channelId && messageTs && message) {
    const blocks = replaceActionBlocks(message.blocks as { type: string; block_id?: string }[], instanceId, line);
    if (blocks) {
      try {
        await deps.slack.updateMessage(channelId, messageTs, message.text ?? '', blocks);
        return true;
      } catch (error) {
        notes.push(`message ${messageTs} not updated (${errorMessage(error)}): the presser is told instead`);
      }
    }
  }
  if (interaction.responseUrl) {
    try {
      await deps.slack.respond(interaction.responseUrl, ephemeralText(outcome, ctx.now));
    } catch (error) {
      notes.push(`answer to the presser not delivered (${errorMessage(error)})`);
    }
  }
  return false;
}

/** The instance as EC2 describes it now (any state), or undefined when EC2 does not know it. */
async function describe(ctx: RunContext, region: string, instanceId: string): Promise<InstanceFacts | undefined> {
  const found = await listInstances(ctx.clients.ec2(region), region, [{ Name: 'instance-id', Values: [instanceId] }]);
  return found.find((i) => i.instanceId === instanceId);
}

/** The presser's verdict for a button that needs an owner or an approver. */
async function authorizePresser(
  ctx: RunContext,
  interaction: BlockActions,
  value: ActionValue,
  instance: InstanceFacts,
  deps: InteractionDeps,
): Promise<Authorization> {
  const ownerTag = tagValue(instance.tags, ctx.config.tags.owner);
  const owner = ownerTag !== undefined ? ownerOf(ownerTag) : undefined;
  // Only what the verdict needs is asked of Slack: the presser's address when the owner tag is one, the user
  // groups when the presser is neither the owner nor a listed approver.
  const email = owner && 'email' in owner ? await deps.slack.userEmail(interaction.user.id) : undefined;
  const presser = { id: interaction.user.id, ...(email ? { email } : {}) };
  const approvers = new Set(ctx.config.slack.approvers.filter((a) => !a.startsWith('S')));
  const first = authorize(value.kind, { presser, ...(ownerTag !== undefined ? { ownerTag } : {}), approvers });
  if (first.allowed) return first;
  for (const group of approverGroups(ctx.config.slack.approvers)) {
    for (const member of await deps.slack.userGroupMembers(group)) approvers.add(member);
  }
  return authorize(value.kind, { presser, ...(ownerTag !== undefined ? { ownerTag } : {}), approvers });
}

async function perform(
  ctx: RunContext,
  interaction: BlockActions,
  value: ActionValue,
  deps: InteractionDeps,
  protective: ActionRunner,
): Promise<PressOutcome> {
  if (!ctx.regions.includes(value.region))
    return { kind: 'refused', reason: `${value.region} is not a region the guard covers (regions)` };
  if (!ctx.stateTableName) return { kind: 'refused', reason: 'the guard has no state table here to keep records in' };
  const instance = await describe(ctx, value.region, value.instanceId);
  if (!instance || instance.state === 'terminated' || instance.state === 'shutting-down')
    return { kind: 'refused', reason: `${value.instanceId} no longer exists` };
  const verdict = await authorizePresser(ctx, interaction, value, instance, deps);
  if (!verdict.allowed) return { kind: 'not-allowed', reason: verdict.reason };
  switch (value.kind) {
    case 'keep':
    case 'keep-running':
      return keep(ctx, interaction, value, protective);
    case 'act-now':
      return actNow(ctx, interaction, value, instance, verdict);
    case 'restore':
      return restore(ctx, interaction, value, instance);
  }
}

/** Keep (or keep running): the record first, then its mirror tag; a ledger entry names who. */
async function keep(
  ctx: RunContext,
  interaction: BlockActions,
  value: Extract<ActionValue, { kind: 'keep' | 'keep-running' }>,
  protective: ActionRunner,
): Promise<PressOutcome> {
  const { instanceId, region, hours } = value;
  const record: KeepRecord = {
    instanceId,
    region,
    until: keepEnd(ctx.now, hours, ctx.config.slack.maxKeepHours),
    by: interaction.user.id,
    ...(interaction.user.name ? { byName: interaction.user.name } : {}),
    ...(value.kind === 'keep-running' ? { reason: `budget ${value.budget}` } : {}),
    setAt: ctx.now.toISOString(),
    source: 'slack',
    guard: value.kind === 'keep' ? 'reaper' : 'budgets',
  };
  const result = await setKeepAndRecord(ctx, record, hours, protective);
  if (!result.written) return result.outcome;
  const tag = await mirrorKeepTag(ctx, record);
  return { kind: 'kept', button: value.kind, until: record.until, hours, by: interaction.user.id, tag };
}

/** Writes the keep record and its ledger entry (shared with `cost-guard keep`). */
export async function setKeepAndRecord(
  ctx: RunContext,
  record: KeepRecord,
  hours: number,
  protective: ActionRunner,
): Promise<{ written: true } | { written: false; outcome: PressOutcome }> {
  let newer: KeepRecord | undefined;
  let written = false;
  const entry = await protective.perform(
    {
      capability: record.guard,
      kind: 'keep',
      target: record.instanceId,
      region: record.region,
      reason: keepLedgerReason(record, hours),
      details: { until: record.until, by: record.by, source: record.source },
    },
    async () => {
      const res = await setKeep(ctx.clients.dynamodb(), ctx.stateTableName!, record, hubKeyScopeOf(ctx));
      written = res.written;
      if (!res.written) {
        newer = res.newer;
        throw Object.assign(new Error('a newer keep is on record'), { name: 'KeepSuperseded' });
      }
    },
  );
  if (written) return { written: true };
  if (newer) return { written: false, outcome: { kind: 'keep-superseded', until: newer.until, by: newer.by } };
  return {
    written: false,
    outcome: { kind: 'failed', action: 'keep', error: `${entry.errorCode}: ${entry.errorMessage}` },
  };
}

/** The keep-until tag, for people (dry-run honoured: the record counts either way). */
export async function mirrorKeepTag(ctx: RunContext, record: KeepRecord): Promise<'written' | 'dry-run' | 'failed'> {
  const key = ctx.config.tags.keepUntil;
  const tagged = await ctx.actions.perform(
    {
      capability: record.guard,
      kind: 'tag',
      target: record.instanceId,
      region: record.region,
      reason: `mirror of the keep on record: ${key}=${record.until}`,
      details: { key, value: record.until },
    },
    () => new Ec2Writer(ctx.clients.ec2(record.region)).tag(record.instanceId, { [key]: record.until }),
  );
  return tagged.status === 'done' ? 'written' : tagged.status === 'dry-run' ? 'dry-run' : 'failed';
}

/** Stop or terminate now, through the checks of a scheduled reaper run. */
async function actNow(
  ctx: RunContext,
  interaction: BlockActions,
  value: Extract<ActionValue, { kind: 'act-now' }>,
  found: InstanceFacts,
  verdict: Extract<Authorization, { allowed: true }>,
): Promise<PressOutcome> {
  const config: ReaperConfig = { idleGpu: ctx.config.idleGpu, tags: ctx.config.tags };
  const { action } = config.idleGpu;
  const { instanceId, region } = value;
  if (!config.idleGpu.enabled) return { kind: 'refused', reason: 'the idle GPU reaper is off (idleGpu.enabled)' };
  if (action === 'notify') return { kind: 'refused', reason: 'the reaper only reports (idleGpu.action is notify)' };
  if (action !== value.action)
    return {
      kind: 'refused',
      reason: `the reaper's action is ${action} now, not ${value.action}: press the next warning's button`,
    };
  if (found.state !== 'running') return { kind: 'refused', reason: `${instanceId} is ${found.state}, not running` };
  const ec2 = ctx.clients.ec2(region);
  let instance = found;
  if (instance.lifecycle === 'spot' && instance.spotInstanceRequestId) {
    const kind = (await spotRequestTypes(ec2, [instance.spotInstanceRequestId])).get(instance.spotInstanceRequestId);
    if (kind) instance = { ...instance, spotRequestType: kind };
  }
  const kept = (
    await activeKeeps(ctx.clients.dynamodb(), ctx.stateTableName!, region, ctx.now, hubKeyScopeOf(ctx))
  ).get(instanceId);
  if (kept) return { kind: 'refused', reason: `${keptText(kept)}; it stays until the keep ends` };
  const catalog = new InstanceTypeCatalog();
  const types = await catalog.resolve(ec2, region, [instance.instanceType]);
  let decision = guardDecision(instance, types.get(instance.instanceType), ctx.now, config);
  if (!decision && action === 'terminate') {
    let terminationProtected: boolean | undefined;
    try {
      terminationProtected = await isTerminationProtected(ec2, instanceId);
    } catch {
      terminationProtected = undefined;
    }
    const checked = checkBeforeAct(
      { instanceId, kind: 'act', code: 'pressed', reason: 'pressed in Slack', clearWarning: false },
      'terminate',
      { terminationProtected },
    );
    if (checked.kind !== 'act') decision = checked;
  }
  if (decision) return { kind: 'refused', reason: decision.reason };

  const spot = instance.lifecycle === 'spot';
  const savings = actionSavings(action, instance.instanceType, ctx.pricing, { spot, region });
  const who = `${interaction.user.name ? `${interaction.user.name} (${interaction.user.id})` : interaction.user.id}, ${verdict.as}`;
  try {
    return await withRunLeases(
      { ...ctx, regions: [region] },
      { capabilities: ['reaper'], holder: `slack:${interaction.user.id}`, ...hubAccount(ctx) },
      async () => {
        if (!ctx.dryRun) {
          const reserved = await ActionLimits.of(
            ctx,
            new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName!, { now: ctx.now }),
            { hub: true },
          ).reserveOne({
            capability: 'reaper',
            period: actionPeriod(config.idleGpu.schedule, undefined, ctx.now),
            limit: config.idleGpu.maxActionsPerRun,
            target: instanceId,
            now: ctx.now,
          });
          if (!reserved)
            return {
              kind: 'refused',
              reason: `the reaper's action limit for this period is reached (idleGpu.maxActionsPerRun ${config.idleGpu.maxActionsPerRun}); a later run acts`,
            } satisfies PressOutcome;
        }
        const record = await ctx.actions.perform(
          {
            capability: 'reaper',
            kind: action,
            target: instanceId,
            region,
            reason: `${action} now, pressed in Slack by ${who}`,
            ...(savings ? { monthlySavingsUsd: savings.monthlyUsd } : {}),
            details: { instanceType: instance.instanceType, pressedBy: interaction.user.id, as: verdict.as },
          },
          () => {
            const writer = new Ec2Writer(ec2);
            return action === 'terminate' ? writer.terminate(instanceId) : writer.stop(instanceId);
          },
        );
        if (record.status === 'failed')
          return {
            kind: 'failed',
            action,
            error: `${record.errorCode}: ${record.errorMessage}`,
          } satisfies PressOutcome;
        if (record.status === 'done') {
          await new WarningStore(ctx.clients.dynamodb(), ctx.stateTableName!, 'slack', ctx.now, hubKeyScopeOf(ctx))
            .remove(region, instanceId)
            .catch(() => undefined);
        }
        return {
          kind: 'acted',
          action,
          status: record.status,
          by: interaction.user.id,
          at: ctx.now.toISOString(),
        } satisfies PressOutcome;
      },
    );
  } catch (error) {
    if (error instanceof RunLeaseHeldError)
      return { kind: 'refused', reason: `a reaper run is acting in ${region} now; try again after ${error.expiresAt}` };
    throw error;
  }
}

/**
 * The hub's account for the run leases of a press: buttons act only in the hub's account, whose scheduled units (in
 * organization mode) hold leases named with that account.
 */
function hubAccount(ctx: RunContext): { account?: string } {
  const account = hubKeyScopeOf(ctx);
  return account ? { account } : {};
}

/** Start an instance the budget guard stopped for the button's budget (its records say so), and untag it. */
async function restore(
  ctx: RunContext,
  interaction: BlockActions,
  value: Extract<ActionValue, { kind: 'restore' }>,
  instance: InstanceFacts,
): Promise<PressOutcome> {
  const { instanceId, region, budget } = value;
  const stops = (await guardStops(ctx.clients.dynamodb(), ctx.stateTableName!, region, hubKeyScopeOf(ctx))).filter(
    (s) => s.instanceId === instanceId,
  );
  const plan = planRestore(stops, [instance], { budget });
  const candidate = plan.start[0];
  if (!candidate)
    return {
      kind: 'refused',
      reason: plan.refused[0]?.reason ?? `the guard's records hold no stop of ${instanceId} for budget ${budget}`,
    };
  try {
    return await withRunLeases(
      { ...ctx, regions: [region] },
      { capabilities: ['budgets'], holder: `slack:${interaction.user.id}`, ...hubAccount(ctx) },
      async () => {
        const writer = new Ec2Writer(ctx.clients.ec2(region));
        const started = await ctx.actions.perform(
          {
            capability: 'restore',
            kind: 'start',
            target: instanceId,
            region,
            reason: `stopped by the budget guard for budget ${budget} at ${candidate.stop.stoppedAt} (state table record); restored from Slack by ${interaction.user.id}`,
            details: { instanceType: instance.instanceType, stoppedBy: candidate.stop.capability, budget },
          },
          () => writer.start(instanceId),
        );
        if (started.status === 'failed')
          return {
            kind: 'failed',
            action: 'start',
            error: `${started.errorCode}: ${started.errorMessage}`,
          } satisfies PressOutcome;
        await ctx.actions.perform(
          {
            capability: 'restore',
            kind: 'untag',
            target: instanceId,
            region,
            reason: "restarted: remove the guard's stopped-* tags",
            details: { keys: [...STOPPED_TAG_KEYS] },
          },
          () => writer.untag(instanceId, STOPPED_TAG_KEYS),
        );
        return {
          kind: 'acted',
          action: 'start',
          status: started.status,
          by: interaction.user.id,
          at: ctx.now.toISOString(),
        } satisfies PressOutcome;
      },
    );
  } catch (error) {
    if (error instanceof RunLeaseHeldError)
      return {
        kind: 'refused',
        reason: `a budget guard run is acting in ${region} now; try again after ${error.expiresAt}`,
      };
    throw error;
  }
}
