// Loading a student checkpoint (Hugging Face folder: config.json, model.safetensors,
// tokenizer.json) and its text format; shared by eval, generate and logprobs.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  EngineStudentFactory,
  StudentFormat,
  defaultStudentFormat,
  nativeModelLoader,
  type EngineStudent,
} from '@siked/core';
import { z } from 'zod';
import { schemas, type OptionDefinition } from '../options';
import { UsageError } from '../errors';

/** Options naming the model and where it runs. */
export const modelOptions = {
  model: {
    flag: '--model <dir>',
    description: 'checkpoint folder (config.json, model.safetensors, tokenizer.json)',
    schema: schemas.path,
  } satisfies OptionDefinition,
  device: {
    flag: '--device <device>',
    description: 'where the engine runs',
    schema: z.enum(['cpu', 'cuda']),
    choices: ['cpu', 'cuda'],
    defaultValue: 'cpu',
  } satisfies OptionDefinition,
  threads: {
    flag: '--threads <n>',
    description: 'CPU threads of the engine (default: all cores)',
    schema: schemas.positiveInt,
  } satisfies OptionDefinition,
};

/** The student text format option (how prompts are rendered and completions read back). */
export const templateOption = {
  flag: '--template <full|compact|file>',
  description:
    'student text format: a template JSON file, or a built-in variant (default: the model folder\'s student-format.json, else "full")',
  schema: z.string().min(1),
} satisfies OptionDefinition;

/** Loads the checkpoint as a student; a missing folder or file is a UsageError. */
export async function loadStudent(values: {
  model?: string;
  device: 'cpu' | 'cuda';
  threads?: number;
}): Promise<EngineStudent> {
  const dir = values.model;
  if (!dir) throw new UsageError('missing --model DIR');
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) {
    if (!existsSync(path.join(dir, file))) {
      throw new UsageError(
        `--model ${dir}: no ${file} in the folder (expected a Hugging Face checkpoint folder)`,
      );
    }
  }
  const factory = new EngineStudentFactory({
    baseDir: dir,
    loadModel: nativeModelLoader({ device: values.device, threads: values.threads }),
  });
  return factory.load(dir);
}

/** The student format: `full`/`compact`, a template file, or the model folder's own template. */
export function resolveStudentFormat(
  template: string | undefined,
  modelDir: string | undefined,
): StudentFormat {
  if (template === 'full' || template === 'compact') return defaultStudentFormat(template);
  if (template !== undefined) return StudentFormat.load(template);
  const own = modelDir ? path.join(modelDir, 'student-format.json') : undefined;
  return own && existsSync(own) ? StudentFormat.load(own) : defaultStudentFormat('full');
}
