import type { Solution, Strategy } from '../types';

/**
 * The form of a solution text used to decide whether two samples are the same solution:
 * surrounding whitespace removed and every run of whitespace collapsed to one space. Case and
 * punctuation are kept because they matter in program-of-thought code.
 */
export function normalizeSolutionText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function questionStrategyKey(problemId: string, strategy: Strategy): string {
  return `${problemId}\u0000${strategy}`;
}

/**
 * Drops repeated samples: two solutions to the same problem with the same strategy and the same
 * normalised text (see {@link normalizeSolutionText}) count once. The first occurrence is kept
 * and input order is preserved.
 */
export function dedupeSolutions(solutions: readonly Solution[]): Solution[] {
  const seen = new Set<string>();
  const kept: Solution[] = [];
  for (const solution of solutions) {
    const key = `${questionStrategyKey(solution.problemId, solution.strategy)}\u0000${normalizeSolutionText(solution.text)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(solution);
  }
  return kept;
}

/**
 * The reference implementation's rule (METHOD.md 1 and 3b): of the CORRECT solutions, keep only
 * the first one per (question, strategy). Incorrect solutions are dropped. Input order decides
 * which one is first, so callers that want determinism pass a deterministic order.
 */
export function keepOnePerQuestionAndStrategy(solutions: readonly Solution[]): Solution[] {
  const seen = new Set<string>();
  const kept: Solution[] = [];
  for (const solution of solutions) {
    if (!solution.correct) continue;
    const key = questionStrategyKey(solution.problemId, solution.strategy);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(solution);
  }
  return kept;
}
