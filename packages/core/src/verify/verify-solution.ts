// Verification: a candidate solution is graded against its problem's gold answer, by reading
// its stated answer (CoT, L2M) or by running it (PoT). Parse failures, execution failures,
// format violations and wrong answers are told apart, because they call for different fixes.
import type { Origin, Problem, ProgramRunner, Solution, Strategy } from '../types';
import { extractFinalAnswer, type AnswerRule } from '../strategies/answer';
import { extractProgram, l2mViolation, programAnswerViolation } from '../strategies/solution-text';
import { DEFAULT_TOLERANCE, answersMatch, type Tolerance } from './number';
import { workingViolation, type WorkingCheck } from './working-checks';

/** A solution to verify: the teacher's sample, or a student's with its origin and iteration. */
export interface CandidateSolution {
  problemId: string;
  strategy: Strategy;
  /** The solution text without the strategy tag. */
  text: string;
  /** Default `teacher`. */
  origin?: Origin;
  /** Default 0 (teacher data). */
  iteration?: number;
}

/**
 * How verification ended:
 * - `correct` / `wrong`: an answer was obtained and compared;
 * - `parse-failure`: no answer could be read from the text (no `Final answer:`, a PoT text
 *   that sets no answer variable, ...);
 * - `execution-failure`: the program ran but yielded no number (exception, timeout, ...);
 * - `format-violation`: the text is not of its strategy (an L2M text without a sub-question);
 * - `unsound-working`: the answer is right but a requested working check failed (a false
 *   equation, a program naming what the question does not mention; see `workingChecks`).
 */
export type VerificationOutcome =
  | 'correct'
  | 'wrong'
  | 'parse-failure'
  | 'execution-failure'
  | 'format-violation'
  | 'unsound-working';

/** A verified solution with the outcome that explains it. */
export interface VerifiedSolution {
  solution: Solution;
  outcome: VerificationOutcome;
}

/** Options of {@link verifySolution} and {@link verifyAll}. */
export interface VerifyOptions {
  /** Runs PoT programs; required as soon as a PoT solution is verified. */
  runner?: ProgramRunner;
  /** Per-program time limit passed to the runner (the runner's default when absent). */
  timeoutMs?: number;
  /** Comparison tolerance (default {@link DEFAULT_TOLERANCE}). */
  tolerance?: Tolerance;
  /** Answer-statement rules for CoT/L2M (default: `final-answer`, `gsm8k-hash`, `the-answer-is`). */
  answerRules?: readonly AnswerRule[];
  /**
   * Checks a right answer's working must also pass (default none, as in the reference):
   * `arithmetic` judges every equation of a CoT/L2M text, `grounded-names` every variable name
   * of a PoT program against the question (see `working-checks.ts`).
   */
  workingChecks?: readonly WorkingCheck[];
}

/**
 * Verifies one candidate against its problem and returns the {@link Solution} record with the
 * outcome. A runner that throws (as opposed to reporting a failed program) is an
 * infrastructure failure and propagates: grading it as wrong would silently drop good data.
 */
export async function verifySolutionDetailed(
  candidate: CandidateSolution,
  problem: Problem,
  options: VerifyOptions = {},
): Promise<VerifiedSolution> {
  if (candidate.problemId !== problem.id) {
    throw new Error(
      `candidate is for problem "${candidate.problemId}" but was verified against "${problem.id}"`,
    );
  }
  if (!Number.isFinite(problem.answer)) {
    throw new Error(`problem "${problem.id}" has no finite gold answer (${problem.answer})`);
  }
  const base = {
    problemId: candidate.problemId,
    strategy: candidate.strategy,
    origin: candidate.origin ?? 'teacher',
    iteration: candidate.iteration ?? 0,
    text: candidate.text,
  };
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const failed = (
    outcome: VerificationOutcome,
    error: string,
    predicted: number | null = null,
  ) => ({
    solution: { ...base, predicted, correct: false, error },
    outcome,
  });

  // A right answer must also pass the requested checks of its working.
  const withWorkingChecks = (verified: VerifiedSolution): VerifiedSolution => {
    const checks = options.workingChecks ?? [];
    if (verified.outcome !== 'correct' || checks.length === 0) return verified;
    const unsound = workingViolation(candidate.strategy, candidate.text, problem.question, checks);
    return unsound ? failed('unsound-working', unsound, verified.solution.predicted) : verified;
  };

  if (candidate.strategy === 'pot') {
    if (!options.runner) {
      throw new Error('verifying a PoT solution needs a ProgramRunner (options.runner)');
    }
    const code = extractProgram(candidate.text);
    const violation = programAnswerViolation(code);
    if (violation) return failed('parse-failure', violation);
    const result = await options.runner.run(code, { timeoutMs: options.timeoutMs });
    if (result.answer === null || !Number.isFinite(result.answer)) {
      return failed('execution-failure', result.error ?? 'the program yielded no numeric answer');
    }
    return withWorkingChecks(graded(base, result.answer, problem.answer, tolerance));
  }

  const extraction = extractFinalAnswer(candidate.text, { rules: options.answerRules });
  if (candidate.strategy === 'l2m') {
    const violation = l2mViolation(candidate.text);
    if (violation) {
      return failed(
        'format-violation',
        `not L2M: ${violation}`,
        extraction.ok ? extraction.value : null,
      );
    }
  }
  if (!extraction.ok) return failed('parse-failure', extraction.reason);
  return withWorkingChecks(graded(base, extraction.value, problem.answer, tolerance));
}

