// RESULTS.md for an experiment: the comparison table (mean +- std over seeds) with the steps
// behind each checkpoint, paired bootstrap intervals of SIKeD minus each control, the per-family
// oracle table, strategy histograms, the Figure 2 quantities per iteration, wall times, and
// findings stated from those numbers.
import { STRATEGIES } from '@siked/core';
import { markdownTable as table } from '../report/markdown';
import { STRATEGY_LABELS } from '../strategy-labels';
import type { BootstrapInterval } from './bootstrap';
import { OOD_POOLED, type Comparison } from './comparisons';
import type { FamilyTable } from './families';
import type { SoundnessRow } from './soundness';
import { formatStepCount, writeFindings } from './findings';
import type { ExperimentSummary, MeanStd, MethodResult } from './summarize';
import type { StrategyShares } from '../run/types';

/** What the page says about how the numbers were made. */
export interface ExperimentContext {
  /** The exact command line that reproduces the page. */
  command: string;
  /** e.g. `synthetic world, preset demo`. */
  setting: string;
  /** Machine the runs used, in words. */
  machine: string;
  /** ISO date of the run. */
  date: string;
  /** Paired bootstrap intervals of the treatments minus the controls. */
  comparisons?: readonly Comparison[];
  /** Per-family single-strategy and oracle figures. */
  families?: FamilyTable | null;
  /** How many of each method's right test answers have unsound working. */
  soundness?: readonly SoundnessRow[] | null;
  /** Figure files (relative to the page) to link, e.g. accuracy against optimizer steps. */
  figures?: ReadonlyArray<{ title: string; file: string }>;
  /** Wall seconds of the whole experiment (all invocations). */
  totalWallSeconds?: number;
  /** Optional prose placed after the tables (written by a person). */
  notes?: string;
}

const points = (value: number) => (100 * value).toFixed(1);
const signedPoints = (value: number) => `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)}`;

/** `0.4567 +- 0.012` -> `45.7 ± 1.2`. */
export function formatMeanStd(stats: MeanStd | null | undefined, scale = 100, digits = 1): string {
  if (!stats) return '-';
  const mean = (scale * stats.mean).toFixed(digits);
  return stats.n < 2 ? mean : `${mean} ± ${(scale * stats.std).toFixed(digits)}`;
}

/** `+3.2 [-1.0, +7.5]`, starred when the interval excludes 0. */
export function formatInterval(interval: BootstrapInterval | null | undefined): string {
  if (!interval) return 'n/a';
  const excludesZero = interval.low > 0 || interval.high < 0;
  return `${signedPoints(interval.difference)} [${signedPoints(interval.low)}, ${signedPoints(interval.high)}]${excludesZero ? ' *' : ''}`;
}

const sharesCells = (shares: StrategyShares | null) =>
  STRATEGIES.map((s) => (shares === null ? 'n/a' : points(shares[s])));

const steps = (r: MethodResult) =>
  r.cumulativeSteps === null ? '-' : formatStepCount(r.cumulativeSteps.mean);

function accuracySection(summary: ExperimentSummary): string[] {
  const { inDistribution, outOfDistribution } = summary;
  const out = [
    '## Accuracy',
    '',
    'steps = optimizer steps behind the checkpoint (its iteration and, when iterations continue from the last student, all earlier ones; mean over seeds).',
    '',
    table(
      ['method', 'steps', inDistribution, ...outOfDistribution, 'OOD mean'],
      summary.methods.map((r) => [
        r.method.label,
        steps(r),
        formatMeanStd(r.accuracy[inDistribution]),
        ...outOfDistribution.map((d) => formatMeanStd(r.accuracy[d])),
        formatMeanStd(r.oodMean),
      ]),
    ),
    '',
  ];
  const bestRows = summary.methods.filter((r) => r.method.iteration === 'best');
  if (bestRows.length > 0) {
    out.push(
      'Rows marked "chosen on validation" take, per seed, the iteration with the best accuracy on the',
      'held-out slice of the training questions (never a test or OOD split); chosen iterations: ' +
        bestRows.map((r) => `${r.method.arm} ${r.chosenIterations.join(', ')}`).join('; ') +
        '.',
      '',
    );
  }
  return out;
}

