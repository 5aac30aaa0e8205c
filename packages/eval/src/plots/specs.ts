// Vega-Lite specifications of the report's figures, built from a RunSummary. Pure data in, JSON
// out: no rendering here, so these are unit-testable anywhere (jest included).
import { STRATEGIES } from '@siked/core';
import { cumulativeStepsAt } from '../run/steps';
import type { RunSummary } from '../run/types';
import { STRATEGY_LABELS } from '../strategy-labels';

/** One figure: a Vega-Lite spec plus the size its rendering will have (CSS pixels). */
export interface PlotSpec {
  /** File stem, e.g. `accuracy-by-iteration` (-> .svg and .png). */
  name: string;
  title: string;
  /** One sentence for the report: what the figure shows and how to read it. */
  caption: string;
  width: number;
  height: number;
  /** A complete Vega-Lite specification with its data inlined. */
  spec: Record<string, unknown>;
}

/** Default figure size; `autosize: fit` makes the whole figure (axes, legend) exactly this big. */
export const PLOT_WIDTH = 640;
export const PLOT_HEIGHT = 360;

/** The font every figure asks for; the PNG renderer bundles it (see render.ts). */
export const PLOT_FONT = 'DejaVu Sans';

const STRATEGY_COLORS = ['#4c78a8', '#f58518', '#54a24b'];

const strategyColor = {
  field: 'strategy',
  type: 'nominal',
  title: 'strategy',
  scale: { domain: STRATEGIES.map((s) => STRATEGY_LABELS[s]), range: STRATEGY_COLORS },
};

export function plotFrame(
  name: string,
  title: string,
  caption: string,
  body: Record<string, unknown>,
): PlotSpec {
  return {
    name,
    title,
    caption,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: PLOT_WIDTH,
      height: PLOT_HEIGHT,
      autosize: { type: 'fit', contains: 'padding' },
      background: 'white',
      config: { font: PLOT_FONT, view: { stroke: null }, legend: { labelLimit: 320 } },
      ...body,
    },
  };
}

/** The 0..100% accuracy axis every accuracy figure shares. */
const accuracyAxis = {
  field: 'accuracy',
  type: 'quantitative',
  title: 'accuracy',
  scale: { domain: [0, 1] },
  axis: { format: '%' },
};

/** One point per (iteration, data set), with the fields `extra` adds (null leaves it out). */
function accuracyPoints(
  summary: RunSummary,
  extra: (it: RunSummary['iterations'][number]) => Record<string, number> | null,
) {
  return summary.iterations.flatMap((it) => {
    const fields = extra(it);
    if (fields === null) return [];
    return it.evaluations.map((e) => ({
      ...fields,
      iteration: it.iteration,
      dataset: e.dataset,
      accuracy: e.accuracy.accuracy,
    }));
  });
}

/** Accuracy per data set (a line each, 0..1 axis) against `x`: the two accuracy figures' body. */
function accuracyLines(values: readonly object[], x: Record<string, unknown>) {
  return {
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: accuracyAxis,
      color: { field: 'dataset', type: 'nominal', title: 'data set' },
      order: { field: 'iteration' },
    },
  };
}

/** Accuracy on every evaluation data set after each iteration (line per data set). */
export function accuracyByIterationSpec(summary: RunSummary): PlotSpec | null {
  const values = accuracyPoints(summary, () => ({}));
  if (values.length === 0) return null;
  return plotFrame(
    'accuracy-by-iteration',
    'Accuracy by iteration',
    'Accuracy on each evaluation set after each iteration (0 = combined distillation); every item counts, an unparsed answer is wrong.',
    accuracyLines(values, {
      field: 'iteration',
      type: 'ordinal',
      title: 'iteration',
      axis: { labelAngle: 0 },
    }),
  );
}

/**
 * Accuracy against the optimizer steps behind each checkpoint (all earlier iterations' when the
 * student continues): SIKeD's gains read against how much training produced them.
 */
