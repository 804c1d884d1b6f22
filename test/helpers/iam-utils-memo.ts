/**
 * @cloud-copilot/iam-utils with its resource-type matching remembered, for the IAM proofs that simulate thousands of
 * requests (`jest.mock('@cloud-copilot/iam-utils', () => require('../helpers/iam-utils-memo').memoizedIamUtils())`).
 *
 * For each simulated request, iam-simulate asks which of the action's resource-type ARN patterns a resource matches
 * most specifically: a pure function of the resource string and the patterns, and a quarter of the IAM proof's time.
 * The proofs ask it about the same few resources over and over (one question per role and request), so each answer is
 * computed once per test file. Everything else in the package is the real module.
 */
import { oncePerArgs } from './once-per-args';

type IamUtils = typeof import('@cloud-copilot/iam-utils');

export function memoizedIamUtils(): IamUtils {
  const actual = jest.requireActual<IamUtils>('@cloud-copilot/iam-utils');
  const match = oncePerArgs(actual.mostSpecificMatchingResourceTypePatterns);
  return {
    ...actual,
    // A copy each time: a caller that changed its answer would otherwise change the next caller's.
    mostSpecificMatchingResourceTypePatterns: (resource, patterns) => [...match(resource, patterns)],
  };
}
