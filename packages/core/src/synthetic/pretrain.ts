// The synthetic world's pretrained base model: the engine trains the from-scratch student as a
// language model on the world's unlabelled text (pretrain-corpus.ts) once per world and seed,
// so that distillation fine-tunes a model that already reads the world's problems, numbers and
// code instead of learning them from scratch. The checkpoint is cached by a content hash of
// everything that decides its weights, so every arm of an experiment reuses one copy.
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model, parseModelConfig } from '@siked/native-cuda';
import { EngineStudent } from '../student/engine-student';
import { HfTokenizer } from '../student/tokenizer';
import type { Student, TrainingSchedule, TrainProgress } from '../student/types';
import { buildPretrainingCorpus, corpusDocuments, type PretrainingCorpus } from './pretrain-corpus';
import type { SyntheticPretrainingSettings } from './presets';
import { writeSyntheticModelFiles, type SyntheticWorld } from './world';

export {
  buildPretrainingCorpus,
  corpusDocuments,
  type PretrainingCorpus,
  type PretrainingCorpusOptions,
} from './pretrain-corpus';

/** Bump when the corpus or the training recipe changes meaning, so old caches are not reused. */
const PRETRAINING_FORMAT = 4;
/** Points kept in the summary's loss curve (each the mean loss of a window of steps). */
const LOSS_CURVE_POINTS = 20;

/** What {@link pretrainSyntheticBase} reports while it works. */
export type PretrainEvent =
  | { type: 'cache-hit'; hash: string; cachedDir: string }
  | { type: 'step'; progress: TrainProgress }
  | { type: 'trained'; summary: PretrainingSummary };

/** Options of {@link pretrainSyntheticBase}. */
export interface PretrainOptions {
  /** Engine CPU threads (1 makes training bit-reproducible). */
  threads?: number;
  /**
   * The engine's matmul precision while pretraining (LoadOptions.precision; default 'fp32').
   * A bf16 base is another checkpoint: it is cached under its own hash.
   */
  precision?: 'fp32' | 'bf16';
  /** Where pretrained checkpoints are cached (default {@link defaultPretrainCacheDir}). */
  cacheDir?: string;
  /** Settings (default: the preset's `pretraining`). */
  settings?: SyntheticPretrainingSettings;
  onProgress?: (event: PretrainEvent) => void;
}

/** `pretraining-summary.json`, written beside the pretrained weights. */
export interface PretrainingSummary {
  hash: string;
  preset: string;
  seed: number;
  steps: number;
  /** Loss of the first and last optimizer steps, and the mean loss per window of steps. */
  firstLoss: number;
  finalLoss: number;
  lossCurve: Array<{ step: number; loss: number }>;
  /** Target tokens over all steps (every document token and its EOS, each epoch). */
  tokens: number;
  seconds: number;
  threads: number | null;
  /** Matmul precision of the pretraining run (absent in summaries written before it existed: fp32). */
  precision?: 'fp32' | 'bf16';
  corpus: { problems: number; arithmetic: number; code: number; tokens: number };
  /** Mean next-token loss (nats) on held-out documents, at random init and after pretraining. */
  heldOut: {
    documents: number;
    lossBefore: number;
    lossAfter: number;
    /** After pretraining, per kind of document. */
    lossAfterByKind: Record<keyof PretrainingCorpus, number>;
  };
  settings: SyntheticPretrainingSettings;
}

/** `$SIKED_CACHE_DIR`, else `$XDG_CACHE_HOME/siked`, else `~/.cache/siked`; then `synthetic`. */
export function defaultPretrainCacheDir(): string {
  const root =
    process.env.SIKED_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'siked');
  return path.join(root, 'synthetic');
}

/** The preset's settings, or a clear error for a custom preset without them. */
function pretrainingSettings(world: SyntheticWorld, options: PretrainOptions) {
  const settings = options.settings ?? world.preset.pretraining;
  if (!settings) throw new Error(`preset ${world.preset.name} has no pretraining settings`);
  return settings;
}

