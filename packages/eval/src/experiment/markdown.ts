// RESULTS.md for an experiment: the comparison table (mean +- std over seeds), strategy
// histograms, alpha and KL per iteration, wall times and the command that made it.
import { STRATEGIES } from '@siked/core';
import { markdownTable as table } from '../report/markdown';
import { STRATEGY_LABELS } from '../strategy-labels';
import type { ExperimentSummary, MeanStd, MethodResult } from './summarize';

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
  /** Optional prose placed after the tables (findings written by a person). */
  notes?: string;
}

const points = (value: number) => (100 * value).toFixed(1);

/** `0.4567 +- 0.012` -> `45.7 ± 1.2`. */
export function formatMeanStd(stats: MeanStd | null | undefined, scale = 100, digits = 1): string {
  if (!stats) return '-';
  const mean = (scale * stats.mean).toFixed(digits);
  return stats.n < 2 ? mean : `${mean} ± ${(scale * stats.std).toFixed(digits)}`;
}

function sharesCell(result: MethodResult): string[] {
  return STRATEGIES.map((s) =>
    result.testStrategyShares === null ? '-' : points(result.testStrategyShares[s]),
  );
}

/** The whole RESULTS.md page for `summary`. */
export function formatExperimentMarkdown(
  summary: ExperimentSummary,
  context: ExperimentContext,
): string {
  const { inDistribution, outOfDistribution } = summary;
  const seeds = summary.seeds.join(', ');
  const out: string[] = [];
  out.push(
    '# Results',
    '',
    `${context.setting}; seeds ${seeds} (${summary.seeds.length}); ${context.date}; ${context.machine}.`,
    'Accuracy in % (greedy decoding, every problem counts, an unparsed answer is wrong), mean ± sample',
    'standard deviation over the seeds. Reproduce with:',
    '',
    '```sh',
    context.command,
    '```',
    '',
    '## Accuracy',
    '',
    table(
      ['method', inDistribution, ...outOfDistribution, 'OOD mean'],
      summary.methods.map((r) => [
        r.method.label,
        formatMeanStd(r.accuracy[inDistribution]),
        ...outOfDistribution.map((d) => formatMeanStd(r.accuracy[d])),
        formatMeanStd(r.oodMean),
      ]),
    ),
    '',
  );
  const bestRows = summary.methods.filter((r) => r.method.iteration === 'best');
  if (bestRows.length > 0) {
    out.push(
      'Rows marked "chosen on validation" take, per seed, the iteration with the best accuracy on the',
      "held-out slice of the training questions (the run's result); chosen iterations: " +
        bestRows.map((r) => `${r.method.arm} ${r.chosenIterations.join(', ')}`).join('; ') +
        '.',
      '',
    );
  }

  out.push('## Strategy choices', '');
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
    `The student's strategy on the ${inDistribution} set (share of its answers, %) and its accuracy with each (%):`,
    '',
    table(
      ['method', ...STRATEGIES.map((s) => `${s} share`), ...STRATEGIES.map((s) => `${s} accuracy`)],
      summary.methods.map((r) => [
        r.method.label,
        ...sharesCell(r),
        ...STRATEGIES.map((s) => {
          const value = r.testStrategyAccuracy[s];
          return value === null ? '-' : points(value);
        }),
      ]),
    ),
    '',
  );

  const iterative = summary.methods.filter(
    (r) =>
      typeof r.method.iteration === 'number' &&
      r.method.loop === true &&
      (r.alpha || r.klTrainToStudent),
  );
  if (iterative.length > 0) {
    out.push(
      '## Mixing rate and KL per iteration',
      '',
      "alpha = teacher share of the iteration's training set; KL = KL(training data's strategy distribution || the student's).",
      '',
      table(
        ['method', 'alpha', 'KL'],
        iterative.map((r) => [
          r.method.label,
          formatMeanStd(r.alpha, 1, 3),
          formatMeanStd(r.klTrainToStudent, 1, 3),
        ]),
      ),
      '',
    );
  }

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
