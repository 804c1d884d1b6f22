/**
 * What every capability benchmark shares: fake credentials (the SDK clients are mocked, nothing leaves the machine),
 * no SDK warning noise, and simulated AWS latency. Import it before building any client.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';

/** Simulated latency of one AWS call, in milliseconds. */
export const LATENCY_MS = 20;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `value()` answered after LATENCY_MS, as an AWS call would be (a thrown error becomes a rejection). */
export const later = <T>(value: () => T): Promise<T> =>
  new Promise((resolve, reject) =>
    setTimeout(() => {
      try {
        resolve(value());
      } catch (error) {
        reject(error);
      }
    }, LATENCY_MS),
  );