export function accuracyByStepsSpec(summary: RunSummary): PlotSpec | null {
  const values = accuracyPoints(summary, (it) => {
    const steps = cumulativeStepsAt(summary, it.iteration);
    return steps === null ? null : { steps };
  });
  if (values.length === 0) return null;
  return plotFrame(
    'accuracy-by-steps',
    'Accuracy against optimizer steps',
    "Accuracy on each evaluation set against the optimizer steps behind each iteration's checkpoint; compare arms at equal steps, not equal iterations.",
    accuracyLines(values, {
      field: 'steps',
      type: 'quantitative',
      title: 'optimizer steps behind the checkpoint',
    }),
  );
}

/** Figure 1 of the paper: strategy shares of the teacher data vs the students' own choices. */
export function strategyHistogramSpec(summary: RunSummary): PlotSpec | null {
  const values: Array<{ source: string; order: number; strategy: string; share: number }> = [];
  if (summary.teacherCounts) {
    const total = STRATEGIES.reduce((sum, s) => sum + summary.teacherCounts![s], 0);
    if (total > 0) {
      for (const s of STRATEGIES)
        values.push({
          source: 'teacher data',
          order: 0,
          strategy: STRATEGY_LABELS[s],
          share: summary.teacherCounts[s] / total,
        });
    }
  }
  const withShares = summary.iterations.filter((it) => it.greedyValidationShares !== null);
  const shown = new Map<number, (typeof withShares)[number]>();
  if (withShares.length > 0) {
    shown.set(withShares[0].iteration, withShares[0]);
    const last = withShares[withShares.length - 1];
    shown.set(last.iteration, last);
  }
  for (const it of shown.values()) {
    for (const s of STRATEGIES)
      values.push({
        source: `student (greedy), iteration ${it.iteration}`,
        order: 1 + it.iteration,
        strategy: STRATEGY_LABELS[s],
        share: it.greedyValidationShares![s],
      });
  }
  if (values.length === 0) return null;
  return plotFrame(
    'strategy-histogram',
    'Strategy choice: teacher vs student',
    "Share of each strategy in the verified teacher data and in the student's greedy choices on the validation slice after combined distillation and after the last iteration (the paper's Figure 1).",
    {
      data: { values },
      mark: 'bar',
      encoding: {
        x: {
          field: 'source',
          type: 'nominal',
          title: null,
          sort: { field: 'order' },
          axis: { labelAngle: 0 },
        },
        xOffset: {
          field: 'strategy',
          type: 'nominal',
          sort: STRATEGIES.map((s) => STRATEGY_LABELS[s]),
        },
        y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
        color: strategyColor,
      },
    },
  );
}

/**
 * Figure 2 of the paper: the sampling student's strategy distribution P_SM per iteration (all of
 * its k samples), with alpha and KL(P_train || P_SM).
 */
export function strategyDynamicsSpec(summary: RunSummary): PlotSpec | null {
  const bars = summary.iterations
    .filter((it) => it.samplingShares !== null)
    .flatMap((it) =>
      STRATEGIES.map((s) => ({
        iteration: it.iteration,
        strategy: STRATEGY_LABELS[s],
        order: STRATEGIES.indexOf(s),
        share: it.samplingShares![s],
      })),
    );
  const lines = summary.iterations.flatMap((it) => [
    ...(it.alpha === null ? [] : [{ iteration: it.iteration, series: 'alpha', value: it.alpha }]),
    ...(it.klTrainToSampling === null
      ? []
      : [{ iteration: it.iteration, series: 'KL(P_train || P_SM)', value: it.klTrainToSampling }]),
  ]);
  if (bars.length === 0 && lines.length === 0) return null;
  const x = { field: 'iteration', type: 'ordinal', title: 'iteration', axis: { labelAngle: 0 } };
  const layer: Record<string, unknown>[] = [];
  if (bars.length > 0)
    layer.push({
      data: { values: bars },
      mark: { type: 'bar', opacity: 0.85 },
      encoding: {
        x,
        y: {
          field: 'share',
          type: 'quantitative',
          stack: 'zero',
          title: 'P_SM: sampling student strategy share',
          scale: { domain: [0, 1] },
          axis: { format: '%' },
        },
        color: strategyColor,
        order: { field: 'order' },
      },
    });
  if (lines.length > 0)
    layer.push({
      data: { values: lines },
      mark: { type: 'line', color: 'black', point: { color: 'black', filled: true } },
      encoding: {
        x,
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'alpha (0..1) and KL (nats)',
          scale: { zero: true },
        },
        strokeDash: { field: 'series', type: 'nominal', title: 'line' },
        shape: { field: 'series', type: 'nominal', title: 'line' },
      },
    });
  return plotFrame(
    'strategy-dynamics',
    'Strategy distribution, alpha and KL over iterations',
    "Bars: P_SM, the strategy shares of all k samples of the student whose samples built the iteration's self data (none at iteration 0). Lines: the mixing rate alpha and KL(P_train || P_SM) (the paper's Figure 2).",
    { layer, resolve: { scale: { y: 'independent' } } },
  );
}