function comparisonSection(summary: ExperimentSummary, comparisons: readonly Comparison[]) {
  if (comparisons.length === 0) return [];
  const columns = [summary.inDistribution, ...summary.outOfDistribution, OOD_POOLED];
  const first = Object.values(comparisons[0]!.intervals).find((i) => i !== null);
  return [
    '## SIKeD minus each control (paired bootstrap, 95%)',
    '',
    `Accuracy difference in points, mean over seeds, with a 95% percentile interval from a paired two-level bootstrap (${first?.resamples ?? 0} resamples: seeds with replacement, then each seed's problems with replacement, the same draw for both methods). * = the interval excludes 0. "${OOD_POOLED}" pools every OOD problem.`,
    '',
    table(
      ['treatment − control', ...columns],
      comparisons.map((c) => [
        `${c.treatment} − ${c.control}`,
        ...columns.map((d) => formatInterval(c.intervals[d])),
      ]),
    ),
    '',
  ];
}

function familySection(families: FamilyTable, testSplit: string): string[] {
  const methodLabels = families.rows[0]?.methods.map((m) => m.label) ?? [];
  const pick = (shares: StrategyShares | null) => {
    if (shares === null) return 'n/a';
    const top = STRATEGIES.reduce((a, b) => (shares[b] > shares[a] ? b : a));
    return `${STRATEGY_LABELS[top]} ${points(shares[top])}%`;
  };
  const wins = STRATEGIES.map(
    (s) =>
      `${STRATEGY_LABELS[s]}: ${families.winsByTenPoints[s].length === 0 ? 'no family' : families.winsByTenPoints[s].join(', ')}`,
  ).join('; ');
  return [
    '## Which strategy suits which family',
    '',
    `Accuracy on the ${testSplit} set per problem family (%, mean over seeds) of each single-strategy student (trained for as many steps as combined distillation), the best one on ${testSplit} and its lead over the second, and the family oracle: per seed and family, the strategy whose student did best on the validation slice, scored on ${testSplit}. Then what each multi-strategy student picks (its most used strategy, greedy) and its accuracy.`,
    '',
    table(
      [
        'family',
        ...STRATEGIES.map((s) => `${STRATEGY_LABELS[s]} only`),
        'best (lead)',
        'oracle picks',
        'oracle acc.',
        ...methodLabels.flatMap((label) => [`${label}: pick`, `${label}: acc.`]),
      ],
      families.rows.map((row) => [
        row.family,
        ...STRATEGIES.map((s) => formatMeanStd(row.single[s])),
        row.bestOnTest === null
          ? '-'
          : `${STRATEGY_LABELS[row.bestOnTest.strategy]} (+${points(row.bestOnTest.margin)})`,
        STRATEGIES.filter((s) => row.oracleChoices[s] > 0)
          .map((s) => `${STRATEGY_LABELS[s]} ${row.oracleChoices[s]}`)
          .join(', ') || '-',
        formatMeanStd(row.oracleAccuracy),
        ...row.methods.flatMap((m) => [pick(m.shares), formatMeanStd(m.accuracy)]),
      ]),
    ),
    '',
    `Over the whole ${testSplit} set: family oracle ${formatMeanStd(families.overall.oracle)}, best single strategy (chosen on validation per seed) ${formatMeanStd(families.overall.bestSingle)}, any single-strategy student right (per-problem upper bound) ${formatMeanStd(families.overall.anySingle)}.`,
    `Families where a strategy leads the other two by >= 10 points on ${testSplit}: ${wins}.`,
    '',
  ];
}

function strategySection(summary: ExperimentSummary): string[] {
  const out = ['## Strategy choices (greedy answers)', ''];
  if (summary.teacherShares && summary.teacherCounts) {
    out.push(
      `Verified teacher data (D_LLM, summed over seeds): ${STRATEGIES.map(
        (s) =>
          `${STRATEGY_LABELS[s]} ${summary.teacherCounts![s]} (${points(summary.teacherShares![s])}%)`,
      ).join(', ')}.`,
      '',
    );
  }
  out.push(
    `The student's greedy strategy on the ${summary.inDistribution} set (share of its answers, %) and its accuracy with each (%). These are greedy choices, not the sampling distribution P_SM of the next section:`,
    '',
    table(
      ['method', ...STRATEGIES.map((s) => `${s} share`), ...STRATEGIES.map((s) => `${s} accuracy`)],
      summary.methods.map((r) => [
        r.method.label,
        ...sharesCells(r.testStrategyShares),
        ...STRATEGIES.map((s) => {
          const value = r.testStrategyAccuracy[s];
          return value === null ? '-' : points(value);
        }),
      ]),
    ),
    '',
  );
  return out;
}

