/**
 * @siked/eval: metrics, strategy statistics, plots and reports. The package's only public surface.
 */
export {
  summarizeAccuracy,
  type AccuracySummary,
  type GradedPrediction,
  type StrategyAccuracy,
} from './accuracy';
export type {
  RunSummary,
  IterationSummary,
  DatasetEvaluation,
  TrainingPoint,
  StrategyShares,
} from './run/types';
export {
  reportPlotSpecs,
  accuracyByIterationSpec,
  accuracyByStepsSpec,
  strategyHistogramSpec,
  strategyDynamicsSpec,
  perStrategyAccuracySpec,
  lossCurveSpec,
  plotFrame,
  PLOT_WIDTH,
  PLOT_HEIGHT,
  PLOT_FONT,
  type PlotSpec,
} from './plots/specs';
export {
  renderSvg,
  svgToPng,
  MAX_PNG_PIXELS,
  renderPlot,
  bundledFontFiles,
  type PngOptions,
  type RenderedPlot,
} from './plots/render';
export { loadVega } from './plots/vega-loader';
export { buildHtmlReport, escapeHtml, type ReportFigure } from './report/html';
export { buildMarkdownSummary, markdownTable } from './report/markdown';
export { STRATEGY_LABELS } from './strategy-labels';
export { reportTables, percent, type Table } from './report/tables';
export { writeReport, type WrittenReport } from './report/write-report';
export {
  loadRunSummary,
  parseIterationEval,
  parseTrainingMetrics,
  countTeacherStrategies,
} from './run/load-run';
export { RunFileError } from './run/fields';
export { loadRunPredictions } from './run/load-predictions';
export { cumulativeStepsAt } from './run/steps';
export {
  summarizeExperiment,
  meanStd,
  type PredictionRecord,
  type RunPredictions,
  type ExperimentRun,
  type ExperimentSummary,
  type MeanStd,
  type MethodResult,
  type MethodSpec,
} from './experiment/summarize';
export {
  formatExperimentMarkdown,
  formatMeanStd,
  formatInterval,
  type ExperimentContext,
} from './experiment/markdown';
export {
  pairedBootstrap,
  type BootstrapInterval,
  type PairedSeedOutcomes,
} from './experiment/bootstrap';
export {
  compareMethods,
  OOD_POOLED,
  type Comparison,
  type ComparisonSpec,
} from './experiment/comparisons';
export {
  familyTable,
  type FamilyRow,
  type FamilyTable,
  type FamilyTableOptions,
} from './experiment/families';
export { soundnessTable, type SoundnessRow } from './experiment/soundness';
export { writeFindings } from './experiment/findings';
export { accuracyVsStepsSpec } from './experiment/steps-plot';
