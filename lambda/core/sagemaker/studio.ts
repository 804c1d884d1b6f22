/**
 * Studio: which domains run JupyterLab and Code Editor apps without idle shutdown, which running apps sit on GPU
 * instances, and (with `sagemaker.studioIdleShutdownMinutes`) the idle settings a domain gets. Pure.
 *
 * Idle shutdown lives in a domain's `DefaultUserSettings.<App>AppSettings.AppLifecycleManagement.IdleSettings`
 * (`LifecycleManagement` ENABLED/DISABLED, `IdleTimeoutInMinutes` 60 to 525,600, and the Min/Max bounds users may
 * pick within). Enforcing only ever tightens: a stricter timeout or bound is kept, a looser one is lowered to the
 * configured minutes, and every other field of the app settings is sent back as it was.
 */
import { parseTagTime } from '../reaper/decide';
import { isTagTrue, type Tags, tagValue } from '../tags';
import { isAcceleratedType } from './decide';
import { CLOUDFORMATION_STACK_TAG } from './types';

/** The app types whose idle shutdown a domain sets. */
export const IDLE_SHUTDOWN_APPS = ['JupyterLab', 'CodeEditor'] as const;
export type IdleShutdownApp = (typeof IDLE_SHUTDOWN_APPS)[number];

/** `AppLifecycleManagement.IdleSettings` as the API has it. */
export interface IdleSettings {
  readonly LifecycleManagement?: string;
  readonly IdleTimeoutInMinutes?: number;
  readonly MinIdleTimeoutInMinutes?: number;
  readonly MaxIdleTimeoutInMinutes?: number;
}

/** One app type's settings in a domain's DefaultUserSettings (kept whole, so an update sends back every field). */
export type AppSettings = Readonly<Record<string, unknown>> & {
  readonly AppLifecycleManagement?: { readonly IdleSettings?: IdleSettings };
};

export interface StudioDomainFacts {
  readonly domainId: string;
  readonly name: string;
  readonly region: string;
  readonly status: string;
  readonly tags: Tags;
  readonly tagsUnknown?: boolean;
  /** DefaultUserSettings.JupyterLabAppSettings / CodeEditorAppSettings; absent when the domain sets none. */
  readonly appSettings: Readonly<Partial<Record<IdleShutdownApp, AppSettings>>>;
}

export interface StudioAppFacts {
  readonly domainId: string;
  readonly region: string;
  readonly appType: string;
  readonly appName: string;
  readonly status: string;
  readonly userProfileName?: string;
  readonly spaceName?: string;
  readonly creationTime?: string;
  readonly instanceType?: string;
}

/** What a domain's idle shutdown is, per app type. */
export interface IdleShutdownState {
  readonly app: IdleShutdownApp;
  readonly enabled: boolean;
  readonly timeoutMinutes?: number;
  readonly maxMinutes?: number;
}

export function idleShutdownOf(domain: StudioDomainFacts, app: IdleShutdownApp): IdleShutdownState {
  const idle = domain.appSettings[app]?.AppLifecycleManagement?.IdleSettings;
  return {
    app,
    enabled: idle?.LifecycleManagement === 'ENABLED',
    ...(idle?.IdleTimeoutInMinutes !== undefined ? { timeoutMinutes: idle.IdleTimeoutInMinutes } : {}),
    ...(idle?.MaxIdleTimeoutInMinutes !== undefined ? { maxMinutes: idle.MaxIdleTimeoutInMinutes } : {}),
  };
}

/**
 * The idle settings that enforce `minutes` on top of `current`: ENABLED, the timeout at most `minutes` (a shorter one
 * kept), the upper bound users may pick at most `minutes`, the lower bound not above the timeout. Undefined when
 * `current` is already at least that strict (nothing to change).
 */
export function enforcedIdleSettings(current: IdleSettings | undefined, minutes: number): IdleSettings | undefined {
  const enabled = current?.LifecycleManagement === 'ENABLED';
  const timeout =
    enabled && current?.IdleTimeoutInMinutes !== undefined ? Math.min(current.IdleTimeoutInMinutes, minutes) : minutes;
  const max =
    current?.MaxIdleTimeoutInMinutes !== undefined ? Math.min(current.MaxIdleTimeoutInMinutes, minutes) : minutes;
  const min =
    current?.MinIdleTimeoutInMinutes !== undefined ? Math.min(current.MinIdleTimeoutInMinutes, timeout) : undefined;
  const next: IdleSettings = {
    LifecycleManagement: 'ENABLED',
    IdleTimeoutInMinutes: timeout,
    ...(min !== undefined ? { MinIdleTimeoutInMinutes: min } : {}),
    MaxIdleTimeoutInMinutes: max,
  };
  const same =
    enabled &&
    current?.IdleTimeoutInMinutes === next.IdleTimeoutInMinutes &&
    current?.MaxIdleTimeoutInMinutes === next.MaxIdleTimeoutInMinutes &&
    current?.MinIdleTimeoutInMinutes === next.MinIdleTimeoutInMinutes;
  return same ? undefined : next;
}

