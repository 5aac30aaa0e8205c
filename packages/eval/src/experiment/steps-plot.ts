// Accuracy against the optimizer steps behind each checkpoint, one line per arm: the figure that
// separates "SIKeD helps" from "more training helps" (a compute-matched control sits on the same
// x positions as SIKeD-sparse).
import { plotFrame, type PlotSpec } from '../plots/specs';
import type { ExperimentSummary } from './summarize';

/**
 * One figure per quantity (`test` = the in-distribution set, `ood` = the mean over OOD sets);
 * null when no row has both a step count and the accuracy.
 */
export function accuracyVsStepsSpec(
  summary: ExperimentSummary,
  quantity: 'test' | 'ood',
): PlotSpec | null {
  const values = summary.methods.flatMap((r) => {
    if (typeof r.method.iteration !== 'number' || r.cumulativeSteps === null) return [];
    const accuracy = quantity === 'test' ? r.accuracy[summary.inDistribution] : r.oodMean;
    if (!accuracy) return [];
    return [
      {
        arm: r.method.arm,
        iteration: r.method.iteration,
        steps: r.cumulativeSteps.mean,
        accuracy: accuracy.mean,
        low: Math.max(0, accuracy.mean - accuracy.std),
        high: Math.min(1, accuracy.mean + accuracy.std),
      },
    ];
  });
  if (values.length === 0) return null;
  const name = quantity === 'test' ? summary.inDistribution : 'mean over OOD splits';
  const x = {
    field: 'steps',
    type: 'quantitative',
    title: 'optimizer steps behind the checkpoint',
  };
  const color = { field: 'arm', type: 'nominal', title: 'arm' };
  return plotFrame(
    `accuracy-vs-steps-${quantity}`,
    `Accuracy (${name}) against optimizer steps`,
    `Mean accuracy over seeds (bars: ± one std) of every arm's checkpoints against the optimizer steps behind them; points along a line are that arm's iterations.`,
    {
      data: { values },
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: {
              field: 'accuracy',
              type: 'quantitative',
              title: `accuracy (${name})`,
              axis: { format: '%' },
            },
            color,
            order: { field: 'iteration' },
          },
        },
        {
          mark: { type: 'rule', opacity: 0.5 },
          encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
        },
      ],
    },
  );
}
