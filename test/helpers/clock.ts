/**
 * The Lambda shell reads its `now` from the clock (a handler has no other): tests of whole handlers fake only `Date`,
 * so the run happens at `at` while timers, ticks and the SDK's own timing stay real.
 */
export function clockAt(at: Date): void {
  jest.useFakeTimers({
    now: at,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
