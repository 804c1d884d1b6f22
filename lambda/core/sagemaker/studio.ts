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
  const held = (code: string, why: string): StudioDomainDecision => ({
    ...base,
    kind: code === 'report-only' ? 'report' : 'skip',
    code,
    reason: `${offText}; ${change}, but ${why}`,
    update,
  });
  if (domain.status !== 'InService') return held('not-in-service', `the domain is ${domain.status}`);
  if (domain.tagsUnknown) return held('tags-unknown', 'its tags could not be read');
  if (isTagTrue(domain.tags, tags.optOut)) return held('opt-out', `it is opted out (${tags.optOut}=true)`);
  const keep = tagValue(domain.tags, tags.keepUntil);
  if (keep !== undefined) {
    const until = parseTagTime(keep, true);
    if (until === undefined) return held('keep-until-invalid', `its ${tags.keepUntil} tag is not a date (kept)`);
    if (until > now.getTime()) return held('keep-until', `it is kept until ${new Date(until).toISOString()}`);
  }
  const stack = tagValue(domain.tags, CLOUDFORMATION_STACK_TAG);
  if (stack !== undefined) {
    return held('cloudformation-managed', `it belongs to CloudFormation stack '${stack}' (change it there)`);
  }
  if (reportOnly !== undefined) return held('report-only', reportOnly);
  return {
    ...base,
    kind: 'update',
    code: 'enforce',
    reason: `${offText}; ${change.replace('would set', 'sets')}`,
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
