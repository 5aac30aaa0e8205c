import type { PromptFormat } from '../student/sampling';
import type { StudentServer } from '../student/served-student';
import type { StudentFactory } from '../student/types';
import type { Problem, ProgramRunner, Strategy, Teacher } from '../types';
import type { LoopEventListener } from './events';
import type { RunManifest } from './manifest';
import type { RunSettingsInput } from './settings';

/** The student text format the loop needs: prompts, targets and reading completions back. */
export interface StudentTextFormat extends PromptFormat {
  renderTarget(strategy: Strategy, text: string): string;
}

/** Everything a SIKeD run needs. */
export interface SikedRunOptions {
  /** The run folder (DESIGN.md "Run directory"); an existing one is resumed. */
  runDir: string;
  settings?: RunSettingsInput;
  /** The training questions (the validation slice is held out of these). */
  trainProblems: readonly Problem[];
  /** Evaluation sets reported every iteration (test, out-of-distribution...); never used for decisions. */
  evalSets?: Readonly<Record<string, readonly Problem[]>>;
  teacher: Teacher;
  studentFactory: StudentFactory;
  /** Shown in the manifest (e.g. the base model's folder). */
  studentName?: string;
  format: StudentTextFormat;
  /** Runs PoT programs for verification. */
  runner: ProgramRunner;
  /**
   * Scale-out: a server (vLLM...) that each iteration's student is put on, and that then answers
   * self-generation, and evaluation when it says so (default: the student, in process).
   */
  studentServer?: StudentServer;
  onEvent?: LoopEventListener;
}

/** How a run ended. */
export interface SikedRunResult {
  runDir: string;
  manifest: RunManifest;
}
