// The synthetic world's base student M0 as a checkpoint folder the loop loads like any other:
// random weights from the engine (seeded), or weights pretrained on the world's unlabelled text
// (pretrain.ts), with the world's tokenizer and the student template.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Model, parseModelConfig } from '@siked/native-cuda';
import { pretrainSyntheticBase, type PretrainEvent } from './pretrain';
import { writeSyntheticModelFiles, type SyntheticWorld } from './world';

/** Options of {@link writeSyntheticBaseModel}. */
export interface SyntheticBaseModelOptions {
  /** Engine CPU threads. */
  threads?: number;
  /** Matmul precision of the pretraining (see PretrainOptions.precision). */
  precision?: 'fp32' | 'bf16';
  /**
   * Pretrain M0 as a language model on the world's unlabelled text (the preset's `pretraining`
   * settings; cached in `cacheDir`) instead of leaving it at random init. Default false.
   */
  pretrain?: boolean;
  /** Cache folder of pretrained checkpoints (default: `defaultPretrainCacheDir()`). */
  cacheDir?: string;
  /** Pretraining progress (cache hit, steps, summary). */
  onProgress?: (event: PretrainEvent) => void;
}

/**
 * Writes M0 (`model.safetensors`, `config.json`, tokenizer files, `student-format.json`, and
 * `pretraining-summary.json` when pretrained) into `dir` unless a complete one is already there,
 * so a resumed run keeps its base (one of the other kind, random vs pretrained, throws). The
 * folder is written under a temporary name and renamed: a crash never leaves half a model.
 */
export async function writeSyntheticBaseModel(
  world: SyntheticWorld,
  dir: string,
  options: SyntheticBaseModelOptions = {},
): Promise<void> {
  if (existsSync(path.join(dir, 'model.safetensors'))) {
    // A resumed run keeps its base, but never silently the other kind of base.
    const pretrained = existsSync(path.join(dir, 'pretraining-summary.json'));
    if (pretrained !== Boolean(options.pretrain)) {
      throw new Error(
        `${dir} holds a ${pretrained ? 'pretrained' : 'random-init'} base model but a ${options.pretrain ? 'pretrained' : 'random-init'} one was asked for; use another run folder or delete it`,
      );
    }
    return;
  }
  if (options.pretrain) {
    await pretrainSyntheticBase(world, dir, options);
    return;
  }
  const temporary = `${dir}.tmp-${process.pid}`;
  await fs.rm(temporary, { recursive: true, force: true });
  // The world's files first: the engine's own config.json then replaces the world's copy.
  await writeSyntheticModelFiles(world, temporary);
  const model = Model.fromConfig(parseModelConfig(world.modelConfig, 'synthetic world config'), {
    seed: world.seed,
    threads: options.threads,
  });
  try {
    await model.save(temporary);
  } finally {
    model.dispose();
  }
  await fs.writeFile(
    path.join(temporary, 'student-format.json'),
    `${JSON.stringify(world.studentTemplate, null, 2)}\n`,
  );
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(temporary, dir);
}
