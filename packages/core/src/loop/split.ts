import { shuffledIndices } from '../student/batching';
import type { Problem } from '../types';

/** The training questions divided into the part trained on and the held-out validation slice. */
export interface ValidationSplit {
  train: Problem[];
  validation: Problem[];
}

/**
 * Holds out `fraction` of the TRAINING questions (seeded shuffle; at least one when there are two
 * or more) for checkpoint choice and early stopping. Both parts keep the input order.
 */
export function splitValidation(
  problems: readonly Problem[],
  fraction: number,
  seed: number,
): ValidationSplit {
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const count = problems.length < 2 ? 0 : Math.max(1, Math.round(fraction * problems.length));
  const heldOut = new Set(shuffledIndices(problems.length, seed).slice(0, count));
  return {
    train: problems.filter((_, i) => !heldOut.has(i)),
    validation: problems.filter((_, i) => heldOut.has(i)),
  };
}
