// Public API of this module, re-exported by src/index.ts.
export { normalizeSolutionText, dedupeSolutions, keepOnePerQuestionAndStrategy } from './dedupe';
export {
  countStrategies,
  strategyDistribution,
  klDivergence,
  smoothedKlDivergence,
  mixtureDistribution,
  DEFAULT_KL_PSEUDO_COUNT,
  type StrategyCounts,
  type StrategyDistribution,
} from './statistics';
export { mixTrainingSet, MIXING_MODES, type MixingMode, type MixedTrainingSet } from './mix';
