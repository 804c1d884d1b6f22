/** The capabilities `cost-guard run` and `cost-guard plan` know, in the order plan reports them, with their text reports. */
import type { CapabilityModule, CapabilityName } from '../runtime/capability';
import type { RunSummary } from '../runtime/context';
import { budgetsCapability } from '../services/budgets';
import { lifecycleCapability } from '../services/lifecycle';
import { reaperCapability } from '../services/reaper';
import { rightsizingCapability } from '../services/rightsizing';
import { sageMakerCapability } from '../services/sagemaker';
import { budgetsDecisionLines, budgetsView, formatBudgetsText } from './format/budgets';
import { formatLifecycleText, lifecycleDecisionLines, lifecycleView } from './format/lifecycle';
import { formatReaperText, reaperDecisionLines, reaperView } from './format/reaper';
import { formatRightsizingText } from './format/rightsizing';
import { formatSageMakerText, sageMakerDecisionLines, sageMakerView } from './format/sagemaker';
import type { RenderOptions, SectionView } from './format/view';

/** A capability as the CLI runs it: the service's run plus its terminal report. */
export interface CliCapability<R extends RunSummary = RunSummary> extends CapabilityModule<R> {
  /** Human-readable report of a run. */
  formatText(summary: R, options?: Partial<RenderOptions>): string;
  /** Its section of `cost-guard plan` (without one, the plan lists the run's action records). */
  planView?(summary: R): SectionView;
  /** One line per decision, for `--verbose`. */
  decisionLines?(summary: R): string[];
  /** What the run found, for the account table of `cost-guard plan --organization`. */
  planFound?(summary: R): PlanFound;
}

/** What a capability's run found in an account and region (GPU instances, SageMaker endpoints). */
export interface PlanFound {
  readonly gpuInstances?: number;
  readonly endpoints?: number;
}

const cli = <R extends RunSummary>(
  module: CapabilityModule<R>,
  parts: Omit<CliCapability<R>, keyof CapabilityModule<R>>,
) => ({ ...module, ...parts }) as unknown as CliCapability;

export const CAPABILITIES: ReadonlyMap<CapabilityName, CliCapability> = new Map<CapabilityName, CliCapability>([
  [
    'reaper',
    cli(reaperCapability, {
      formatText: formatReaperText,
      planView: reaperView,
      decisionLines: reaperDecisionLines,
      planFound: (s) => ({ gpuInstances: s.gpuInstances }),
    }),
  ],
  [
    'lifecycle',
    cli(lifecycleCapability, {
      formatText: formatLifecycleText,
      planView: lifecycleView,
      decisionLines: lifecycleDecisionLines,
    }),
  ],
  [
    'budgets',
    cli(budgetsCapability, {
      formatText: formatBudgetsText,
      planView: budgetsView,
      decisionLines: budgetsDecisionLines,
    }),
  ],
  [
    'sagemaker',
    cli(sageMakerCapability, {
      formatText: formatSageMakerText,
      planView: sageMakerView,
      decisionLines: sageMakerDecisionLines,
      planFound: (s) => ({ endpoints: s.endpointsScanned }),
    }),
  ],
  // Advice only: its plan section lists the recommendations as notes.
  [
    'rightsizing',
    cli(rightsizingCapability, {
      formatText: formatRightsizingText,
      planFound: (s) => ({ gpuInstances: s.instancesChecked }),
    }),
  ],
]);
