import type { TrainingSchedule } from './types';

/**
 * Learning rate at optimizer step `step` (0-based) of `totalSteps`: linear warmup from 0 over
 * `warmupSteps` steps, or round(warmupRatio * totalSteps) (step s gets peak * (s + 1) / warmup),
 * then, as `lrScheduler` says, a cosine (default) or linear decay from the peak to
 * peak * minLearningRateRatio at the last step, or the peak held (constant).
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  schedule: Pick<
    TrainingSchedule,
    'learningRate' | 'warmupRatio' | 'warmupSteps' | 'minLearningRateRatio' | 'lrScheduler'
  >,
): number {
  const peak = schedule.learningRate;
  const floor = peak * schedule.minLearningRateRatio;
  const warmupSteps = Math.min(
    totalSteps,
    schedule.warmupSteps ?? Math.round(schedule.warmupRatio * totalSteps),
  );
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const scheduler = schedule.lrScheduler ?? 'cosine';
  if (scheduler === 'constant') return peak;
  const decaySteps = totalSteps - warmupSteps - 1;
  const progress = decaySteps <= 0 ? 0 : Math.min(1, (step - warmupSteps) / decaySteps);
  const shape = scheduler === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return floor + (peak - floor) * shape;
}

/** Checks a schedule's ranges; the error names the field. */
export function validateSchedule(schedule: TrainingSchedule): void {
  const positiveInts: Array<
    'epochs' | 'microBatchSize' | 'gradientAccumulation' | 'maxSequenceLength'
  > = ['epochs', 'microBatchSize', 'gradientAccumulation', 'maxSequenceLength'];
  for (const field of positiveInts) {
    const value = schedule[field];
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`schedule.${field} must be an integer >= 1, got ${value}`);
  }
  if (schedule.steps !== undefined && !(Number.isInteger(schedule.steps) && schedule.steps >= 1))
    throw new RangeError(`schedule.steps must be an integer >= 1, got ${schedule.steps}`);
  if (!(schedule.learningRate > 0))
    throw new RangeError(`schedule.learningRate must be > 0, got ${schedule.learningRate}`);
  if (!(schedule.warmupRatio >= 0 && schedule.warmupRatio < 1)) {
    throw new RangeError(`schedule.warmupRatio must be in [0, 1), got ${schedule.warmupRatio}`);
  }
  if (!(schedule.minLearningRateRatio >= 0 && schedule.minLearningRateRatio <= 1)) {
    throw new RangeError(
      `schedule.minLearningRateRatio must be in [0, 1], got ${schedule.minLearningRateRatio}`,
    );
  }
  if (
    schedule.warmupSteps !== undefined &&
    !(Number.isInteger(schedule.warmupSteps) && schedule.warmupSteps >= 0)
  )
    throw new RangeError(
      `schedule.warmupSteps must be an integer >= 0, got ${schedule.warmupSteps}`,
    );
  for (const field of ['weightDecay', 'maxGradNorm'] as const) {
    const value = schedule[field];
    if (value !== undefined && !(value >= 0))
      throw new RangeError(`schedule.${field} must be >= 0, got ${value}`);
  }
  if (!Number.isInteger(schedule.seed))
    throw new RangeError(`schedule.seed must be an integer, got ${schedule.seed}`);
}
