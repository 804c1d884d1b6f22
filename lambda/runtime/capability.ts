/**
 * What a capability module exports so that the Lambda handler, `cost-guard run` and `cost-guard plan` all run the
 * same code. How a run's summary is shown to a person lives with the CLI (lambda/cli/format).
 */
import type { RunContext, RunSummary } from './context';

export type CapabilityName = 'reaper' | 'lifecycle' | 'budgets' | 'rightsizing' | 'sagemaker';

export interface CapabilityModule<R extends RunSummary = RunSummary> {
  readonly name: CapabilityName;
  /** One line for `--help`. */
  readonly description: string;
  /** One run. `event` is the Lambda event (schedule or SNS); the CLI passes a schedule-like event. */
  run(ctx: RunContext, event?: unknown): Promise<R>;
}
