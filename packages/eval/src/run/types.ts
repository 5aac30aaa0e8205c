import type { Strategy } from '@siked/core';
import type { AccuracySummary } from '../accuracy';

/** A share per strategy (0..1, summing to 1 when anything was counted). */
export type StrategyShares = Record<Strategy, number>;

/** How one iteration's student did on one evaluation data set (or split). */
export interface DatasetEvaluation {
  /** Data set or split name, e.g. `test`, `ood-distractor`, `gsm8k-test`. */
  dataset: string;
  accuracy: AccuracySummary;
  /** lm-evaluation-harness style strict-match and flexible-extract accuracy; null when not recorded. */
  harness: { strict: number; flexible: number } | null;
}

/**
 * What a run recorded about one SIKeD iteration (0 = combined distillation). The distributions
 * are the paper's Figure 2 (METHOD.md 4); each is null where the run has no data for it (n/a).
 */
export interface IterationSummary {
  iteration: number;
  /** Mixing rate of the iteration's training set; null for iteration 0 (teacher data only). */
  alpha: number | null;
  /** Optimizer steps of this iteration's training; null when not recorded. */
  trainSteps: number | null;
  /** P_L: the verified teacher data. */
  teacherShares: StrategyShares | null;
  /** P_train: the iteration's training set. */
  trainShares: StrategyShares | null;
  /** P_SM: all k samples of the student that built this iteration's D_self (null at iteration 0). */
  samplingShares: StrategyShares | null;
  /** The same student's correct samples. */
  samplingCorrectShares: StrategyShares | null;
  /** KL(P_train || P_SM) in nats (smoothed); null where either is n/a. */
  klTrainToSampling: number | null;
  /** Greedy strategy choices of this iteration's student on the validation slice (not P_SM). */
  greedyValidationShares: StrategyShares | null;
  /** Accuracy per evaluation data set, in the order the run listed them. */
  evaluations: DatasetEvaluation[];
}

/** One training measurement streamed to metrics.jsonl. */
export interface TrainingPoint {
  iteration: number;
  /** Optimizer step within the iteration (1-based). */
  step: number;
  loss: number;
  tokensPerSecond: number | null;
  learningRate: number | null;
}

/** Where a run came from, as its run.json (and distill.json, when `siked distill` made it) say. */
export interface RunProvenance {
  /** The base student and the teacher, by name; null when not recorded. */
  student: string | null;
  teacher: string | null;
  /** The data files `siked distill` was given (`train`, `eval-set NAME`); empty otherwise. */
  dataFiles: Array<{ role: string; file: string }>;
  /** The siked version and git commit, and the Node.js version, that made the run. */
  siked: string | null;
  commit: string | null;
  node: string | null;
  createdAt: string | null;
  /** Wall time summed over the invocations that worked on it; null for older runs. */
  wallSeconds: number | null;
  /** How many invocations (1 + resumes); null for older runs. */
  sessions: number | null;
}

/** Everything a report shows about a run, read from its run directory. */
export interface RunSummary {
  provenance: RunProvenance;
  /** The run directory's base name. */
  name: string;
  /** Status of the run as its manifest says (e.g. `running`, `done`); null when absent. */
  status: string | null;
  /** The iteration chosen on the validation split (run.json's bestIteration); null when none yet. */
  bestIteration: number | null;
  /** Settings the run was made with (run.json's config), shown verbatim in reports. */
  config: Record<string, unknown>;
  /** Strategy counts of the verified teacher data (D_LLM); null when teacher.jsonl is absent. */
  teacherCounts: Record<Strategy, number> | null;
  iterations: IterationSummary[];
  training: TrainingPoint[];
}
