// The records a run writes besides the Problem/Solution records of types.ts.
import type { Strategy } from '../types';
import type { DatasetEvaluationSummary } from './evaluate';
import type { StrategyDynamics } from './strategy-dynamics';

/** A self-generated sample after verification (samples.jsonl). */
export interface SampleRecord {
  problemId: string;
  sampleIndex: number;
  strategy: Strategy | null;
  origin: 'student';
  iteration: number;
  text: string;
  predicted: number | null;
  correct: boolean;
  error?: string;
  finishReason: 'stop' | 'length';
}

/** iter-<t>/eval.json (read by @siked/eval's run summary). */
export interface IterationEvaluation extends StrategyDynamics {
  iteration: number;
  /** Teacher share of the training set; null for iteration 0 (teacher data only). */
  alpha: number | null;
  /** Optimizer steps this iteration's training took. */
  trainSteps: number | null;
  /** Greedy strategy choices of this iteration's student on the validation slice (not P_SM). */
  greedyValidationShares: Record<Strategy, number> | null;
  datasets: Record<string, DatasetEvaluationSummary>;
}

/** split.json: which training questions were held out for validation. */
export interface SplitRecord {
  problemsSha256: string;
  trainIds: string[];
  validationIds: string[];
}
