// The paper's Figure 2 quantities for one iteration (METHOD.md 4): the teacher's strategy
// distribution P_L, the sampling student's P_SM (over all of its k samples at the sampling
// temperature, and over its correct ones), the training set's P_train, alpha and
// KL(P_train || P_SM). Greedy answers never enter these: greedy argmax exaggerates collapse.
import {
  countStrategies,
  smoothedKlDivergence,
  strategyDistribution,
  type StrategyCounts,
  type StrategyDistribution,
} from '../mixing/statistics';
import type { Strategy } from '../types';

/** Figure 2 of one iteration; every distribution is null when it has no data (n/a). */
export interface StrategyDynamics {
  /** P_L: the verified teacher data (D_LLM). */
  teacherShares: StrategyDistribution | null;
  /** P_train: the iteration's training set. */
  trainShares: StrategyDistribution | null;
  /** P_SM: every tagged sample of the student that built D_self(t); null for iteration 0. */
  samplingShares: StrategyDistribution | null;
  /** The same student's correct samples only. */
  samplingCorrectShares: StrategyDistribution | null;
  /** Samples drawn, with a strategy tag, and correct (null for iteration 0). */
  samplingCounts: { samples: number; tagged: number; correct: number } | null;
  /**
   * KL(P_train || P_SM) in nats, both smoothed with pseudo-count 0.5 (a strategy the student
   * never samples would otherwise make it infinite); null where either distribution is n/a.
   */
  klTrainToSampling: number | null;
}

const total = (counts: StrategyCounts) => counts.cot + counts.l2m + counts.pot;
const sharesOrNull = (counts: StrategyCounts) =>
  total(counts) === 0 ? null : strategyDistribution(counts);

/**
 * Computes {@link StrategyDynamics} from the iteration's records: `samples` is null for
 * iteration 0 (no student sampled before combined distillation).
 */
export function strategyDynamics(input: {
  teacher: ReadonlyArray<{ strategy: Strategy }>;
  train: ReadonlyArray<{ strategy: Strategy }>;
  samples: ReadonlyArray<{ strategy: Strategy | null; correct: boolean }> | null;
}): StrategyDynamics {
  const train = countStrategies(input.train);
  const base = {
    teacherShares: sharesOrNull(countStrategies(input.teacher)),
    trainShares: sharesOrNull(train),
  };
  if (input.samples === null) {
    return {
      ...base,
      samplingShares: null,
      samplingCorrectShares: null,
      samplingCounts: null,
      klTrainToSampling: null,
    };
  }
  const tagged = input.samples.filter(
    (s): s is { strategy: Strategy; correct: boolean } => s.strategy !== null,
  );
  const sampling = countStrategies(tagged);
  const correct = tagged.filter((s) => s.correct);
  return {
    ...base,
    samplingShares: sharesOrNull(sampling),
    samplingCorrectShares: sharesOrNull(countStrategies(correct)),
    samplingCounts: {
      samples: input.samples.length,
      tagged: tagged.length,
      correct: correct.length,
    },
    klTrainToSampling:
      total(train) === 0 || total(sampling) === 0 ? null : smoothedKlDivergence(train, sampling),
  };
}
