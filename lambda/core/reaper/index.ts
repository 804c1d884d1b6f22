/** The idle GPU reaper's pure core: idle policy, guard rules, warn-then-act state machine, report and digest. */
export * from './decide';
export * from './idleness';
export * from './report';
export * from './types';
