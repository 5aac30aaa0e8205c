// Public API of this module, re-exported by src/index.ts.
export {
  runSettingsSchema,
  trainingSettingsSchema,
  resolveRunSettings,
  type RunSettings,
  type RunSettingsInput,
} from './settings';
export type { IterationEvaluation, SampleRecord, SplitRecord } from './records';
export { runSiked } from './controller';
export { runDirLockHolder } from './lock';
export { describeDifferences } from './differences';
export { strategyDynamics, type StrategyDynamics } from './strategy-dynamics';
export { forkRunAfterIteration0 } from './fork';
export type { SikedRunOptions, SikedRunResult, StudentTextFormat } from './run-options';
export {
  evaluateOnProblems,
  summarizeEvaluation,
  type DatasetEvaluationSummary,
  type EvaluationOptions,
  type EvaluationRecord,
  type StrategyUsage,
} from './evaluate';
export type { LoopEvent, LoopEventListener } from './events';
export {
  readManifest,
  manifestPath,
  type ArtefactRecord,
  type RunManifest,
  type RunStatus,
  type StageRecord,
} from './manifest';
export { splitValidation, type ValidationSplit } from './split';
export { writeFileAtomic, writeJsonAtomic, writeJsonLinesAtomic, writeDirAtomic } from './atomic';
export { benchmarkLoop, type LoopBenchmarkOptions, type LoopBenchmarkResult } from './bench';