/** One domain's finding: its idle shutdown per app, the update enforcing the configured minutes, or why none. */
export interface StudioDomainDecision {
  readonly domain: StudioDomainFacts;
  readonly states: readonly IdleShutdownState[];
  /** Apps running without idle shutdown: at least one app type's is off. */
  readonly withoutIdleShutdown: boolean;
  /**
   * `update`: DefaultUserSettings to send (each app type's whole settings with the enforced idle settings);
   * `ok`: already as strict; `report`: no minutes configured, or the action is held back (`reason` says why).
   */
  readonly kind: 'update' | 'ok' | 'report' | 'skip';
  readonly code: string;
  readonly reason: string;
  readonly update?: Readonly<Partial<Record<`${IdleShutdownApp}AppSettings`, AppSettings>>>;
}

/**
 * What to do with one domain. Without `studioIdleShutdownMinutes` it is reported. With it, a domain is updated
 * unless it is opted out, kept, managed by CloudFormation (changing it drifts the stack), not InService, its tags
 * could not be read, or `reportOnly` (action notify): then the update is only described.
 */
export function decideStudioDomain(
  domain: StudioDomainFacts,
  minutes: number | undefined,
  now: Date,
  tags: { readonly optOut: string; readonly keepUntil: string },
  reportOnly?: string,
): StudioDomainDecision {
  const states = IDLE_SHUTDOWN_APPS.map((app) => idleShutdownOf(domain, app));
  const withoutIdleShutdown = states.some((s) => !s.enabled);
  const base = { domain, states, withoutIdleShutdown };
  const off = states.filter((s) => !s.enabled).map((s) => s.app);
  const offText = off.length > 0 ? `idle shutdown off for ${off.join(' and ')}` : 'idle shutdown on';
  if (minutes === undefined) {
    return { ...base, kind: 'report', code: 'no-minutes', reason: `${offText}; studioIdleShutdownMinutes is not set` };
  }
  const update: Partial<Record<`${IdleShutdownApp}AppSettings`, AppSettings>> = {};
  for (const app of IDLE_SHUTDOWN_APPS) {
    const current = domain.appSettings[app];
    const next = enforcedIdleSettings(current?.AppLifecycleManagement?.IdleSettings, minutes);
    if (!next) continue;
    update[`${app}AppSettings`] = {
      ...(current ?? {}),
      AppLifecycleManagement: { ...(current?.AppLifecycleManagement ?? {}), IdleSettings: next },
    };
  }
  if (Object.keys(update).length === 0) {
    return { ...base, kind: 'ok', code: 'already-strict', reason: `idle shutdown at most ${minutes} min already` };
  }
  const change = `would set idle shutdown to ${minutes} min for ${Object.keys(update)
    .map((k) => k.replace('AppSettings', ''))
    .join(' and ')}`;
  const hold = studioHold(domain, 'domain', now, tags, reportOnly);
  if (hold) {
    return {
      ...base,
      kind: hold.code === 'report-only' ? 'report' : 'skip',
      code: hold.code,
      reason: `${offText}; ${change}, but ${hold.why}`,
      update,
    };
  }
  return {
    ...base,
    kind: 'update',
    code: 'enforce',
    reason: `${offText}; ${change.replace('would set', 'sets')}`,
    update,
  };
}

/** Why an update of a domain, user profile or space is held back (reported only), or undefined when it may go ahead. */
function studioHold(
  target: { readonly status: string; readonly tags: Tags; readonly tagsUnknown?: boolean },
  noun: string,
  now: Date,
  tags: { readonly optOut: string; readonly keepUntil: string },
  reportOnly: string | undefined,
): { code: string; why: string } | undefined {
  if (target.status !== 'InService') return { code: 'not-in-service', why: `the ${noun} is ${target.status}` };
  if (target.tagsUnknown) return { code: 'tags-unknown', why: 'its tags could not be read' };
  if (isTagTrue(target.tags, tags.optOut)) return { code: 'opt-out', why: `it is opted out (${tags.optOut}=true)` };
  const keep = tagValue(target.tags, tags.keepUntil);
  if (keep !== undefined) {
    const until = parseTagTime(keep, true);
    if (until === undefined)
      return { code: 'keep-until-invalid', why: `its ${tags.keepUntil} tag is not a date (kept)` };
    if (until > now.getTime()) return { code: 'keep-until', why: `it is kept until ${new Date(until).toISOString()}` };
  }
  const stack = tagValue(target.tags, CLOUDFORMATION_STACK_TAG);
  if (stack !== undefined) {
    return { code: 'cloudformation-managed', why: `it belongs to CloudFormation stack '${stack}' (change it there)` };
  }
  if (reportOnly !== undefined) return { code: 'report-only', why: reportOnly };
  return undefined;
}

