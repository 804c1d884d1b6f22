/** The budget guard's pure decisions: period, threshold policy, stop candidates, Slack messages. */
export * from './candidates';
export * from './event';
export * from './messages';
export * from './period';
export * from './policy';
export * from './report';
export * from './tags';
