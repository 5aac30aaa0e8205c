// Public API of the verify module: number normalisation and comparison, verification of
// solutions (extraction or execution), and lm-evaluation-harness style GSM8K matching.
export {
  DEFAULT_TOLERANCE,
  answersMatch,
  formatAnswerNumber,
  parseNumber,
  toNumber,
  type NumberKind,
  type NumberParseFailure,
  type NumberParseResult,
  type Tolerance,
} from './number';
export {
  summarizeVerification,
  verifyAll,
  verifySolution,
  verifySolutionDetailed,
  type CandidateSolution,
  type VerificationOutcome,
  type VerificationStats,
  type VerifiedSolution,
  type VerifyAllOptions,
  type VerifyOptions,
} from './verify-solution';
export {
  GENERIC_PROGRAM_NAMES,
  WORKING_CHECKS,
  arithmeticViolation,
  ungroundedNameViolation,
  workingViolation,
  type WorkingCheck,
} from './working-checks';
export { flexibleMatch, harnessAccuracy, strictMatch } from './harness-match';