function graded(
  base: Omit<Solution, 'predicted' | 'correct' | 'error'>,
  predicted: number,
  gold: number,
  tolerance: Tolerance,
): VerifiedSolution {
  const correct = answersMatch(predicted, gold, tolerance);
  return { solution: { ...base, predicted, correct }, outcome: correct ? 'correct' : 'wrong' };
}

/** Verifies one candidate and returns its {@link Solution} record (see {@link verifySolutionDetailed}). */
export async function verifySolution(
  candidate: CandidateSolution,
  problem: Problem,
  options: VerifyOptions = {},
): Promise<Solution> {
  return (await verifySolutionDetailed(candidate, problem, options)).solution;
}

/** Counts of a batch of verifications, failures kept apart by kind and by reason. */
export interface VerificationStats {
  total: number;
  correct: number;
  /** An answer was obtained and it was wrong. */
  wrong: number;
  /** No answer could be read from the text. */
  parseFailures: number;
  /** A program ran and yielded no number. */
  executionFailures: number;
  /** Not of the strategy it claims (an L2M text without a sub-question). */
  formatViolations: number;
  /** A right answer whose working failed a requested check. */
  unsoundWorking: number;
  /** The same counts per strategy. */
  byStrategy: Record<Strategy, { total: number; correct: number; wrong: number; failed: number }>;
  /** Failure reasons (numbers and quoted texts folded away) with their counts, most frequent first. */
  failureReasons: Array<{ outcome: VerificationOutcome; reason: string; count: number }>;
}

/** Options of {@link verifyAll}. */
export interface VerifyAllOptions extends VerifyOptions {
  /** Verifications in flight at once (default 8; PoT runs are bounded by the runner's pool). */
  concurrency?: number;
  /** Called after each verification with the number done so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Verifies many candidates, `concurrency` at a time, and returns the solutions in the input
 * order with their stats. Every candidate's problem must be in `problems` (an unknown id is an
 * error, not a wrong answer).
 */
export async function verifyAll(
  candidates: readonly CandidateSolution[],
  problems: ReadonlyMap<string, Problem> | readonly Problem[],
  options: VerifyAllOptions = {},
): Promise<{ solutions: Solution[]; stats: VerificationStats }> {
  const byId: ReadonlyMap<string, Problem> = Array.isArray(problems)
    ? new Map((problems as readonly Problem[]).map((problem) => [problem.id, problem]))
    : (problems as ReadonlyMap<string, Problem>);
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Expected a positive integer for concurrency but received ${concurrency}`);
  }
  for (const candidate of candidates) {
    if (!byId.has(candidate.problemId)) {
      throw new Error(`no problem with id "${candidate.problemId}" to verify a solution against`);
    }
  }
  const results: VerifiedSolution[] = new Array(candidates.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next++;
      const candidate = candidates[index];
      results[index] = await verifySolutionDetailed(
        candidate,
        byId.get(candidate.problemId)!,
        options,
      );
      done++;
      options.onProgress?.(done, candidates.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, worker));
  return {
    solutions: results.map((result) => result.solution),
    stats: summarizeVerification(results),
  };
}

/** Tallies verified solutions into {@link VerificationStats}. */
export function summarizeVerification(results: readonly VerifiedSolution[]): VerificationStats {
  const empty = () => ({ total: 0, correct: 0, wrong: 0, failed: 0 });
  const stats: VerificationStats = {
    total: results.length,
    correct: 0,
    wrong: 0,
    parseFailures: 0,
    executionFailures: 0,
    formatViolations: 0,
    unsoundWorking: 0,
    byStrategy: { cot: empty(), l2m: empty(), pot: empty() },
    failureReasons: [],
  };
  const reasons = new Map<
    string,
    { outcome: VerificationOutcome; reason: string; count: number }
  >();
  for (const { solution, outcome } of results) {
    const perStrategy = stats.byStrategy[solution.strategy];
    perStrategy.total++;
    if (outcome === 'correct') {
      stats.correct++;
      perStrategy.correct++;
      continue;
    }
    if (outcome === 'wrong') {
      stats.wrong++;
      perStrategy.wrong++;
      continue;
    }
    perStrategy.failed++;
    if (outcome === 'parse-failure') stats.parseFailures++;
    else if (outcome === 'execution-failure') stats.executionFailures++;
    else if (outcome === 'unsound-working') stats.unsoundWorking++;
    else stats.formatViolations++;
    const reason = foldReason(solution.error ?? 'unknown');
    const key = `${outcome}\u0000${reason}`;
    const entry = reasons.get(key) ?? { outcome, reason, count: 0 };
    entry.count++;
    reasons.set(key, entry);
  }
  stats.failureReasons = [...reasons.values()].sort((a, b) => b.count - a.count);
  return stats;
}

/**
 * Folds the variable parts of a reason (the quoted statement, numbers, quoted names) so equal
 * causes group together: `"Final answer:" is followed by "3:30" (...)` and the same with "4:15"
 * become one entry.
 */
function foldReason(reason: string): string {
  return reason
    .split('\n', 1)[0]
    .replace(/(followed by |last number )"(?:[^"\\]|\\.)*"/g, '$1"..."')
    .replace(/'[^']*'/g, "'...'")
    .replace(/(?<![A-Za-z\d])-?\d+(?:\.\d+)?(?![A-Za-z\d])/g, 'N')
    .slice(0, 120);
}
