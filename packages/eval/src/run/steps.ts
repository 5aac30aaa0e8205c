// The optimizer steps behind a run's checkpoints: what a fair comparison of arms must hold equal.
import type { RunSummary } from './types';

/** Steps in the history of iteration `t`'s checkpoint (null when a step count is missing). */
export function cumulativeStepsAt(summary: RunSummary, t: number): number | null {
  // A restarted iteration trains the base model again, so only its own steps are behind it.
  const restart = summary.config.studentInit === 'restart';
  const history = summary.iterations.filter((it) =>
    restart ? it.iteration === t : it.iteration <= t,
  );
  if (history.length === 0 || history.some((it) => it.trainSteps === null)) return null;
  return history.reduce((sum, it) => sum + it.trainSteps!, 0);
}
