/**
 * @siked/eval: metrics, strategy statistics, plots and reports. The package's only public surface.
 */
export { summarizeAccuracy, type AccuracySummary, type StrategyAccuracy } from './accuracy';
