// Builds the whole synthetic world for a preset and a seed: the splits, the teacher, the
// student's text template, the tokenizer and the student's config.json.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { STRATEGIES, type Problem } from '../types';
import { readSyntheticComputation } from './computation';
import { FAMILY_NUMBER_RANGES, type FamilyNumberRanges } from './grammar';
import { generateSyntheticSplits, syntheticSplitSpecs, type SplitSpec } from './generator';
import {
  llamaParameterCount,
  syntheticPreset,
  type SyntheticModelConfig,
  type SyntheticPreset,
  type SyntheticPresetName,
} from './presets';
import { writeSolution } from './solutions';
import { SyntheticTeacher, type TeacherErrorRates } from './teacher';
import {
  buildWordLevelTokenizer,
  tokenizerConfigJson,
  WordLevelTokenizer,
  type WordLevelTokenizerJson,
} from './tokenizer';

/**
 * A student text template (the shape `StudentFormat.fromObject` in the strategies module takes):
 * `prompt` with `{question}`, the strategy tags that start each target, optional `eos` text and
 * stop sequences.
 */
export interface SyntheticStudentTemplate {
  name: string;
  description?: string;
  prompt: string;
  tags: { cot: string; l2m: string; pot: string };
  eos?: string;
  stop?: string[];
}

/**
 * The student's text template in the synthetic world: as short as possible, since every prompt
 * token costs a from-scratch model capacity and time. Pass it to `StudentFormat.fromObject`.
 */
export const SYNTHETIC_STUDENT_TEMPLATE: SyntheticStudentTemplate = {
  name: 'synthetic',
  description:
    "The synthetic world's short student format (same tags and solution formats as the full template).",
  prompt: 'Q: {question}\nA: ',
  tags: { cot: '[cot]: ', l2m: '[l2m]: ', pot: '[pot]: ' },
  eos: '',
  stop: ['\nQ: '],
};

/** Options of {@link buildSyntheticWorld}. */
export interface SyntheticWorldOptions {
  /** Teacher error rates (default: the teacher's defaults). */
  teacherErrorRates?: TeacherErrorRates;
  /** In-distribution number ranges of some families (the `ood-numbers` split keeps its own). */
  numbers?: Partial<FamilyNumberRanges>;
}

/** Everything a run in the synthetic world needs. */
export interface SyntheticWorld {
  preset: SyntheticPreset;
  seed: number;
  /** Problems per split name (`train`, `validation`, `test`, `ood-*`). */
  splits: Record<string, Problem[]>;
  /** How each split was drawn (for reports). */
  splitSpecs: SplitSpec[];
  teacher: SyntheticTeacher;
  /** The student's prompt/target template (for `StudentFormat.fromObject`). */
  studentTemplate: SyntheticStudentTemplate;
  /** tokenizer.json content (Hugging Face `tokenizers` format). */
  tokenizerJson: WordLevelTokenizerJson;
  /** tokenizer_config.json content. */
  tokenizerConfig: Record<string, unknown>;
  /** The tokenizer's reference implementation over `tokenizerJson`. */
  tokenizer: WordLevelTokenizer;
  /** config.json of the from-scratch student. */
  modelConfig: SyntheticModelConfig;
  /** Parameters of that student (tied embeddings). */
  parameterCount: number;
}

/**
 * Texts whose pieces the tokenizer must know: every question, every strategy's error-free
 * solution in each surface style (teacher mistakes only change digits, which are always in the
 * vocabulary), and the template's fixed text.
 */
function* worldCorpus(
  splits: Record<string, Problem[]>,
  template: SyntheticStudentTemplate,
): Generator<string> {
  yield template.prompt.replace('{question}', ' ');
  for (const tag of Object.values(template.tags)) yield tag;
  for (const stop of template.stop ?? []) yield stop;
  for (const problems of Object.values(splits)) {
    for (const problem of problems) {
      yield template.prompt.replace('{question}', problem.question);
      const computation = readSyntheticComputation(problem);
      for (const strategy of STRATEGIES) {
        for (const l2mFullSentences of [false, true]) {
          for (const potSeparateAnswerLine of [false, true]) {
            const style = { l2mFullSentences, potSeparateAnswerLine };
            // As the student sees it: after its tag (the first word then carries a space).
            yield `${template.tags[strategy]}${writeSolution(computation, strategy, style).text}`;
          }
        }
      }
    }
  }
}

/**
 * Builds the synthetic world of a preset (`tiny`, `demo`, `full`, or a custom preset object) for
 * a seed. The same (preset, seed, options) always gives the same problems, teacher samples,
 * tokenizer ids and config.
 */
export function buildSyntheticWorld(
  preset: SyntheticPresetName | SyntheticPreset,
  seed: number,
  options: SyntheticWorldOptions = {},
): SyntheticWorld {
  const resolved = typeof preset === 'string' ? syntheticPreset(preset) : preset;
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const splitSpecs = syntheticSplitSpecs(resolved.splitSizes, {
    ...FAMILY_NUMBER_RANGES,
    ...options.numbers,
  });
  const splits = generateSyntheticSplits(splitSpecs, seed);
  const teacher = new SyntheticTeacher({ seed, errorRates: options.teacherErrorRates });
  const studentTemplate = SYNTHETIC_STUDENT_TEMPLATE;
  const tokenizerJson = buildWordLevelTokenizer(worldCorpus(splits, studentTemplate));
  const tokenizer = new WordLevelTokenizer(tokenizerJson);
  const modelConfig: SyntheticModelConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tokenizer.vocabSize,
    ...resolved.model,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: null,
    eos_token_id: tokenizer.eosId,
    pad_token_id: tokenizer.padId,
    torch_dtype: 'float32',
  };
  return {
    preset: resolved,
    seed,
    splits,
    splitSpecs,
    teacher,
    studentTemplate,
    tokenizerJson,
    tokenizerConfig: tokenizerConfigJson(resolved.model.max_position_embeddings),
    tokenizer,
    modelConfig,
    parameterCount: llamaParameterCount(resolved.model, tokenizer.vocabSize),
  };
}

/**
 * Writes the student's Hugging Face files into `dir` (created if needed): `config.json`,
 * `tokenizer.json` and `tokenizer_config.json`. Together with the engine's `model.safetensors`
 * they make a checkpoint folder that Hugging Face tools load. Each file is written to a
 * temporary name and renamed, so a crash never leaves half a file.
 */
export async function writeSyntheticModelFiles(
  world: SyntheticWorld,
  dir: string,
): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: Array<[string, unknown]> = [
    ['config.json', world.modelConfig],
    ['tokenizer.json', world.tokenizerJson],
    ['tokenizer_config.json', world.tokenizerConfig],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const target = path.join(dir, name);
    const temporary = `${target}.tmp-${process.pid}`;
    await fs.writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`);
    await fs.rename(temporary, target);
    written.push(target);
  }
  return written;
}
