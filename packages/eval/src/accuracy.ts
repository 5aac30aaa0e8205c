import { STRATEGIES, type Strategy } from '@siked/core';

/** A graded answer; `strategy` is null when the student's completion carried no strategy tag. */
export interface GradedPrediction {
  strategy: Strategy | null;
  predicted: number | null;
  correct: boolean;
}

/** Accuracy of one strategy among the predictions that used it. */
export interface StrategyAccuracy {
  /** How many predictions used this strategy. */
  count: number;
  /** Share of all predictions that used it (0..1). */
  share: number;
  /** Correct / count; null when the strategy was never used. */
  accuracy: number | null;
}

/** SIKeD-style accuracy: every item counts in the denominator, an unparsed answer is wrong. */
export interface AccuracySummary {
  total: number;
  correct: number;
  accuracy: number;
  /** Predictions with no extractable answer (counted wrong, reported apart from wrong answers). */
  unparsed: number;
  /** Predictions whose completion had no strategy tag (counted wrong; in no strategy's count). */
  untagged?: number;
  byStrategy: Record<Strategy, StrategyAccuracy>;
}

/** Summarises graded predictions: overall accuracy, per-strategy usage and accuracy. */
export function summarizeAccuracy(predictions: readonly GradedPrediction[]): AccuracySummary {
  const total = predictions.length;
  const correct = predictions.filter((p) => p.correct).length;
  const unparsed = predictions.filter((p) => p.predicted === null).length;
  const byStrategy = {} as Record<Strategy, StrategyAccuracy>;
  for (const strategy of STRATEGIES) {
    const used = predictions.filter((p) => p.strategy === strategy);
    byStrategy[strategy] = {
      count: used.length,
      share: total === 0 ? 0 : used.length / total,
      accuracy: used.length === 0 ? null : used.filter((p) => p.correct).length / used.length,
    };
  }
  const untagged = predictions.filter((p) => p.strategy === null).length;
  return {
    total,
    correct,
    accuracy: total === 0 ? 0 : correct / total,
    unparsed,
    untagged,
    byStrategy,
  };
}
