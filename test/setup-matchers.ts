/**
 * aws-sdk-client-mock-jest's matchers (`expect(mock).toHaveReceivedCommand(...)` and the rest), loaded when a test
 * first uses one. Loading them loads sinon and a second copy of `expect` (about 65 ms a test file), which most test
 * files never need. The package registers its matchers with `expect.extend`, over the stand-ins below; a stand-in
 * then calls the registered matcher, so the first use answers exactly as every later one.
 * test/unit/helpers/setup-matchers.test.ts checks that the stand-ins name every matcher of the package.
 */
import type {} from 'aws-sdk-client-mock-jest';

type Matcher = (this: unknown, ...args: unknown[]) => unknown;

export const CLIENT_MOCK_MATCHERS = [
  'toHaveReceivedCommand',
  'toHaveReceivedCommandTimes',
  'toHaveReceivedCommandWith',
  'toHaveReceivedNthCommandWith',
  'toHaveReceivedNthSpecificCommandWith',
  'toHaveReceivedAnyCommand',
  'toReceiveCommand',
  'toReceiveCommandTimes',
  'toReceiveCommandWith',
  'toReceiveNthCommandWith',
  'toReceiveNthSpecificCommandWith',
  'toReceiveAnyCommand',
] as const;

/** The matchers `expect.extend` has registered (Jest keeps them on the global object under this symbol). */
export function registeredMatchers(): Record<string, Matcher> {
  return (globalThis as unknown as Record<symbol, { matchers: Record<string, Matcher> }>)[
    Symbol.for('$$jest-matchers-object')
  ]!.matchers;
}

expect.extend(
  Object.fromEntries(
    CLIENT_MOCK_MATCHERS.map((name) => [
      name,
      function standIn(this: unknown, ...args: unknown[]) {
        require('aws-sdk-client-mock-jest');
        const matcher = registeredMatchers()[name];
        if (matcher === standIn) throw new Error(`aws-sdk-client-mock-jest registered no ${name}`);
        return matcher!.apply(this, args);
      },
    ]),
  ) as never,
);
