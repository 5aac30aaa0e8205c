// Loading a student checkpoint (Hugging Face folder: config.json, model.safetensors,
// tokenizer.json) and its text format; shared by eval, generate and logprobs.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  EngineStudentFactory,
  StudentFormat,
  defaultStudentFormat,
  nativeModelLoader,
  withChatTemplate,
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
  precision: {
    flag: '--precision <precision>',
    description:
      "the engine's matrix multiplies: fp32, or bf16 mixed precision (bf16 operands on AMX / AVX512-BF16 where the CPU has them, fp32 accumulation, master weights and optimizer state)",
    schema: z.enum(['fp32', 'bf16']),
    choices: ['fp32', 'bf16'],
    defaultValue: 'fp32',
  } satisfies OptionDefinition,
};

/** The student text format option (how prompts are rendered and completions read back). */
export const templateOption = {
  flag: '--template <full|compact|file>',
  description:
    'student text format: a template JSON file, or a built-in variant (default: the model folder\'s student-format.json, else "full")',
  schema: z.string().min(1),
} satisfies OptionDefinition;

/** Frame prompts with the model's own chat template. */
export const chatTemplateOption = {
  flag: '--chat-template',
  description:
    "frame prompts with the model's chat template (tokenizer_config.json chat_template): the prompt is the user turn, the solution the assistant turn, ended by the template's end-of-turn token",
  schema: z.boolean(),
  defaultValue: false,
} satisfies OptionDefinition;

/** Tokenizer settings a format implies: a chat format ends sequences with its end-of-turn token. */
export function tokenizerOptionsFor(format: StudentFormat): { eosToken?: string } {
  const eosToken = format.endOfSequenceToken;
  return eosToken === undefined ? {} : { eosToken };
}

/** Loads the checkpoint as a student; a missing folder or file is a UsageError. */
export async function loadStudent(
  values: {
    model?: string;
    device: 'cpu' | 'cuda';
    threads?: number;
    precision?: 'fp32' | 'bf16';
  },
  format?: StudentFormat,
): Promise<EngineStudent> {
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
    loadModel: nativeModelLoader({
      device: values.device,
      threads: values.threads,
      precision: values.precision,
    }),
    ...(format ? { tokenizer: tokenizerOptionsFor(format) } : {}),
  });
  return factory.load(dir);
}

/** The student format: `full`/`compact`, a template file, or the model folder's own template. */
export function resolveStudentFormat(
  template: string | undefined,
  modelDir: string | undefined,
  chat = false,
): StudentFormat {
  const format = baseStudentFormat(template, modelDir);
  if (!chat || format.template.chat) return format;
  const configFile = modelDir ? path.join(modelDir, 'tokenizer_config.json') : undefined;
  if (!configFile || !existsSync(configFile))
    throw new UsageError(
      `--chat-template: no tokenizer_config.json in ${modelDir ?? '(no --model)'}`,
    );
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  try {
    return withChatTemplate(format, config, configFile);
  } catch (error) {
    throw new UsageError(`--chat-template: ${(error as Error).message}`);
  }
}

function baseStudentFormat(
  template: string | undefined,
  modelDir: string | undefined,
): StudentFormat {
  if (template === 'full' || template === 'compact') return defaultStudentFormat(template);
  if (template !== undefined) return StudentFormat.load(template);
  const own = modelDir ? path.join(modelDir, 'student-format.json') : undefined;
  return own && existsSync(own) ? StudentFormat.load(own) : defaultStudentFormat('full');
}
