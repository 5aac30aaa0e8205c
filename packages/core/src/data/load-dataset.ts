// One entry point for every data set format, for the CLI (`siked data`) and the loop.
import { loadAsdiv, type AsdivLoadOptions } from './asdiv';
import { loadGsm8k, type Gsm8kLoadOptions } from './gsm8k';
import { loadJsonl, type JsonlLoadOptions } from './jsonl';
import type { LoadResult } from './load-result';
import { loadMultiArith } from './multiarith';
import { readProblemsJsonl } from './problems-jsonl';
import { loadSvamp } from './svamp';

/** The data set formats {@link loadDataset} reads. `problems` is our own Problem JSONL. */
export const DATASET_FORMATS = [
  'gsm8k',
  'svamp',
  'asdiv',
  'multiarith',
  'jsonl',
  'problems',
] as const;

/** One of {@link DATASET_FORMATS}. */
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** The union of every loader's options; each loader reads the ones it knows. */
export type LoadDatasetOptions = Gsm8kLoadOptions & AsdivLoadOptions & JsonlLoadOptions;

/** True when `value` names a data set format. */
export function isDatasetFormat(value: unknown): value is DatasetFormat {
  return (DATASET_FORMATS as readonly unknown[]).includes(value);
}

/** Loads `file` as a data set of the given format (see each loader for its defaults). */
export async function loadDataset(
  format: DatasetFormat,
  file: string,
  options: LoadDatasetOptions = {},
): Promise<LoadResult> {
  switch (format) {
    case 'gsm8k':
      return loadGsm8k(file, options);
    case 'svamp':
      return loadSvamp(file, options);
    case 'asdiv':
      return loadAsdiv(file, options);
    case 'multiarith':
      return loadMultiArith(file, options);
    case 'jsonl':
      return loadJsonl(file, options);
    case 'problems':
      return readProblemsJsonl(file, options);
    default:
      throw new Error(
        `unknown data set format "${String(format)}"; expected one of ${DATASET_FORMATS.join(', ')}`,
      );
  }
}
