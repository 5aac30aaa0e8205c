import type { Strategy } from '@siked/core';

/** How each strategy is written in figures, tables and pages. */
export const STRATEGY_LABELS: Readonly<Record<Strategy, string>> = {
  cot: 'CoT',
  l2m: 'L2M',
  pot: 'PoT',
};