/** The training schedule of the settings (sequence length from the preset's fine-tuning). */
function pretrainingSchedule(
  world: SyntheticWorld,
  settings: SyntheticPretrainingSettings,
): TrainingSchedule {
  return {
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    warmupRatio: settings.warmupRatio,
    minLearningRateRatio: settings.minLearningRateRatio,
    microBatchSize: settings.microBatchSize,
    gradientAccumulation: settings.gradientAccumulation,
    maxSequenceLength: world.preset.run.training.maxSequenceLength,
    seed: world.seed,
  };
}

/**
 * sha256 of everything that decides the pretrained weights and files: model config, tokenizer,
 * corpus, schedule, seed (and the student format written beside them), and the precision when it
 * is bf16 (fp32 hashes stay what they were before precision existed, so their caches still hit).
 */
export function pretrainingHash(
  world: SyntheticWorld,
  corpus: PretrainingCorpus,
  settings: SyntheticPretrainingSettings,
  precision: 'fp32' | 'bf16' = 'fp32',
): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: PRETRAINING_FORMAT,
      modelConfig: world.modelConfig,
      tokenizer: world.tokenizerJson,
      studentTemplate: world.studentTemplate,
      schedule: pretrainingSchedule(world, settings),
      settings,
      seed: world.seed,
      ...(precision === 'bf16' ? { precision } : {}),
    }),
  );
  for (const document of corpusDocuments(corpus)) hash.update(`\u0000${document}`);
  return hash.digest('hex');
}

/** Mean next-token loss (nats per predicted token) of `documents` under `student`. */
export async function languageModelLoss(
  student: Pick<Student, 'score'>,
  documents: readonly string[],
): Promise<number> {
  let total = 0;
  let tokens = 0;
  for (let start = 0; start < documents.length; start += 32) {
    for (const row of await student.score(documents.slice(start, start + 32))) {
      for (const logprob of row.logprobs) {
        if (logprob === null) continue;
        total -= logprob;
        tokens += 1;
      }
    }
  }
  return tokens === 0 ? NaN : total / tokens;
}

/** Held-out documents: the same kinds in a stream of their own, none equal to a training one. */
function heldOutCorpus(
  world: SyntheticWorld,
  corpus: PretrainingCorpus,
  count: number,
): PretrainingCorpus {
  const third = Math.floor(count / 3);
  const documents = { problems: count - 2 * third, arithmetic: third, code: third };
  const avoid = new Set(corpusDocuments(corpus));
  return buildPretrainingCorpus(world, { documents, stream: 'heldout', avoid });
}

/** Mean loss per window of steps, so the summary shows the curve without every step. */
function lossCurve(losses: readonly number[]): Array<{ step: number; loss: number }> {
  const window = Math.max(1, Math.ceil(losses.length / LOSS_CURVE_POINTS));
  const curve: Array<{ step: number; loss: number }> = [];
  for (let start = 0; start < losses.length; start += window) {
    const slice = losses.slice(start, start + window);
    const mean = slice.reduce((sum, loss) => sum + loss, 0) / slice.length;
    curve.push({ step: start + slice.length, loss: Number(mean.toFixed(4)) });
  }
  return curve;
}

