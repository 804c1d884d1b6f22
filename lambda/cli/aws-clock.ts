/**
 * The CLI's clock comes from AWS: the `Date` header of the STS GetCallerIdentity response that every command makes
 * first. A laptop whose clock is more than 5 minutes off AWS's is refused: the guard's grace periods, warning
 * windows and per-period action limits are all measured against `now`, and a run from a skewed laptop would act
 * early (or record a period that the deployed function does not share).
 */
import type { STSClient } from '@aws-sdk/client-sts';
import { AwsAccessError } from '../shared/errors';

/** How far the laptop's clock may be from AWS's before the CLI refuses to run. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The laptop's clock is too far from AWS's: the run would measure grace periods wrongly. */
export class ClockSkewError extends AwsAccessError {
  constructor(
    readonly skewMs: number,
    options?: { cause?: unknown },
  ) {
    const minutes = Math.round(Math.abs(skewMs) / 60_000);
    super(
      `your clock is ${minutes} minute${minutes === 1 ? '' : 's'} ${skewMs > 0 ? 'behind' : 'ahead of'} AWS's; ` +
        "fix it (timedatectl/ntp) — the guard's grace periods depend on it",
      options,
    );
    this.name = 'ClockSkewError';
  }
}

/**
 * Records the `Date` header of every response the client receives (the raw HTTP response, before deserializing).
 * Returns a reader of the latest one; undefined until a response with a parsable Date arrived.
 */
export function captureServerDate(client: Pick<STSClient, 'middlewareStack'>): () => Date | undefined {
  let latest: Date | undefined;
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string | undefined> } | undefined)?.headers ?? {};
      const raw = headers.date ?? headers.Date;
      const parsed = raw ? Date.parse(raw) : Number.NaN;
      if (!Number.isNaN(parsed)) latest = new Date(parsed);
      return result;
    },
    { step: 'deserialize', name: 'costGuardServerDate', override: true },
  );
  return () => latest;
}

/**
 * The run's `now`: AWS's time when a response told it, else the local clock (a response without a Date header, e.g.
 * a local emulator). Throws ClockSkewError when the two are more than MAX_CLOCK_SKEW_MS apart.
 * `local` is read when the response arrived, so the request's round trip does not count as skew.
 */
export function runClock(local: Date, server: Date | undefined): { now: Date; source: 'aws' | 'local' } {
  if (!server) return { now: local, source: 'local' };
  const skewMs = server.getTime() - local.getTime();
  // The Date header has whole seconds: allow that second on top of the limit.
  if (Math.abs(skewMs) > MAX_CLOCK_SKEW_MS + 1000) throw new ClockSkewError(skewMs);
  return { now: server, source: 'aws' };
}
