// What each strategy asks of a small model, per family: how long the target is and how many
// digits it must compute rather than copy. This is the design evidence behind "which strategy
// suits which family" (docs/SYNTHETIC_WORLD.md); the trained students measure the rest.
import { STRATEGIES, type Problem, type Strategy } from '../types';
import { formatNumber, readSyntheticComputation, type SyntheticFamily } from './computation';
import type { SyntheticTeacher } from './teacher';
import type { WordLevelTokenizer } from './tokenizer';

/** Averages over the problems of one family for one strategy. */
export interface StrategyProfile {
  /** Tokens of the error-free target (tag + solution), without the end-of-sequence token. */
  meanTargetTokens: number;
  /**
   * Digits the solver must produce by arithmetic: every step result written out in CoT and L2M
   * (later steps copy them from the line above); none in PoT, where Python computes.
   */
  meanComputedDigits: number;
  /** Multiplications with a result of 100 or more written out (the hardest digits). */
  meanLargeProducts: number;
}

/** Profile per family and strategy. */
export type DifficultyProfile = Record<SyntheticFamily, Record<Strategy, StrategyProfile>>;

/**
 * Measures the per-family, per-strategy demands of the teacher's error-free solutions on a set
 * of synthetic problems, tokenised with the world's tokenizer.
 */
export function difficultyProfile(
  problems: readonly Problem[],
  teacher: SyntheticTeacher,
  tokenizer: WordLevelTokenizer,
  tags: Record<Strategy, string>,
): Partial<DifficultyProfile> {
  const sums = new Map<
    string,
    { count: number; tokens: number; digits: number; products: number }
  >();
  for (const problem of problems) {
    const computation = readSyntheticComputation(problem);
    const computedDigits = computation.steps.reduce(
      (total, step) => total + formatNumber(step.value).replace(/\D/g, '').length,
      0,
    );
    const largeProducts = computation.steps.filter(
      (step) => step.operator === '*' && step.value >= 100,
    ).length;
    for (const strategy of STRATEGIES) {
      // Sample 0 of a teacher whose mistakes are irrelevant here: only lengths are read, and a
      // mistake changes numbers, not the number of pieces, by more than a digit or two.
      const text = teacher.write(problem, strategy, 0).text;
      const key = `${computation.family}\u0000${strategy}`;
      const entry = sums.get(key) ?? { count: 0, tokens: 0, digits: 0, products: 0 };
      entry.count++;
      entry.tokens += tokenizer.encode(`${tags[strategy]}${text}`).length;
      if (strategy !== 'pot') {
        entry.digits += computedDigits;
        entry.products += largeProducts;
      }
      sums.set(key, entry);
    }
  }
  const profile: Partial<DifficultyProfile> = {};
  for (const [key, entry] of sums) {
    const [family, strategy] = key.split('\u0000') as [SyntheticFamily, Strategy];
    profile[family] ??= {} as Record<Strategy, StrategyProfile>;
    profile[family]![strategy] = {
      meanTargetTokens: entry.tokens / entry.count,
      meanComputedDigits: entry.digits / entry.count,
      meanLargeProducts: entry.products / entry.count,
    };
  }
  return profile;
}
