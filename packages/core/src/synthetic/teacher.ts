// The synthetic teacher: writes CoT, L2M and PoT solutions from each problem's own computation,
// wrong at a configurable rate per strategy and family.
import type { Problem, Strategy, Teacher, TeacherSample } from '../types';
import { readSyntheticComputation, type SyntheticFamily } from './computation';
import { RandomStream } from './random';
import { drawMistake, writeSolution, type TeacherMistake, type WrittenSolution } from './solutions';

/** Error rates of one strategy: a default and optional per-family overrides (each in [0, 1]). */
export interface StrategyErrorRates {
  default: number;
  byFamily?: Partial<Record<SyntheticFamily, number>>;
}

/** The probability that a teacher sample contains a mistake, per strategy and family. */
export type TeacherErrorRates = Record<Strategy, StrategyErrorRates>;

/**
 * Default error rates: the shape of a strong real teacher on GSM8K, where prose is the most
 * reliable strategy and programs the least (e.g. LLaMA-3-70B: CoT > L2M > PoT), and where
 * programs are least reliable on equation problems: the teacher's sympy programs for
 * `unknown-start` are right 30% of the time (its prose there as often as elsewhere). Real
 * teachers are weakest at setting up an equation in code, and this is what makes CoT the
 * student's best strategy on that family at matched steps (docs/SYNTHETIC_WORLD.md, "A teacher
 * weak at equations in code"), so that choosing a strategy per problem can pay. With one sample
 * per (question, strategy) the verified teacher data is close to balanced -- about
 * 35% / 34% / 31% CoT / L2M / PoT -- with the slight lead a real teacher's CoT has. With several
 * samples per question almost every (question, strategy) gets a verified solution and the data
 * is balanced exactly.
 */
export const DEFAULT_TEACHER_ERROR_RATES: TeacherErrorRates = {
  cot: { default: 0.08 },
  l2m: { default: 0.12 },
  pot: { default: 0.1, byFamily: { 'unknown-start': 0.7 } },
};

/** A teacher with no mistakes (tests, and checking the world's own consistency). */
export const PERFECT_TEACHER_ERROR_RATES: TeacherErrorRates = {
  cot: { default: 0 },
  l2m: { default: 0 },
  pot: { default: 0 },
};

/** Options of {@link SyntheticTeacher}. */
export interface SyntheticTeacherOptions {
  /** Seeds every sample (with the problem id, strategy and sample index). Default 0. */
  seed?: number;
  /** Default {@link DEFAULT_TEACHER_ERROR_RATES}. */
  errorRates?: TeacherErrorRates;
}

/** One sample with what the teacher knows about it (for tests and analyses). */
export interface AnnotatedTeacherSample extends TeacherSample, WrittenSolution {
  /** The mistake made, if any (the final answer then differs from the gold). */
  mistake: TeacherMistake | null;
}

/** Checks that every rate is a probability; names the offending field. */
export function validateErrorRates(rates: TeacherErrorRates): void {
  for (const strategy of ['cot', 'l2m', 'pot'] as const) {
    const entry = rates[strategy];
    if (!entry) throw new Error(`teacher error rates: missing entry for ${strategy}`);
    const check = (value: number, field: string) => {
      if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
        throw new Error(`teacher error rates: ${field} must be a number in [0, 1], got ${value}`);
      }
    };
    check(entry.default, `${strategy}.default`);
    for (const [family, value] of Object.entries(entry.byFamily ?? {}))
      check(value, `${strategy}.byFamily.${family}`);
  }
}

/**
 * The synthetic world's programmatic teacher (implements {@link Teacher}). Each sample is a pure
 * function of (seed, problem id, strategy, sample index): the same call always returns the same
 * texts, in any order or batch size. Only problems from the synthetic generator can be solved
 * (their `meta.computation` is the teacher's "reasoning").
 */
export class SyntheticTeacher implements Teacher {
  readonly name = 'synthetic';
  private readonly seed: number;
  private readonly errorRates: TeacherErrorRates;

  constructor(options: SyntheticTeacherOptions = {}) {
    this.seed = options.seed ?? 0;
    this.errorRates = options.errorRates ?? DEFAULT_TEACHER_ERROR_RATES;
    validateErrorRates(this.errorRates);
  }

  /** The probability of a mistake for this strategy and family. */
  errorRate(strategy: Strategy, family: SyntheticFamily): number {
    const entry = this.errorRates[strategy];
    return entry.byFamily?.[family] ?? entry.default;
  }

  /** Writes sample `sampleIndex` of one problem with one strategy. */
  write(problem: Problem, strategy: Strategy, sampleIndex: number): AnnotatedTeacherSample {
    const computation = readSyntheticComputation(problem);
    const rng = new RandomStream(this.seed, `teacher/${problem.id}/${strategy}/${sampleIndex}`);
    const style = { l2mFullSentences: rng.chance(0.25), potSeparateAnswerLine: rng.chance(0.3) };
    let mistake: TeacherMistake | null = null;
    if (rng.chance(this.errorRate(strategy, computation.family))) {
      // A mistake must change the answer (a slip that cancels out is no mistake); redraw if not.
      for (let attempt = 0; attempt < 10 && mistake === null; attempt++) {
        const candidate = drawMistake(computation, strategy, rng);
        const written = writeSolution(computation, strategy, style, candidate);
        if (Math.abs(written.finalAnswer - problem.answer) > 1e-6) mistake = candidate;
      }
    }
    const written = writeSolution(computation, strategy, style, mistake ?? undefined);
    return { problemId: problem.id, strategy, ...written, mistake };
  }

  /** `samplesPerProblem` samples for each problem, problem by problem. */
  async solve(
    problems: readonly Problem[],
    strategy: Strategy,
    samplesPerProblem: number,
  ): Promise<TeacherSample[]> {
    if (!(Number.isInteger(samplesPerProblem) && samplesPerProblem >= 1)) {
      throw new Error(`samplesPerProblem must be a positive integer, got ${samplesPerProblem}`);
    }
    const samples: TeacherSample[] = [];
    for (const problem of problems) {
      for (let index = 0; index < samplesPerProblem; index++) {
        const { problemId, text } = this.write(problem, strategy, index);
        samples.push({ problemId, strategy, text });
      }
    }
    return samples;
  }
}
