/**
 * Error classes shared by handlers, adapters and the CLI. Each extends {@link CostGuardError} (core/errors.ts, so core
 * can throw its own), ends in `Error`, sets `name` and carries `cause`.
 */
import { CostGuardError } from '../core/errors';

export { CostGuardError } from '../core/errors';

/** A required Lambda environment variable is not set (or empty). */
export class MissingEnvironmentError extends CostGuardError {
  constructor(
    readonly variable: string,
    options?: { cause?: unknown },
  ) {
    super(`Environment variable ${variable} is not set`, options);
    this.name = 'MissingEnvironmentError';
  }
}

/** A Lambda environment variable is set, but its value cannot be read (e.g. not valid JSON). */
export class InvalidEnvironmentError extends CostGuardError {
  constructor(
    readonly variable: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Environment variable ${variable} ${problem}`, options);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Slack did not accept a message (HTTP error after retries, or `ok: false`). */
export class SlackDeliveryError extends CostGuardError {
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
export class AwsAccessError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsAccessError';
  }
}

/** What to do about a missing state table, by who met it. */
export const STATE_TABLE_REMEDY = {
  /** The CLI looks for the deployed table, or the one named in the config or on the command line. */
  cli: 'deploy the stack in that account and region (cdk deploy), or set state.tableName / pass --state-table NAME to name the deployed table',
  /** A function's table comes from its COST_GUARD_STATE_TABLE, set by the stack. */
  lambda:
    "the function's COST_GUARD_STATE_TABLE names it; deploy the stack (cdk deploy) so the table exists, or correct the variable",
} as const;

/**
 * The DynamoDB state table does not exist (DynamoDB's ResourceNotFoundException names no table): says which table,
 * in which region, and what to do.
 */
export class StateTableNotFoundError extends CostGuardError {
  constructor(
    readonly tableName: string,
    readonly region: string,
    remedy: string = STATE_TABLE_REMEDY.lambda,
    options?: { cause?: unknown },
  ) {
    super(`State table '${tableName}' not found in ${region}: ${remedy}.`, options);
    this.name = 'StateTableNotFoundError';
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
