import type { Strategy } from '../types';
import type { TrainProgress } from '../student/types';
import type { RunStatus } from './manifest';

/** Typed progress of a SIKeD run, emitted through the `onEvent` callback of {@link runSiked}. */
export type LoopEvent =
  | { type: 'run-start'; runDir: string; resumed: boolean }
  /** A stage begins; `resumed` stages were already done and are skipped (`stage-skip`). */
  | { type: 'stage-start'; stage: string }
  | { type: 'stage-skip'; stage: string }
  | { type: 'stage-done'; stage: string; details?: Record<string, unknown> }
  | {
      type: 'teacher-progress';
      strategy: Strategy;
      questionsDone: number;
      questionsTotal: number;
      kept: number;
    }
  /** One question's teacher answers are in (teacher-progress follows once its chunk is verified). */
  | { type: 'teacher-answered'; strategy: Strategy; questionsDone: number; questionsTotal: number }
  | ({ type: 'train-step'; iteration: number } & TrainProgress)
  | { type: 'sample-progress'; iteration: number; questionsDone: number; questionsTotal: number }
  | {
      type: 'eval-progress';
      iteration: number;
      dataset: string;
      questionsDone: number;
      questionsTotal: number;
    }
  | { type: 'eval-result'; iteration: number; dataset: string; accuracy: number; total: number }
  | { type: 'early-stop'; afterIteration: number; bestIteration: number }
  | { type: 'run-done'; status: RunStatus; bestIteration: number | null };

/** Receives {@link LoopEvent}s. */
export type LoopEventListener = (event: LoopEvent) => void;
