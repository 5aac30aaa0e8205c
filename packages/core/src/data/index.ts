// Public API of the data module: loaders that turn GSM8K, SVAMP, ASDiv, MultiArith and plain
// JSONL into Problem records, and our own Problem JSONL. Re-exported by src/index.ts.
export {
  DataFormatError,
  type CommonLoadOptions,
  type ExcludedRecord,
  type ExclusionReason,
  type LoadResult,
  type SkippedRecord,
} from './load-result';
export {
  gsm8kReferenceAsCot,
  gsm8kSocraticAsL2m,
  loadGsm8k,
  type Gsm8kLoadOptions,
  type Gsm8kMeta,
  type Gsm8kVariant,
} from './gsm8k';
export { loadSvamp } from './svamp';
export {
  classifyAsdivAnswer,
  loadAsdiv,
  readAsdivFoldIds,
  type AsdivAnswer,
  type AsdivLoadOptions,
} from './asdiv';
export { loadMultiArith } from './multiarith';
export { loadJsonl, type JsonlFieldMapping, type JsonlLoadOptions } from './jsonl';
export { readProblemsJsonl, validateProblem, writeProblemsJsonl } from './problems-jsonl';
export {
  DATASET_FORMATS,
  isDatasetFormat,
  loadDataset,
  type DatasetFormat,
  type LoadDatasetOptions,
} from './load-dataset';