/**
 * A user profile or space inside a domain. Its own `UserSettings` / `SpaceSettings` app settings override the
 * domain's defaults; absent ones inherit them (and the domain decision covers them). A space's idle settings carry
 * only `IdleTimeoutInMinutes` (no ENABLED/DISABLED switch, no bounds).
 */
export interface StudioOwnerFacts {
  readonly kind: 'user-profile' | 'space';
  readonly domainId: string;
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly status: string;
  readonly tags: Tags;
  readonly tagsUnknown?: boolean;
  readonly appSettings: Readonly<Partial<Record<IdleShutdownApp, AppSettings>>>;
}

export interface StudioOwnerDecision {
  readonly owner: StudioOwnerFacts;
  /** The app types whose own setting disables idle shutdown or allows a longer timeout than the configured one. */
  readonly looser: readonly IdleShutdownApp[];
  /** `ok`: nothing of its own looser than the configured minutes (not reported); otherwise as a domain's. */
  readonly kind: 'update' | 'ok' | 'report' | 'skip';
  readonly code: string;
  readonly reason: string;
  readonly update?: Readonly<Partial<Record<`${IdleShutdownApp}AppSettings`, AppSettings>>>;
}

/** Whether one app type's own setting is looser: DISABLED, or a timeout above `minutes` (when set). */
function ownLooser(idle: IdleSettings | undefined, minutes: number | undefined): boolean {
  if (!idle) return false;
  if (idle.LifecycleManagement === 'DISABLED') return true;
  return minutes !== undefined && idle.IdleTimeoutInMinutes !== undefined && idle.IdleTimeoutInMinutes > minutes;
}

/**
 * What to do with one user profile or space. Only its own looser settings are reported and (with `minutes`)
 * enforced: ENABLED with `minutes` (a profile's bounds lowered as a domain's; a space gets only the timeout), every
 * other field sent back as read; a stricter own setting is left alone. Held back as a domain's update is.
 */
export function decideStudioOwner(
  owner: StudioOwnerFacts,
  minutes: number | undefined,
  now: Date,
  tags: { readonly optOut: string; readonly keepUntil: string },
  reportOnly?: string,
): StudioOwnerDecision {
  const looser = IDLE_SHUTDOWN_APPS.filter((app) =>
    ownLooser(owner.appSettings[app]?.AppLifecycleManagement?.IdleSettings, minutes),
  );
  const noun = owner.kind === 'space' ? 'space' : 'user profile';
  if (looser.length === 0) {
    return { owner, looser, kind: 'ok', code: 'not-looser', reason: `no ${noun} setting looser than the domain's` };
  }
  const what = `own idle shutdown ${looser
    .map((app) => {
      const idle = owner.appSettings[app]?.AppLifecycleManagement?.IdleSettings;
      return idle?.LifecycleManagement === 'DISABLED'
        ? `off for ${app}`
        : `${idle?.IdleTimeoutInMinutes} min for ${app}`;
    })
    .join(' and ')}`;
  if (minutes === undefined) {
    return {
      owner,
      looser,
      kind: 'report',
      code: 'no-minutes',
      reason: `${what}; studioIdleShutdownMinutes is not set`,
    };
  }
  const update: Partial<Record<`${IdleShutdownApp}AppSettings`, AppSettings>> = {};
  for (const app of looser) {
    const current = owner.appSettings[app]!;
    const idle = current.AppLifecycleManagement?.IdleSettings;
    const next: IdleSettings =
      owner.kind === 'space' ? { IdleTimeoutInMinutes: minutes } : (enforcedIdleSettings(idle, minutes) ?? {});
    update[`${app}AppSettings`] = {
      ...current,
      AppLifecycleManagement: { ...(current.AppLifecycleManagement ?? {}), IdleSettings: { ...idle, ...next } },
    };
  }
  const change = `would set idle shutdown to ${minutes} min for ${looser.join(' and ')}`;
  const hold = studioHold(owner, noun, now, tags, reportOnly);
  if (hold) {
    return {
      owner,
      looser,
      kind: hold.code === 'report-only' ? 'report' : 'skip',
      code: hold.code,
      reason: `${what}; ${change}, but ${hold.why}`,
      update,
    };
  }
  return {
    owner,
    looser,
    kind: 'update',
    code: 'enforce',
    reason: `${what}; ${change.replace('would set', 'sets')}`,
    update,
  };
}

/** A running Studio app on a GPU instance: reported with its age; the guard never deletes apps. */
export function isGpuApp(app: StudioAppFacts): boolean {
  return app.status === 'InService' && isAcceleratedType(app.instanceType);
}

/** Hours since the app was created, or undefined when SageMaker did not say. */
export function appAgeHours(app: StudioAppFacts, now: Date): number | undefined {
  const created = app.creationTime ? Date.parse(app.creationTime) : Number.NaN;
  return Number.isNaN(created) ? undefined : Math.max(0, (now.getTime() - created) / 3_600_000);
}
