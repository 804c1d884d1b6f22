/** The savings model: the pricing catalog and the seed chapter's calculators, done correctly. Pure, no SDK imports. */
export * from './calculators';
export * from './gpu-facts';
export * from './pricing';
export * from './resize';
