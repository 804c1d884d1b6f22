/**
 * Why a guard leaves an instance alone: one vocabulary for the idle GPU reaper and the budget guard, so a report,
 * a metric dimension (`Skipped`, `Reason`) or a JSON summary says `opt-out` whichever guard wrote it.
 */

export type SkipReason =
  // The instance is not one the guard looks at.
  | 'not-running'
  | 'out-of-scope'
  | 'not-gpu'
  | 'neuron-excluded'
  | 'unknown-type'
  // A person protected it.
  | 'opt-out'
  | 'essential'
  | 'keep-until'
  | 'keep-until-invalid'
  // Something else owns its lifecycle.
  | 'auto-scaling-group'
  | 'fleet-member'
  | 'kubernetes-node'
  // The facts do not allow the action.
  | 'too-young'
  | 'age-unknown'
  | 'spot-cannot-stop'
  | 'termination-protected'
  | 'termination-protection-unknown';

/** Each reason in a few words, as counted in a digest or an alert ("2 opted out, 1 tagged essential"). */
export const SKIP_REASON_TEXT: Readonly<Record<SkipReason, string>> = {
  'not-running': 'not running',
  'out-of-scope': "outside the budget's scope tags",
  'not-gpu': 'not a GPU instance',
  'neuron-excluded': 'Neuron type (idleGpu.includeNeuron is off)',
  'unknown-type': 'instance type not described by EC2 (treated as not GPU)',
  'opt-out': 'opted out',
  essential: 'tagged essential',
  'keep-until': 'kept (keep-until tag, or a keep set from Slack or the CLI)',
  'keep-until-invalid': 'keep-until tag not a date (kept)',
  'auto-scaling-group': 'in an Auto Scaling group',
  'fleet-member': 'in a Spot Fleet or EC2 Fleet',
  'kubernetes-node': 'Kubernetes node',
  'too-young': 'younger than minimumAgeMinutes',
  'age-unknown': 'launch time unknown',
  'spot-cannot-stop': 'Spot instance that cannot be stopped',
  'termination-protected': 'termination protection on',
  'termination-protection-unknown': 'termination protection unknown',
};

export function isSkipReason(code: string): code is SkipReason {
  return Object.hasOwn(SKIP_REASON_TEXT, code);
}

/** The words for a skip reason; any other code (an idleness or state-machine code) is shown as it is. */
export function skipReasonText(code: string): string {
  return isSkipReason(code) ? SKIP_REASON_TEXT[code] : code;
}
