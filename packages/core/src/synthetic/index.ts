// Public API of the synthetic world (docs/SYNTHETIC_WORLD.md), re-exported by src/index.ts.
export {
  SYNTHETIC_FAMILIES,
  applyOperator,
  evaluateSteps,
  formatNumber,
  readSyntheticComputation,
  solveForwardEquation,
  type ComputationStep,
  type ForwardEquation,
  type Operand,
  type Operator,
  type SyntheticComputation,
  type SyntheticFamily,
  type SyntheticProblemMeta,
} from './computation';
export {
  FAMILY_NUMBER_RANGES,
  sameRangesForEveryFamily,
  type FamilyDraft,
  type FamilyNumberRanges,
  type FamilyRequest,
  type NumberRange,
  type NumberRanges,
  type Variants,
} from './grammar';
export { FAMILY_GENERATORS } from './families';
export {
  IN_DISTRIBUTION_STEPS,
  SHIFTED_NUMBER_RANGES,
  SYNTHETIC_SPLIT_NAMES,
  generateSplit,
  generateSyntheticSplits,
  questionKey,
  syntheticSplitSpecs,
  type SplitSpec,
  type SyntheticSplitName,
} from './generator';
export { RandomStream, hashString } from './random';
export {
  drawMistake,
  writeCot,
  writeL2m,
  writePot,
  writeSolution,
  type SurfaceStyle,
  type TeacherMistake,
  type WrittenSolution,
} from './solutions';
export {
  DEFAULT_TEACHER_ERROR_RATES,
  PERFECT_TEACHER_ERROR_RATES,
  SyntheticTeacher,
  validateErrorRates,
  type AnnotatedTeacherSample,
  type StrategyErrorRates,
  type SyntheticTeacherOptions,
  type TeacherErrorRates,
} from './teacher';
export {
  PRE_TOKENIZER_PATTERN,
  SPACE_MARKER,
  SPECIAL_TOKENS,
  STRATEGY_TAG_TOKENS,
  WordLevelTokenizer,
  buildWordLevelTokenizer,
  splitIntoPieces,
  tokenizerConfigJson,
  type AddedTokenJson,
  type BuildTokenizerOptions,
  type WordLevelTokenizerJson,
} from './tokenizer';
export {
  SYNTHETIC_PRESETS,
  llamaParameterCount,
  syntheticPreset,
  type SyntheticModelConfig,
  type PretrainingDocumentCounts,
  type SyntheticModelShape,
  type SyntheticPreset,
  type SyntheticPresetName,
  type SyntheticPretrainingSettings,
  type SyntheticRunSettings,
  type SyntheticTrainingSettings,
} from './presets';
export {
  SYNTHETIC_STUDENT_TEMPLATE,
  buildSyntheticWorld,
  writeSyntheticModelFiles,
  type SyntheticStudentTemplate,
  type SyntheticWorld,
  type SyntheticWorldOptions,
} from './world';
export { difficultyProfile, type DifficultyProfile, type StrategyProfile } from './profile';
export { writeSyntheticBaseModel, type SyntheticBaseModelOptions } from './base-model';
export {
  buildPretrainingCorpus,
  corpusDocuments,
  defaultPretrainCacheDir,
  languageModelLoss,
  pretrainSyntheticBase,
  pretrainingHash,
  type PretrainEvent,
  type PretrainingCorpus,
  type PretrainingCorpusOptions,
  type PretrainingSummary,
  type PretrainOptions,
} from './pretrain';
