/** The SageMaker guard's pure core: endpoint and notebook decisions, Studio idle shutdown, report and digest, restore. */
export * from './cost';
export * from './decide';
export * from './report';
export * from './restore';
export * from './studio';
export * from './types';
