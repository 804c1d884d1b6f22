/**
 * `build`, answered once per distinct argument list (compared as JSON) within a test file. For the infra tests'
 * synth helpers: a synthesis costs 100-300 ms, several tests of a file synthesize the same config, and they only read
 * the app, stack and template they get back. A test that changes what it gets (adds a construct or an aspect) must
 * build its own.
 */
export function oncePerArgs<A extends unknown[], R>(build: (...args: A) => R): (...args: A) => R {
  const built = new Map<string, R>();
  return (...args) => {
    const key = JSON.stringify(args);
    if (!built.has(key)) built.set(key, build(...args));
    return built.get(key) as R;
  };
}
