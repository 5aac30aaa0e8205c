// The paper's comparison over seeds: each method's accuracy per data set as mean +- std, the
// strategy histograms of teacher and students, the Figure 2 quantities per iteration (alpha,
// P_train, P_SM, KL(P_train || P_SM)) and the optimizer steps behind each checkpoint. Input is
// the RunSummary (and, for intervals and family tables, the graded answers) of every (arm, seed)
// run; nothing here trains or evaluates.
import { STRATEGIES, type Strategy } from '@siked/core';
import { cumulativeStepsAt } from '../run/steps';
import type { IterationSummary, RunSummary, StrategyShares } from '../run/types';

/** One graded greedy answer (a line of `iter-<t>/eval-<dataset>.jsonl`). */
export interface PredictionRecord {
  problemId: string;
  correct: boolean;
  strategy: Strategy | null;
  /** The answer's text, when the file has it (for the soundness table). */
  text?: string;
}

/** A run's graded answers: iteration -> data set -> answers in the data set's order. */
export type RunPredictions = Map<number, Map<string, PredictionRecord[]>>;

/** One finished run of an experiment arm. */
export interface ExperimentRun {
  /** Arm name, e.g. `cot`, `siked-sparse`. */
  arm: string;
  seed: number;
  summary: RunSummary;
  /** Wall seconds spent on this run (iteration 0 included only where the run trained it). */
  wallSeconds: number;
  /** Graded answers (needed for confidence intervals and per-family tables). */
  predictions?: RunPredictions;
}

/** Mean and sample standard deviation over seeds (std 0 for one seed). */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** One row of the comparison: a method, as an (arm, iteration) pair. */
export interface MethodSpec {
  /** Label shown in tables, e.g. `SIKeD-sparse, iteration 2`. */
  label: string;
  arm: string;
  /** An iteration number, or `best` for the iteration chosen on validation. */
  iteration: number | 'best';
  /** True for rows of the SIKeD loop, whose mixing rate and KL the page shows. */
  loop?: boolean;
}

/** A method's figures over seeds. */
export interface MethodResult {
  method: MethodSpec;
  /** Data set -> accuracy (0..1) over seeds. */
  accuracy: Record<string, MeanStd>;
  /** Mean over the out-of-distribution data sets of each seed, then over seeds. */
  oodMean: MeanStd | null;
  /** Strategy shares of the student's choices on the in-distribution test set (mean over seeds). */
  testStrategyShares: StrategyShares | null;
  /** Per strategy: accuracy among the test answers that used it (mean over seeds that used it). */
  testStrategyAccuracy: Record<Strategy, number | null>;
  alpha: MeanStd | null;
  /** KL(P_train || P_SM) over seeds; null where n/a (iteration 0, single strategies). */
  klTrainToSampling: MeanStd | null;
  /** P_train, P_SM (all samples) and P_SM over correct samples, mean over seeds; null: n/a. */
  trainShares: StrategyShares | null;
  samplingShares: StrategyShares | null;
  samplingCorrectShares: StrategyShares | null;
  /**
   * Optimizer steps behind the checkpoint: its own iteration's plus, when each iteration
   * continues from the last student, every earlier one's.
   */
  cumulativeSteps: MeanStd | null;
  /** Iterations the validation choice picked, per seed (for `best` rows). */
  chosenIterations: number[];
  /** The (seed, iteration) of each run the row takes, for paired comparisons. */
  picks: Array<{ seed: number; run: ExperimentRun; iteration: number }>;
}

/** Everything RESULTS.md shows. */
export interface ExperimentSummary {
  seeds: number[];
  inDistribution: string;
  outOfDistribution: string[];
  methods: MethodResult[];
  /** Strategy shares of the verified teacher data (D_LLM) of the combined runs, mean over seeds. */
  teacherShares: StrategyShares | null;
  /** Verified teacher solutions per strategy, summed over seeds. */
  teacherCounts: Record<Strategy, number> | null;
  /** Wall seconds per arm, mean over seeds. */
  wallSeconds: Record<string, MeanStd>;
}

/** Mean and sample standard deviation of `values`; null when empty. */
export function meanStd(values: readonly number[]): MeanStd | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance =
    values.length < 2 ? 0 : values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance), n: values.length };
}

function iterationOf(run: ExperimentRun, which: number | 'best'): IterationSummary | undefined {
  const wanted = which === 'best' ? run.summary.bestIteration : which;
  return run.summary.iterations.find((it) => it.iteration === wanted);
}

function meanOfPresent(list: ReadonlyArray<StrategyShares | null>): StrategyShares | null {
  return meanShares(list.filter((x): x is StrategyShares => x !== null));
}

function meanShares(list: readonly StrategyShares[]): StrategyShares | null {
  if (list.length === 0) return null;
  const out = {} as StrategyShares;
  for (const s of STRATEGIES) out[s] = list.reduce((a, x) => a + x[s], 0) / list.length;
  return out;
}

