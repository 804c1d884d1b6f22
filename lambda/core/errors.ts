/**
 * The base of every error class of ml-cost-guard. `catch (e) { if (e instanceof CostGuardError) … }` tells our own
 * failures (a named, explained condition) from anything else, and `cause` keeps the error that led to it.
 *
 * A subclass ends in `Error`, passes `cause` on, and sets `name` to its own class name as a string literal: the
 * Lambda bundles are minified, so `new.target.name` would read `a` or `t` there.
 */
export class CostGuardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CostGuardError';
  }
}
