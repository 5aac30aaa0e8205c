// The records a run writes besides the Problem/Solution records of types.ts.
import type { Strategy } from '../types';
import type { DatasetEvaluationSummary } from './evaluate';

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
export interface IterationEvaluation {
  iteration: number;
  /** Teacher share of the training set; null for iteration 0 (teacher data only). */
  alpha: number | null;
  /**
   * KL(P_train || P_student) in nats, both smoothed with pseudo-count 0.5: the training set's
   * strategy counts against the strategies this iteration's student chose on the validation split.
   */
  klTrainToStudent: number;
  trainShares: Record<Strategy, number>;
  /** The student's strategy choices on the validation split (greedy). */
  studentShares: Record<Strategy, number>;
  /** Verified teacher data (D_LLM). */
  teacherShares: Record<Strategy, number>;
  datasets: Record<string, DatasetEvaluationSummary>;
}

/** split.json: which training questions were held out for validation. */
export interface SplitRecord {
  problemsSha256: string;
  trainIds: string[];
  validationIds: string[];
}
