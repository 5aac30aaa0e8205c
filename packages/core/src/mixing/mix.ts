import type { Solution, Strategy } from '../types';

/**
 * How teacher data joins the student's own verified samples (METHOD.md 3c):
 * - `sparse` (the reference's adaptive mixing), per strategy: every self solution of strategy s,
 *   plus the teacher's s-solution of every question with no correct self sample *of strategy s*;
 * - `all`: every teacher solution plus every self solution;
 * - `self-only`: the self solutions alone (the reference's STaR-like `standard` ablation);
 * - `sparse-per-question`: an ablation (this project's first rule): a question with a correct
 *   self sample of any strategy loses all of its teacher solutions;
 * - `teacher-only`: D_LLM alone, every iteration (the compute control "combined-continue": the
 *   same training steps as SIKeD, without the student's own data).
 */
export type MixingMode = 'sparse' | 'all' | 'self-only' | 'sparse-per-question' | 'teacher-only';

/** Every mixing mode, default first. */
export const MIXING_MODES: readonly MixingMode[] = [
  'sparse',
  'all',
  'self-only',
  'sparse-per-question',
  'teacher-only',
];

/** The training set of one SIKeD iteration and how it was made. */
export interface MixedTrainingSet {
  /** Teacher solutions first, then the student's (each group in input order). */
  examples: Solution[];
  /** The teacher solutions that were taken. */
  teacherPart: Solution[];
  /** The student's own verified solutions that were taken (all of them, except `teacher-only`). */
  selfPart: Solution[];
  /**
   * alpha = |teacher part| / (|teacher part| + |self part|); 0 when both are empty (there is
   * nothing to train on, and no teacher share to speak of).
   */
  alpha: number;
  /** Questions with no correct self sample of any strategy. */
  unsolvedProblemIds: string[];
}

const key = (problemId: string, strategy: Strategy) => `${problemId}\u0000${strategy}`;

/** The teacher solutions each mode takes, given the correct self solutions. */
function selectTeacherPart(
  mode: MixingMode,
  teacherSolutions: readonly Solution[],
  selfPart: readonly Solution[],
): Solution[] {
  switch (mode) {
    case 'all':
    case 'teacher-only':
      return teacherSolutions.slice();
    case 'self-only':
      return [];
    case 'sparse': {
      const solvedWith = new Set(selfPart.map((s) => key(s.problemId, s.strategy)));
      return teacherSolutions.filter((s) => !solvedWith.has(key(s.problemId, s.strategy)));
    }
    case 'sparse-per-question': {
      const solved = new Set(selfPart.map((s) => s.problemId));
      return teacherSolutions.filter((s) => !solved.has(s.problemId));
    }
  }
}

/**
 * Builds the next iteration's training set from the verified teacher data `teacherSolutions`
 * (D_LLM, already one per question and strategy) and the student's kept correct samples
 * `selfSolutions` (D_self(t); incorrect ones are ignored). `problemIds` lists the training
 * questions the student was asked.
 */
export function mixTrainingSet(input: {
  mode: MixingMode;
  teacherSolutions: readonly Solution[];
  selfSolutions: readonly Solution[];
  problemIds: readonly string[];
}): MixedTrainingSet {
  const correctSelf = input.selfSolutions.filter((s) => s.correct);
  const teacherPart = selectTeacherPart(input.mode, input.teacherSolutions, correctSelf);
  const selfPart = input.mode === 'teacher-only' ? [] : correctSelf;
  const solved = new Set(correctSelf.map((s) => s.problemId));
  const total = teacherPart.length + selfPart.length;
  return {
    examples: [...teacherPart, ...selfPart],
    teacherPart,
    selfPart,
    alpha: total === 0 ? 0 : teacherPart.length / total,
    unsolvedProblemIds: input.problemIds.filter((id) => !solved.has(id)),
  };
}
