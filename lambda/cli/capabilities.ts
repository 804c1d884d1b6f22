/** The capabilities `cost-guard run` and `cost-guard plan` know, in the order plan reports them. */
import { budgetsCapability } from '../handlers/budget-guard';
import { reaperCapability } from '../handlers/idle-gpu-reaper';
import { lifecycleCapability } from '../handlers/storage-lifecycle';
import type { CapabilityModule, CapabilityName } from '../shared/capability';

export const CAPABILITIES: ReadonlyMap<CapabilityName, CapabilityModule> = new Map<CapabilityName, CapabilityModule>([
  ['reaper', reaperCapability],
  ['lifecycle', lifecycleCapability],
  ['budgets', budgetsCapability],
]);