function dynamicsSection(summary: ExperimentSummary): string[] {
  const rows = summary.methods.filter(
    (r) => typeof r.method.iteration === 'number' && r.method.loop === true,
  );
  if (rows.length === 0) return [];
  const triple = (shares: StrategyShares | null) =>
    shares === null ? 'n/a' : STRATEGIES.map((s) => points(shares[s])).join(' / ');
  return [
    "## Mixing rate, strategy distributions and KL per iteration (the paper's Figure 2)",
    '',
    "alpha = teacher share of the iteration's training set. Distributions as CoT / L2M / PoT in %: P_train = the training set; P_SM = all k samples (temperature sampling) of the student whose samples built the iteration's D_self, and the same over its correct samples only. KL(P_train || P_SM) in nats, both smoothed with 0.5 per strategy. n/a where a distribution is empty (iteration 0 has no sampling student). Teacher data P_L: see above.",
    '',
    table(
      [
        'method',
        'alpha',
        'P_train',
        'P_SM (all samples)',
        'P_SM (correct samples)',
        'KL(P_train || P_SM)',
      ],
      rows.map((r) => [
        r.method.label,
        formatMeanStd(r.alpha, 1, 3),
        triple(r.trainShares),
        triple(r.samplingShares),
        triple(r.samplingCorrectShares),
        r.klTrainToSampling === null ? 'n/a' : formatMeanStd(r.klTrainToSampling, 1, 3),
      ]),
    ),
    '',
  ];
}

function soundnessSection(rows: readonly SoundnessRow[], test: string): string[] {
  return [
    `## Right answers with unsound working (${test})`,
    '',
    `Of each method's right answers on ${test}, how many reached the answer with working that is`,
    'wrong: a false equation in a CoT or L2M text (`8 - 4 = 2`), or a program variable named after',
    'something the question does not mention (`saturday = 43 * 6` for "on Wednesday"). Accuracy counts',
    'them as right, and so does verification by answer alone, as in the reference.',
    '',
    table(
      [
        'method',
        'right answers (all seeds)',
        'unsound (% of right, mean ± std over seeds)',
        'false equation (CoT/L2M)',
        'misnamed variable (PoT)',
      ],
      rows.map((row) => [
        row.label,
        String(row.correct),
        formatMeanStd(row.unsoundShare),
        String(row.falseEquations),
        String(row.ungroundedNames),
      ]),
    ),
    '',
  ];
}

/** The whole RESULTS.md page for `summary`. */
export function formatExperimentMarkdown(
  summary: ExperimentSummary,
  context: ExperimentContext,
): string {
  const seeds = summary.seeds.join(', ');
  const out: string[] = [
    '# Results',
    '',
    `${context.setting}; seeds ${seeds} (${summary.seeds.length}); ${context.date}; ${context.machine}.`,
    'Accuracy in % (greedy decoding, every problem counts, an unparsed answer is wrong), mean ± sample',
    'standard deviation over the seeds. Reproduce with (rerun to resume):',
    '',
    '```sh',
    context.command,
    '```',
    '',
  ];
  if (context.totalWallSeconds !== undefined) {
    out.push(
      `The whole experiment took ${(context.totalWallSeconds / 60).toFixed(1)} minutes of wall time (all arms and seeds, summed over the invocations that did work).`,
      '',
    );
  }
  out.push(
    ...writeFindings(
      summary,
      context.comparisons ?? [],
      context.families ?? null,
      context.soundness ?? null,
    ),
  );
  out.push(...accuracySection(summary));
  for (const figure of context.figures ?? []) out.push(`![${figure.title}](${figure.file})`, '');
  out.push(...comparisonSection(summary, context.comparisons ?? []));
  if (context.families) out.push(...familySection(context.families, summary.inDistribution));
  if (context.soundness) out.push(...soundnessSection(context.soundness, summary.inDistribution));
  out.push(...strategySection(summary), ...dynamicsSection(summary));
  out.push(
    '## Wall time per arm',
    '',
    table(
      ['arm', 'seconds (mean ± std over seeds)'],
      Object.entries(summary.wallSeconds).map(([arm, stats]) => [arm, formatMeanStd(stats, 1, 0)]),
    ),
    '',
  );
  if (context.notes) out.push(context.notes.trim(), '');
  return out.join('\n');
}
