/** Error classes shared by handlers, adapters and the CLI. Each ends in `Error`, sets `name` and carries `cause`. */

/** A required Lambda environment variable is missing or malformed. */
export class MissingEnvironmentError extends Error {
  constructor(
    readonly variable: string,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`Environment variable ${variable} ${detail ?? 'is not set'}`, options);
    this.name = 'MissingEnvironmentError';
  }
}

/** Slack did not accept a message (HTTP error after retries, or `ok: false`). */
export class SlackDeliveryError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SlackDeliveryError';
  }
}

/** The AWS SDK could not find credentials or reach the account. */
export class AwsAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsAccessError';
  }
}

/** The AWS error code of an SDK error (`name` in SDK v3), or 'Unknown'. */
export function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; Code?: unknown; code?: unknown };
    for (const v of [e.Code, e.code, e.name]) if (typeof v === 'string' && v.length > 0 && v !== 'Error') return v;
  }
  return 'Unknown';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
