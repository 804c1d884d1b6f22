import { CostGuardError } from '../shared/errors';

/**
 * What every cost-guard command receives: output streams and the process environment, injected so that commands are
 * testable without spawning a process.
 */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stdout is a terminal. */
  readonly isTTY: boolean;
  /** True when stderr is a terminal: progress is drawn there. @default false */
  readonly errIsTTY?: boolean;
  /** Width of the terminal stdout goes to; tables wrap to it. @default 100 (also when stdout is not a terminal) */
  readonly columns?: number;
  readonly cwd: string;
  /** The clock, injected so commands are testable. */
  readonly now: () => Date;
}

/** Bad flags or arguments: the CLI prints the message and the command's usage, and exits with code 2. */
export class UsageError extends CostGuardError {
  constructor(
    message: string,
    readonly usage?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Exit codes of the cost-guard CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
