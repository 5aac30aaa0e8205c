/**
 * @siked/core: SIKeD as a library. This file is the package's only public surface;
 * each module's own index.ts lists what it makes public.
 */
export {
  STRATEGIES,
  isStrategy,
  type Strategy,
  type Problem,
  type Solution,
  type Origin,
  type ProgramResult,
  type ProgramRunner,
  type Teacher,
  type TeacherSample,
  type TeacherSolveOptions,
} from './types';
export * from './strategies';
export * from './data';
export * from './verify';
export * from './sandbox';
export * from './teachers';
export * from './student';
export * from './mixing';
export * from './loop';
export * from './synthetic';
