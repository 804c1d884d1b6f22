/** GPU right-sizing advice: observations, the recommendation rule and its report. Pure. */
export * from './observe';
export * from './recommend';
export * from './report';
