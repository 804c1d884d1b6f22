/** Tags the budget guard writes on the instances it stops; `cost-guard restore` finds them by these and removes them. */
export const STOPPED_BY_TAG = 'cost-guard:stopped-by';
export const STOPPED_AT_TAG = 'cost-guard:stopped-at';
export const STOPPED_BUDGET_TAG = 'cost-guard:stopped-budget';
/** The value of STOPPED_BY_TAG. */
export const STOPPED_BY_VALUE = 'budget-guard';
/** The only tag keys the guard's role may create or delete. */
export const STOPPED_TAG_KEYS = [STOPPED_BY_TAG, STOPPED_AT_TAG, STOPPED_BUDGET_TAG] as const;
