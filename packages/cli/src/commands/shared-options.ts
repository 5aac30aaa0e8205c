// Option groups several commands share, defined once.
import {
  DATASET_FORMATS,
  WORKING_CHECKS,
  sandboxOptionsSchema,
  type LoadDatasetOptions,
  type SandboxOptions,
} from '@siked/core';
import { z } from 'zod';
import { optionsFromSchema, schemas, unprefixOptions, type OptionDefinition } from '../options';

/** How to read a data set file (`siked data`, `siked eval`, `siked teach`). */
export const datasetOptions = {
  format: {
    flag: '--format <format>',
    description: 'data set format (problems = our own Problem JSONL)',
    schema: z.enum(DATASET_FORMATS),
    choices: DATASET_FORMATS,
    defaultValue: 'problems',
  } satisfies OptionDefinition,
  lenient: {
    flag: '--lenient',
    description: 'skip and count malformed records instead of stopping at the first',
    schema: z.boolean(),
    defaultValue: false,
  } satisfies OptionDefinition,
  split: {
    flag: '--split <name>',
    description: 'split name written into each problem (default: the loader decides)',
    schema: z.string().min(1),
  } satisfies OptionDefinition,
  questionField: {
    flag: '--question-field <path>',
    description: 'jsonl format: field holding the question (dotted path)',
    schema: z.string().min(1),
  } satisfies OptionDefinition,
  answerField: {
    flag: '--answer-field <path>',
    description: 'jsonl format: field holding the gold answer',
    schema: z.string().min(1),
  } satisfies OptionDefinition,
  idField: {
    flag: '--id-field <path>',
    description: 'jsonl format: field holding the id (default: generated)',
    schema: z.string().min(1),
  } satisfies OptionDefinition,
};

/** The loader options of {@link datasetOptions}' values. */
export function loadOptionsFrom(values: {
  lenient?: boolean;
  split?: string;
  questionField?: string;
  answerField?: string;
  idField?: string;
}): LoadDatasetOptions {
  // Only the fields given: an explicit undefined would override the loader's own default.
  const fields = Object.fromEntries(
    Object.entries({
      question: values.questionField,
      answer: values.answerField,
      id: values.idField,
    }).filter(([, value]) => value !== undefined),
  );
  return { lenient: values.lenient, split: values.split, fields };
}

/** The program-of-thought sandbox's settings, from its own schema (`--sandbox-timeout-ms`, ...). */
export const sandboxOptions = optionsFromSchema(
  sandboxOptionsSchema,
  ['pythonPath', 'workers', 'timeoutMs', 'memoryLimitMb', 'isolation', 'sympy'],
  'sandbox',
);

/** PythonSandbox options from resolved CLI values. */
export function sandboxOptionsFrom(values: Record<string, unknown>): SandboxOptions {
  return unprefixOptions(values, 'sandbox') as SandboxOptions;
}

/** Concurrency of verification (PoT programs are also bounded by the sandbox's pool). */
export const concurrencyOption = {
  flag: '--concurrency <n>',
  description: 'verifications in flight at once',
  schema: schemas.positiveInt,
  defaultValue: 8,
} satisfies OptionDefinition;

/** `--...-checks arithmetic,grounded-names` (or a JSON array in a config file): working checks. */
export const workingCheckList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
  )
  .pipe(z.array(z.enum(WORKING_CHECKS)));
