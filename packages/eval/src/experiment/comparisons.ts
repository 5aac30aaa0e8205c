// SIKeD minus each control, per data set, as paired bootstrap intervals over seeds and problems.
import { pairedBootstrap, type BootstrapInterval, type PairedSeedOutcomes } from './bootstrap';
import type { ExperimentSummary, MethodResult, PredictionRecord } from './summarize';

/** A comparison to make: two method rows, by label. */
export interface ComparisonSpec {
  treatment: string;
  control: string;
}

/** treatment - control per data set (and `OOD mean`: every OOD problem pooled, paired). */
export interface Comparison extends ComparisonSpec {
  intervals: Record<string, BootstrapInterval | null>;
}

/** The key of the pooled out-of-distribution interval in {@link Comparison.intervals}. */
export const OOD_POOLED = 'OOD mean';

function answersOf(
  result: MethodResult,
  seed: number,
  datasets: readonly string[],
): Map<string, boolean> | null {
  const pick = result.picks.find((p) => p.seed === seed);
  const byDataset = pick?.run.predictions?.get(pick.iteration);
  if (!byDataset) return null;
  const answers = new Map<string, boolean>();
  for (const dataset of datasets) {
    const records: PredictionRecord[] | undefined = byDataset.get(dataset);
    if (!records) return null;
    for (const r of records) answers.set(`${dataset}\u0000${r.problemId}`, r.correct);
  }
  return answers;
}

/** Paired outcomes of two rows on `datasets`, for every seed both have answers for. */
function pairedOutcomes(
  treatment: MethodResult,
  control: MethodResult,
  datasets: readonly string[],
): PairedSeedOutcomes[] {
  const outcomes: PairedSeedOutcomes[] = [];
  for (const { seed } of treatment.picks) {
    const a = answersOf(treatment, seed, datasets);
    const b = answersOf(control, seed, datasets);
    if (!a || !b) continue;
    const shared = [...a.keys()].filter((key) => b.has(key)).sort();
    outcomes.push({ seed, a: shared.map((k) => a.get(k)!), b: shared.map((k) => b.get(k)!) });
  }
  return outcomes;
}

/**
 * One interval per data set (and the pooled OOD) for each spec whose two rows exist. Rows that
 * are missing (an arm not run) are skipped; an interval is null where answers are missing.
 */
export function compareMethods(
  summary: ExperimentSummary,
  specs: readonly ComparisonSpec[],
  options: { resamples?: number; seed?: number } = {},
): Comparison[] {
  const byLabel = new Map(summary.methods.map((m) => [m.method.label, m]));
  const datasets = [summary.inDistribution, ...summary.outOfDistribution];
  const comparisons: Comparison[] = [];
  for (const spec of specs) {
    const treatment = byLabel.get(spec.treatment);
    const control = byLabel.get(spec.control);
    if (!treatment || !control) continue;
    const intervals: Record<string, BootstrapInterval | null> = {};
    for (const dataset of datasets)
      intervals[dataset] = pairedBootstrap(pairedOutcomes(treatment, control, [dataset]), options);
    if (summary.outOfDistribution.length > 0) {
      intervals[OOD_POOLED] = pairedBootstrap(
        pairedOutcomes(treatment, control, summary.outOfDistribution),
        options,
      );
    }
    comparisons.push({ ...spec, intervals });
  }
  return comparisons;
}