/** Trains M0 into `dir` (a fresh folder) and returns its summary. */
async function trainInto(
  world: SyntheticWorld,
  dir: string,
  corpus: PretrainingCorpus,
  settings: SyntheticPretrainingSettings,
  hash: string,
  options: PretrainOptions,
): Promise<PretrainingSummary> {
  const started = Date.now();
  const tokenizer = HfTokenizer.fromJson(world.tokenizerJson, world.tokenizerConfig);
  const model = Model.fromConfig(parseModelConfig(world.modelConfig, 'synthetic world config'), {
    seed: world.seed,
    threads: options.threads,
    precision: options.precision,
  });
  const student = new EngineStudent(model, tokenizer);
  try {
    const documents = corpusDocuments(corpus);
    const heldOutKinds = heldOutCorpus(world, corpus, settings.heldOutDocuments);
    const heldOut = corpusDocuments(heldOutKinds);
    const lossBefore = await languageModelLoss(student, heldOut);
    // An empty prompt puts every token in the loss (the engine cannot predict the first one,
    // which has no context; the appended EOS is predicted too).
    const examples = documents.map((target) => ({ prompt: '', target }));
    const losses: number[] = [];
    let tokens = 0;
    const trained = await student.train(
      examples,
      pretrainingSchedule(world, settings),
      (progress) => {
        losses.push(progress.loss);
        tokens += progress.targetTokens;
        options.onProgress?.({ type: 'step', progress });
      },
    );
    const lossAfter = await languageModelLoss(student, heldOut);
    const lossAfterByKind = {
      problems: await languageModelLoss(student, heldOutKinds.problems),
      arithmetic: await languageModelLoss(student, heldOutKinds.arithmetic),
      code: await languageModelLoss(student, heldOutKinds.code),
    };
    // The world's files first: the engine's own config.json then replaces the world's copy.
    await writeSyntheticModelFiles(world, dir);
    await student.save(dir);
    await writeJson(path.join(dir, 'student-format.json'), world.studentTemplate);
    const summary: PretrainingSummary = {
      hash,
      preset: world.preset.name,
      seed: world.seed,
      steps: trained.steps,
      firstLoss: losses[0] ?? NaN,
      finalLoss: trained.finalLoss,
      lossCurve: lossCurve(losses),
      tokens,
      seconds: (Date.now() - started) / 1000,
      threads: options.threads ?? null,
      precision: options.precision ?? 'fp32',
      corpus: {
        problems: corpus.problems.length,
        arithmetic: corpus.arithmetic.length,
        code: corpus.code.length,
        tokens: documents.reduce((sum, text) => sum + tokenizer.encode(text).length + 1, 0),
      },
      heldOut: { documents: heldOut.length, lossBefore, lossAfter, lossAfterByKind },
      settings,
    };
    await writeJson(path.join(dir, 'pretraining-summary.json'), summary);
    return summary;
  } finally {
    student.dispose();
  }
}

async function writeJson(file: string, content: unknown): Promise<void> {
  await fs.writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
}

/** Renames `from` onto `to`; when another process got there first, keeps its copy. */
async function publish(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if (!existsSync(path.join(to, 'model.safetensors'))) throw error;
    await fs.rm(from, { recursive: true, force: true });
  }
}

/**
 * Writes a pretrained M0 into `dir` (the files of `writeSyntheticBaseModel` plus
 * `pretraining-summary.json`), replacing what is there. The checkpoint is trained once into
 * `<cacheDir>/pretrained-<hash16>/` and copied from there on every later call with the same
 * inputs. Both folders are written under temporary names and renamed: a crash never leaves
 * half a model. Returns the summary (that of the cached training run on a cache hit).
 */
export async function pretrainSyntheticBase(
  world: SyntheticWorld,
  dir: string,
  options: PretrainOptions = {},
): Promise<PretrainingSummary> {
  const settings = pretrainingSettings(world, options);
  const corpus = buildPretrainingCorpus(world, { documents: settings.documents });
  const hash = pretrainingHash(world, corpus, settings, options.precision);
  const cacheRoot = options.cacheDir ?? defaultPretrainCacheDir();
  const cachedDir = path.join(cacheRoot, `pretrained-${hash.slice(0, 16)}`);
  const summaryFile = path.join(cachedDir, 'pretraining-summary.json');
  if (existsSync(path.join(cachedDir, 'model.safetensors')) && existsSync(summaryFile)) {
    options.onProgress?.({ type: 'cache-hit', hash, cachedDir });
  } else {
    await fs.mkdir(cacheRoot, { recursive: true });
    const temporary = `${cachedDir}.tmp-${process.pid}`;
    await fs.rm(temporary, { recursive: true, force: true });
    const summary = await trainInto(world, temporary, corpus, settings, hash, options);
    await publish(temporary, cachedDir);
    options.onProgress?.({ type: 'trained', summary });
  }
  const temporary = `${dir}.tmp-${process.pid}`;
  await fs.rm(temporary, { recursive: true, force: true });
  await fs.cp(cachedDir, temporary, { recursive: true });
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(temporary, dir);
  return JSON.parse(await fs.readFile(summaryFile, 'utf8')) as PretrainingSummary;
}
