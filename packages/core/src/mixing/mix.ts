import type { Solution } from '../types';

/**
 * How teacher data joins the student's own verified samples (METHOD.md 3c):
 * `sparse` adds teacher solutions only for the questions the student never solved;
 * `all` adds every teacher solution.
 */
export type MixingMode = 'sparse' | 'all';

/** Every mixing mode, default first. */
export const MIXING_MODES: readonly MixingMode[] = ['sparse', 'all'];

/** The training set of one SIKeD iteration and how it was made. */
export interface MixedTrainingSet {
  /** Teacher solutions first, then the student's (each group in input order). */
  examples: Solution[];
  /** The teacher solutions that were taken. */
  teacherPart: Solution[];
  /** The student's own verified solutions (all of them). */
  selfPart: Solution[];
  /**
   * alpha = |teacher part| / (|teacher part| + |self part|); 0 when both are empty (there is
   * nothing to train on, and no teacher share to speak of).
   */
  alpha: number;
  /** Questions with no correct self sample (the ones `sparse` fills from the teacher). */
  unsolvedProblemIds: string[];
}

/**
 * Builds the next iteration's training set from the verified teacher data `teacherSolutions`
 * (D_LLM, already one per question and strategy) and the student's kept correct samples
 * `selfSolutions` (D_self(t)). `problemIds` lists the training questions the student was asked;
 * a question counts as solved when any self solution for it is correct.
 */
export function mixTrainingSet(input: {
  mode: MixingMode;
  teacherSolutions: readonly Solution[];
  selfSolutions: readonly Solution[];
  problemIds: readonly string[];
}): MixedTrainingSet {
  const selfPart = input.selfSolutions.filter((s) => s.correct);
  const solved = new Set(selfPart.map((s) => s.problemId));
  const unsolvedProblemIds = input.problemIds.filter((id) => !solved.has(id));
  const unsolved = new Set(unsolvedProblemIds);
  const teacherPart =
    input.mode === 'all'
      ? input.teacherSolutions.slice()
      : input.teacherSolutions.filter((s) => unsolved.has(s.problemId));
  const total = teacherPart.length + selfPart.length;
  return {
    examples: [...teacherPart, ...selfPart],
    teacherPart,
    selfPart,
    alpha: total === 0 ? 0 : teacherPart.length / total,
    unsolvedProblemIds,
  };
}
