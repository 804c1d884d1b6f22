/** The capabilities `cost-guard run` and `cost-guard plan` know, in the order plan reports them, with their text reports. */
import type { CapabilityModule, CapabilityName } from '../runtime/capability';
import type { RunSummary } from '../runtime/context';
import { budgetsCapability } from '../services/budgets';
import { lifecycleCapability } from '../services/lifecycle';
import { reaperCapability } from '../services/reaper';
import { rightsizingCapability } from '../services/rightsizing';
import { formatBudgetsText } from './format/budgets';
import { formatLifecycleText } from './format/lifecycle';
import { formatReaperText } from './format/reaper';
import { formatRightsizingText } from './format/rightsizing';

/** A capability as the CLI runs it: the service's run plus its terminal report. */
export interface CliCapability<R extends RunSummary = RunSummary> extends CapabilityModule<R> {
  /** Human-readable report of a run. */
  formatText(summary: R): string;
}

const withText = <R extends RunSummary>(module: CapabilityModule<R>, formatText: (s: R) => string) =>
  ({ ...module, formatText }) as unknown as CliCapability;

export const CAPABILITIES: ReadonlyMap<CapabilityName, CliCapability> = new Map<CapabilityName, CliCapability>([
  ['reaper', withText(reaperCapability, formatReaperText)],
  ['lifecycle', withText(lifecycleCapability, formatLifecycleText)],
  ['budgets', withText(budgetsCapability, formatBudgetsText)],
  // Advice only: its plan section lists the recommendations as notes.
  ['rightsizing', withText(rightsizingCapability, formatRightsizingText)],
]);
