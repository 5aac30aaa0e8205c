import { STRATEGIES, type Strategy } from '../types';

/** How many items used each strategy. */
export type StrategyCounts = Record<Strategy, number>;

/** A probability distribution over strategies (values sum to 1, or are all 0 for no data). */
export type StrategyDistribution = Record<Strategy, number>;

/** Counts the strategies of any records that carry one (solutions, samples, training examples). */
export function countStrategies(items: Iterable<{ strategy: Strategy }>): StrategyCounts {
  const counts: StrategyCounts = { cot: 0, l2m: 0, pot: 0 };
  for (const item of items) counts[item.strategy] += 1;
  return counts;
}

/**
 * Turns counts into a distribution over `strategies` (default: all three), with additive
 * smoothing: p(s) = (count(s) + pseudoCount) / (total + pseudoCount * |strategies|).
 * `pseudoCount` 0 (the default) gives plain relative frequencies; with no data and no smoothing
 * every value is 0. Strategies outside `strategies` get probability 0 (and their counts are ignored).
 */
export function strategyDistribution(
  counts: StrategyCounts,
  options: { pseudoCount?: number; strategies?: readonly Strategy[] } = {},
): StrategyDistribution {
  const pseudoCount = options.pseudoCount ?? 0;
  const strategies = options.strategies ?? STRATEGIES;
  if (!(pseudoCount >= 0) || !Number.isFinite(pseudoCount)) {
    throw new RangeError(`pseudoCount must be a finite number >= 0, got ${pseudoCount}`);
  }
  const total = strategies.reduce((sum, s) => sum + counts[s], 0) + pseudoCount * strategies.length;
  const distribution: StrategyDistribution = { cot: 0, l2m: 0, pot: 0 };
  if (total === 0) return distribution;
  for (const s of strategies) distribution[s] = (counts[s] + pseudoCount) / total;
  return distribution;
}

/**
 * Kullback-Leibler divergence KL(p || q) = sum_s p(s) ln(p(s) / q(s)), in nats. Terms with
 * p(s) = 0 contribute 0; a strategy with p(s) > 0 and q(s) = 0 makes it Infinity (use
 * {@link smoothedKlDivergence} on counts to avoid that).
 */
export function klDivergence(p: StrategyDistribution, q: StrategyDistribution): number {
  let divergence = 0;
  for (const s of STRATEGIES) {
    if (p[s] === 0) continue;
    if (q[s] === 0) return Infinity;
    divergence += p[s] * Math.log(p[s] / q[s]);
  }
  return divergence;
}

/**
 * The default pseudo-count for KL between observed strategy counts: 0.5 per strategy (the
 * Jeffreys / Krichevsky-Trofimov prior). A student that never uses a strategy (common after
 * combined distillation, which is the bias SIKeD fixes) would otherwise give an infinite KL;
 * 0.5 keeps it finite while moving a distribution built from hundreds of samples by < 1%.
 */
export const DEFAULT_KL_PSEUDO_COUNT = 0.5;

/**
 * KL(P || Q) between two sets of strategy counts, each smoothed with `pseudoCount`
 * ({@link DEFAULT_KL_PSEUDO_COUNT} by default) over `strategies` before the divergence is taken.
 */
export function smoothedKlDivergence(
  countsP: StrategyCounts,
  countsQ: StrategyCounts,
  options: { pseudoCount?: number; strategies?: readonly Strategy[] } = {},
): number {
  const smoothing = {
    pseudoCount: options.pseudoCount ?? DEFAULT_KL_PSEUDO_COUNT,
    strategies: options.strategies,
  };
  return klDivergence(
    strategyDistribution(countsP, smoothing),
    strategyDistribution(countsQ, smoothing),
  );
}

/**
 * The training distribution METHOD.md 3c predicts from the mixing rate:
 * P_train = alpha * P_teacher + (1 - alpha) * P_student.
 */
export function mixtureDistribution(
  alpha: number,
  teacher: StrategyDistribution,
  student: StrategyDistribution,
): StrategyDistribution {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const mixed: StrategyDistribution = { cot: 0, l2m: 0, pot: 0 };
  for (const s of STRATEGIES) mixed[s] = alpha * teacher[s] + (1 - alpha) * student[s];
  return mixed;
}
