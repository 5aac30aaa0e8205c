import {
  PLOT_HEIGHT,
  PLOT_WIDTH,
  accuracyByIterationSpec,
  accuracyByStepsSpec,
  lossCurveSpec,
  perStrategyAccuracySpec,
  reportPlotSpecs,
  strategyDynamicsSpec,
  strategyHistogramSpec,
  type PlotSpec,
} from '@siked/eval';
import { sampleSummary } from './summary-fixture';

type Row = Record<string, unknown>;
function rows(plot: PlotSpec | null, layer?: number): Row[] {
  if (!plot) throw new Error('expected a plot');
  const spec = plot.spec as {
    data?: { values: Row[] };
    layer?: Array<{ data: { values: Row[] } }>;
  };
  return layer === undefined ? spec.data!.values : spec.layer![layer].data.values;
}

describe('plot specifications', () => {
  it('size every figure exactly (autosize fit, padding included)', () => {
    const plots = reportPlotSpecs(sampleSummary());
    expect(plots.map((p) => p.name)).toEqual([
      'accuracy-by-iteration',
      'accuracy-by-steps',
      'strategy-histogram',
      'strategy-dynamics',
      'per-strategy-accuracy',
      'loss-curve',
    ]);
    for (const plot of plots) {
      expect(plot.spec).toMatchObject({
        width: PLOT_WIDTH,
        height: PLOT_HEIGHT,
        autosize: { type: 'fit', contains: 'padding' },
      });
    }
  });

  it('plot accuracy against the optimizer steps behind each checkpoint', () => {
    // steps 20, 15, 12: the checkpoints have 20, 35 and 47 steps behind them
    expect(rows(accuracyByStepsSpec(sampleSummary()))).toEqual([
      { steps: 20, iteration: 0, dataset: 'test', accuracy: 0.3 },
      { steps: 35, iteration: 1, dataset: 'test', accuracy: 0.5 },
      { steps: 47, iteration: 2, dataset: 'test', accuracy: 0.6 },
      { steps: 47, iteration: 2, dataset: 'ood|pipe', accuracy: 0.5 },
    ]);
  });

  it('plot accuracy per data set and iteration', () => {
    expect(rows(accuracyByIterationSpec(sampleSummary()))).toEqual([
      { iteration: 0, dataset: 'test', accuracy: 0.3 },
      { iteration: 1, dataset: 'test', accuracy: 0.5 },
      { iteration: 2, dataset: 'test', accuracy: 0.6 },
      { iteration: 2, dataset: 'ood|pipe', accuracy: 0.5 },
    ]);
  });

  it('compare teacher shares with the first and last student (Figure 1)', () => {
    const values = rows(strategyHistogramSpec(sampleSummary()));
    expect(values.filter((v) => v.source === 'teacher data').map((v) => v.share)).toEqual([
      0.5, 0.25, 0.25,
    ]);
    expect([...new Set(values.map((v) => v.source))]).toEqual([
      'teacher data',
      'student (greedy), iteration 0',
      'student (greedy), iteration 2',
    ]);
  });

  it('stack the sampling student shares P_SM and draw alpha and KL lines (Figure 2)', () => {
    const plot = strategyDynamicsSpec(sampleSummary());
    // iteration 0 has no sampling student: bars for iterations 1 and 2 only
    expect(rows(plot, 0)).toHaveLength(6);
    expect(rows(plot, 0)[0]).toEqual({ iteration: 1, strategy: 'CoT', order: 0, share: 0.7 });
    expect(rows(plot, 1)).toEqual([
      { iteration: 1, series: 'alpha', value: 0.75 },
      { iteration: 1, series: 'KL(P_train || P_SM)', value: 0.3 },
      { iteration: 2, series: 'alpha', value: 0.25 },
      { iteration: 2, series: 'KL(P_train || P_SM)', value: 0.1 },
    ]);
  });

  it('show per-strategy accuracy of the last iteration, leaving unused strategies out', () => {
    const plot = perStrategyAccuracySpec(sampleSummary());
    expect(plot!.title).toBe('Accuracy per strategy (iteration 2)');
    expect(rows(plot)).toEqual([
      { dataset: 'test', strategy: 'CoT', accuracy: 0.6, count: 5 },
      { dataset: 'test', strategy: 'PoT', accuracy: 0.6, count: 5 },
      { dataset: 'ood|pipe', strategy: 'CoT', accuracy: 0.5, count: 2 },
      { dataset: 'ood|pipe', strategy: 'PoT', accuracy: 0.5, count: 2 },
    ]);
  });

  it('number loss steps across iterations', () => {
    expect(rows(lossCurveSpec(sampleSummary())).map((v) => v.step)).toEqual([1, 2, 3]);
  });

  it('leave out figures the run has no data for', () => {
    const empty = { ...sampleSummary(), teacherCounts: null, iterations: [], training: [] };
    expect(reportPlotSpecs(empty)).toEqual([]);
  });
});
