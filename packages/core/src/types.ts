// The records that flow through a SIKeD run (docs/ARCHITECTURE.md). One definition, used everywhere.

/** A reasoning strategy: chain of thought, least-to-most sub-questions, or program of thought. */
export type Strategy = 'cot' | 'l2m' | 'pot';

/** Every strategy, in the order reports list them. */
export const STRATEGIES: readonly Strategy[] = ['cot', 'l2m', 'pot'];

/** True when `value` names a strategy. */
export function isStrategy(value: unknown): value is Strategy {
  return value === 'cot' || value === 'l2m' || value === 'pot';
}

/** A math word problem with its gold numeric answer (loaders turn every data set into this). */
export interface Problem {
  /** Unique within its source, e.g. `gsm8k-train-17`. */
  id: string;
  question: string;
  /** The gold answer; always a finite number (unparseable golds are rejected at load time). */
  answer: number;
  /** Data set name, e.g. `gsm8k`, `svamp`, `synthetic`. */
  source: string;
  /** Split name, e.g. `train`, `validation`, `test`, `ood-distractor`. */
  split: string;
  /** Optional extras a loader keeps (reference solution, sub-questions, problem family...). */
  meta?: Record<string, unknown>;
}

/** Who wrote a solution. */
export type Origin = 'teacher' | 'student';

/** One verified (or rejected) solution to a problem. */
export interface Solution {
  problemId: string;
  strategy: Strategy;
  origin: Origin;
  /** The SIKeD iteration that produced it (teacher data: 0). */
  iteration: number;
  /** The solution text without the strategy tag. */
  text: string;
  /** The extracted (CoT/L2M) or executed (PoT) answer; null when none could be obtained. */
  predicted: number | null;
  correct: boolean;
  /** Why no answer was obtained (parse failure, sandbox error...), when that happened. */
  error?: string;
}

// ---- Interfaces between the parts of a run (implemented in their own modules) ----------------

/** The outcome of running one model-written program in the sandbox. */
export interface ProgramResult {
  /** The numeric answer read from `answer`/`ans`/`solution()`/`solver()`; null when none. */
  answer: number | null;
  /** Why no answer was obtained: e.g. 'timeout', 'memory limit', 'forbidden import: os', 'NameError: ...'. */
  error: string | null;
  /** Wall time spent on this program, in milliseconds. */
  elapsedMs: number;
}

/** Runs untrusted Python programs (program-of-thought) and reads their answer. */
export interface ProgramRunner {
  run(code: string, options?: { timeoutMs?: number }): Promise<ProgramResult>;
  close(): Promise<void>;
}

/** A solution a teacher wrote, before verification. */
export interface TeacherSample {
  problemId: string;
  strategy: Strategy;
  text: string;
}

/** Optional parts of {@link Teacher.solve}. */
export interface TeacherSolveOptions {
  /** Told as each problem's answers are in (or it failed for good): progress per request. */
  onProblemDone?: (problemId: string) => void;
}

/** Writes solutions to problems with a given strategy (an LLM server, recorded data, the synthetic world). */
export interface Teacher {
  readonly name: string;
  /** `samplesPerProblem` candidate solutions for each problem (fewer when the source has fewer). */
  solve(
    problems: readonly Problem[],
    strategy: Strategy,
    samplesPerProblem: number,
    options?: TeacherSolveOptions,
  ): Promise<TeacherSample[]>;
}