/**
 * Aggregates the runs of an experiment. `methods` lists the rows in order; a method whose arm
 * has no run with that iteration is left out. `inDistribution` names the test set; every other
 * evaluated data set except `validation` counts as out of distribution.
 */
export function summarizeExperiment(
  runs: readonly ExperimentRun[],
  methods: readonly MethodSpec[],
  inDistribution = 'test',
): ExperimentSummary {
  const datasets = [
    ...new Set(
      runs.flatMap((run) =>
        run.summary.iterations.flatMap((it) => it.evaluations.map((e) => e.dataset)),
      ),
    ),
  ].filter((d) => d !== 'validation');
  const outOfDistribution = datasets.filter((d) => d !== inDistribution);

  const results: MethodResult[] = [];
  for (const method of methods) {
    const found = runs
      .filter((run) => run.arm === method.arm)
      .map((run) => ({ run, it: iterationOf(run, method.iteration) }))
      .filter((x): x is { run: ExperimentRun; it: IterationSummary } => x.it !== undefined);
    if (found.length === 0) continue;
    const accuracy: Record<string, MeanStd> = {};
    for (const dataset of datasets) {
      const values = found.flatMap(({ it }) =>
        it.evaluations.filter((e) => e.dataset === dataset).map((e) => e.accuracy.accuracy),
      );
      const stats = meanStd(values);
      if (stats) accuracy[dataset] = stats;
    }
    const oodPerSeed = found.flatMap(({ it }) => {
      const values = it.evaluations
        .filter((e) => outOfDistribution.includes(e.dataset))
        .map((e) => e.accuracy.accuracy);
      return values.length === 0 ? [] : [values.reduce((a, b) => a + b, 0) / values.length];
    });
    const testEvaluations = found.flatMap(({ it }) =>
      it.evaluations.filter((e) => e.dataset === inDistribution),
    );
    const testStrategyAccuracy = {} as Record<Strategy, number | null>;
    for (const s of STRATEGIES) {
      const values = testEvaluations
        .map((e) => e.accuracy.byStrategy[s].accuracy)
        .filter((v): v is number => v !== null);
      testStrategyAccuracy[s] = meanStd(values)?.mean ?? null;
    }
    results.push({
      method,
      accuracy,
      oodMean: meanStd(oodPerSeed),
      testStrategyShares: meanShares(
        testEvaluations.map((e) => {
          const shares = {} as StrategyShares;
          for (const s of STRATEGIES) shares[s] = e.accuracy.byStrategy[s].share;
          return shares;
        }),
      ),
      testStrategyAccuracy,
      alpha: meanStd(found.flatMap(({ it }) => (it.alpha === null ? [] : [it.alpha]))),
      klTrainToSampling: meanStd(
        found.flatMap(({ it }) => (it.klTrainToSampling === null ? [] : [it.klTrainToSampling])),
      ),
      trainShares: meanOfPresent(found.map(({ it }) => it.trainShares)),
      samplingShares: meanOfPresent(found.map(({ it }) => it.samplingShares)),
      samplingCorrectShares: meanOfPresent(found.map(({ it }) => it.samplingCorrectShares)),
      cumulativeSteps: meanStd(
        found.flatMap(({ run, it }) => {
          const steps = cumulativeStepsAt(run.summary, it.iteration);
          return steps === null ? [] : [steps];
        }),
      ),
      chosenIterations: found.map(({ it }) => it.iteration),
      picks: found.map(({ run, it }) => ({ seed: run.seed, run, iteration: it.iteration })),
    });
  }

  const combinedArms = new Set(
    methods.filter((m) => m.iteration === 0 && m.loop === true).map((m) => m.arm),
  );
  const teacherRuns = runs.filter((run) => combinedArms.has(run.arm) && run.summary.teacherCounts);
  // Forked arms share one teacher run per seed: count each seed once.
  const perSeed = new Map<number, Record<Strategy, number>>();
  for (const run of teacherRuns) perSeed.set(run.seed, run.summary.teacherCounts!);
  let teacherCounts: Record<Strategy, number> | null = null;
  const teacherShareList: StrategyShares[] = [];
  for (const counts of perSeed.values()) {
    teacherCounts ??= { cot: 0, l2m: 0, pot: 0 };
    const total = STRATEGIES.reduce((a, s) => a + counts[s], 0);
    const shares = {} as StrategyShares;
    for (const s of STRATEGIES) {
      teacherCounts[s] += counts[s];
      shares[s] = total === 0 ? 0 : counts[s] / total;
    }
    teacherShareList.push(shares);
  }

  const wallSeconds: Record<string, MeanStd> = {};
  for (const arm of new Set(runs.map((run) => run.arm))) {
    const stats = meanStd(runs.filter((run) => run.arm === arm).map((run) => run.wallSeconds));
    if (stats) wallSeconds[arm] = stats;
  }

  return {
    seeds: [...new Set(runs.map((run) => run.seed))].sort((a, b) => a - b),
    inDistribution,
    outOfDistribution,
    methods: results,
    teacherShares: meanShares(teacherShareList),
    teacherCounts,
    wallSeconds,
  };
}
