// The report's tables as plain rows of strings, shared by the HTML and markdown writers so both
// always show the same numbers.
import { STRATEGIES } from '@siked/core';
import type { RunSummary, StrategyShares } from '../run/types';

/** A table: header cells and body rows, every cell already formatted. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

/** `0.4567` -> `45.7%`; null -> `-`. */
export function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}

function fixed(value: number | null, digits: number): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}

function shares(value: StrategyShares | null): string[] {
  return STRATEGIES.map((s) => (value === null ? 'n/a' : percent(value[s])));
}

/** Iteration x data set accuracy. */
export function accuracyTable(summary: RunSummary): Table {
  const datasets = [
    ...new Set(summary.iterations.flatMap((it) => it.evaluations.map((e) => e.dataset))),
  ];
  return {
    title: 'Accuracy per data set and iteration',
    header: ['iteration', ...datasets],
    rows: summary.iterations.map((it) => [
      it.iteration === summary.bestIteration ? `${it.iteration} (best)` : String(it.iteration),
      ...datasets.map((d) => {
        const e = it.evaluations.find((x) => x.dataset === d);
        return e
          ? `${percent(e.accuracy.accuracy)} (${e.accuracy.correct}/${e.accuracy.total})`
          : '-';
      }),
    ]),
  };
}

/** Per iteration and data set: each strategy's usage share and its accuracy. */
export function perStrategyTable(summary: RunSummary): Table {
  return {
    title: 'Strategy usage and accuracy per data set',
    header: [
      'iteration',
      'data set',
      ...STRATEGIES.flatMap((s) => [`${s} share`, `${s} accuracy`]),
      'unparsed',
      'untagged',
      'harness strict',
      'harness flexible',
    ],
    rows: summary.iterations.flatMap((it) =>
      it.evaluations.map((e) => [
        String(it.iteration),
        e.dataset,
        ...STRATEGIES.flatMap((s) => [
          percent(e.accuracy.byStrategy[s].share),
          percent(e.accuracy.byStrategy[s].accuracy),
        ]),
        String(e.accuracy.unparsed),
        e.accuracy.untagged === undefined ? '-' : String(e.accuracy.untagged),
        percent(e.harness?.strict ?? null),
        percent(e.harness?.flexible ?? null),
      ]),
    ),
  };
}

/**
 * Per iteration, the paper's Figure 2 quantities: alpha, KL(P_train || P_SM), and the strategy
 * shares of the training set (P_train), of all samples and of the correct samples of the
 * sampling student (P_SM), then the greedy validation choices (labelled apart: not P_SM).
 */
export function dynamicsTable(summary: RunSummary): Table {
  return {
    title: 'Mixing and strategy distributions per iteration',
    header: [
      'iteration',
      'steps',
      'alpha',
      'KL(P_train || P_SM)',
      ...STRATEGIES.map((s) => `P_train ${s}`),
      ...STRATEGIES.map((s) => `P_SM ${s}`),
      ...STRATEGIES.map((s) => `P_SM correct ${s}`),
      ...STRATEGIES.map((s) => `greedy val. ${s}`),
    ],
    rows: summary.iterations.map((it) => [
      String(it.iteration),
      it.trainSteps === null ? '-' : String(it.trainSteps),
      fixed(it.alpha, 3),
      fixed(it.klTrainToSampling, 4),
      ...shares(it.trainShares),
      ...shares(it.samplingShares),
      ...shares(it.samplingCorrectShares),
      ...shares(it.greedyValidationShares),
    ]),
  };
}

/** Strategy counts of the verified teacher data; null when the run has none. */
export function teacherTable(summary: RunSummary): Table | null {
  const counts = summary.teacherCounts;
  if (!counts) return null;
  const total = STRATEGIES.reduce((sum, s) => sum + counts[s], 0);
  return {
    title: 'Verified teacher data (D_LLM)',
    header: ['strategy', 'solutions', 'share'],
    rows: [
      ...STRATEGIES.map((s) => [
        s,
        String(counts[s]),
        percent(total === 0 ? null : counts[s] / total),
      ]),
      ['all', String(total), total === 0 ? '-' : '100.0%'],
    ],
  };
}

/** Every table the report shows, in order. */
export function reportTables(summary: RunSummary): Table[] {
  return [
    teacherTable(summary),
    accuracyTable(summary),
    perStrategyTable(summary),
    dynamicsTable(summary),
  ].filter((t): t is Table => t !== null && t.rows.length > 0);
}