/** Accuracy of each strategy among the answers that used it, per data set, at the last iteration. */
export function perStrategyAccuracySpec(summary: RunSummary): PlotSpec | null {
  const last = [...summary.iterations].reverse().find((it) => it.evaluations.length > 0);
  if (!last) return null;
  const values = last.evaluations.flatMap((e) =>
    STRATEGIES.filter((s) => e.accuracy.byStrategy[s].accuracy !== null).map((s) => ({
      dataset: e.dataset,
      strategy: STRATEGY_LABELS[s],
      accuracy: e.accuracy.byStrategy[s].accuracy,
      count: e.accuracy.byStrategy[s].count,
    })),
  );
  if (values.length === 0) return null;
  return plotFrame(
    'per-strategy-accuracy',
    `Accuracy per strategy (iteration ${last.iteration})`,
    'Accuracy of each strategy among the answers where the student chose it, per evaluation set, after the last iteration.',
    {
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'dataset', type: 'nominal', title: 'data set', axis: { labelAngle: 0 } },
        xOffset: {
          field: 'strategy',
          type: 'nominal',
          sort: STRATEGIES.map((s) => STRATEGY_LABELS[s]),
        },
        y: accuracyAxis,
        color: strategyColor,
        tooltip: [{ field: 'count', type: 'quantitative', title: 'answers' }],
      },
    },
  );
}

/** Training loss per optimizer step, one line per iteration, steps counted across the run. */
export function lossCurveSpec(summary: RunSummary): PlotSpec | null {
  if (summary.training.length === 0) return null;
  const values: Array<{ step: number; iteration: number; loss: number }> = [];
  let offset = 0;
  let previousIteration: number | null = null;
  let lastStep = 0;
  for (const point of summary.training) {
    if (previousIteration !== null && point.iteration !== previousIteration) offset += lastStep;
    previousIteration = point.iteration;
    lastStep = point.step;
    values.push({ step: offset + point.step, iteration: point.iteration, loss: point.loss });
  }
  return plotFrame(
    'loss-curve',
    'Training loss',
    'Mean cross-entropy on the target tokens per optimizer step; steps run on across iterations.',
    {
      data: { values },
      mark: { type: 'line', point: values.length <= 60 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'optimizer step (whole run)' },
        y: {
          field: 'loss',
          type: 'quantitative',
          title: 'loss (nats/token)',
          scale: { zero: false },
        },
        color: { field: 'iteration', type: 'ordinal', title: 'iteration' },
      },
    },
  );
}

/** Every figure the run has data for, in report order. */
export function reportPlotSpecs(summary: RunSummary): PlotSpec[] {
  return [
    accuracyByIterationSpec(summary),
    accuracyByStepsSpec(summary),
    strategyHistogramSpec(summary),
    strategyDynamicsSpec(summary),
    perStrategyAccuracySpec(summary),
    lossCurveSpec(summary),
  ].filter((plot): plot is PlotSpec => plot !== null);
}
