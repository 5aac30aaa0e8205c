import type { TrainingSchedule } from './types';

/**
 * Learning rate at optimizer step `step` (0-based) of `totalSteps`: linear warmup from 0 over
 * round(warmupRatio * totalSteps) steps (step s gets peak * (s + 1) / warmup), then a cosine
 * decay from the peak to peak * minLearningRateRatio at the last step.
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  schedule: Pick<TrainingSchedule, 'learningRate' | 'warmupRatio' | 'minLearningRateRatio'>,
): number {
  const peak = schedule.learningRate;
  const floor = peak * schedule.minLearningRateRatio;
  const warmupSteps = Math.round(schedule.warmupRatio * totalSteps);
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const decaySteps = totalSteps - warmupSteps - 1;
  const progress = decaySteps <= 0 ? 0 : Math.min(1, (step - warmupSteps) / decaySteps);
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
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
  if (!Number.isInteger(schedule.seed))
    throw new RangeError(`schedule.seed must be an integer, got ${schedule.seed}`);
}
