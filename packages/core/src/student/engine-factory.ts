import * as path from 'node:path';
import { Model, type LoadOptions } from '@siked/native-cuda';
import type { EngineModel } from './engine-model';
import { EngineStudent, type EngineStudentOptions } from './engine-student';
import { HfTokenizer, type TokenizerOptions } from './tokenizer';
import type { StudentFactory } from './types';

/** Loads an engine model from a Hugging Face folder (config.json + model.safetensors). */
export type EngineModelLoader = (dir: string) => Promise<EngineModel>;

/**
 * The loader over `@siked/native-cuda`'s `Model.fromPretrained` (CPU by default; `threads: 1`
 * makes training bit-reproducible run to run).
 */
export function nativeModelLoader(options: LoadOptions = {}): EngineModelLoader {
  return (dir) => Model.fromPretrained(dir, options);
}

/**
 * Loads {@link EngineStudent}s from checkpoint folders in the Hugging Face layout: weights via
 * `loadModel`, tokenizer from the folder's `tokenizer.json` (and `tokenizer_config.json`), which
 * `save` copies along so every iteration's `model/` folder is self-contained.
 */
export class EngineStudentFactory implements StudentFactory {
  constructor(
    private readonly settings: {
      /** The base model M0's folder (must hold tokenizer.json). */
      baseDir: string;
      loadModel?: EngineModelLoader;
      student?: Omit<EngineStudentOptions, 'tokenizerFiles'>;
      tokenizer?: TokenizerOptions;
    },
  ) {}

  loadBase(): Promise<EngineStudent> {
    return this.load(this.settings.baseDir);
  }

  async load(dir: string): Promise<EngineStudent> {
    const tokenizer = await HfTokenizer.fromFile(dir, this.settings.tokenizer);
    const model = await (this.settings.loadModel ?? nativeModelLoader())(dir);
    const tokenizerFiles = [path.join(dir, 'tokenizer.json')];
    // The student's text format travels with every checkpoint, so `siked eval` on an
    // iteration's model prompts it as the loop trained it.
    for (const name of ['tokenizer_config.json', 'student-format.json']) {
      const file = path.join(dir, name);
      if (await exists(file)) tokenizerFiles.push(file);
    }
    return new EngineStudent(model, tokenizer, { ...this.settings.student, tokenizerFiles });
  }
}

async function exists(file: string): Promise<boolean> {
  const { promises: fs } = await import('node:fs');
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
