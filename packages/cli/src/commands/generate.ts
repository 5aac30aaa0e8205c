import type { Command } from 'commander';
import { isStrategy, type Strategy } from '@siked/core';
import { z } from 'zod';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { readJsonlRecords } from '../jsonl-input';
import { schemas } from '../options';
import { checkOutputPath, openOutput } from '../output';
import { checkLoaded, fitNewTokens } from './context-fit';
import {
  chatTemplateOption,
  loadStudent,
  modelOptions,
  resolveStudentFormat,
  templateOption,
} from './model-options';

/** Sampling settings (the engine's options), shared by generate and eval. */
export const samplingOptions = {
  numSamples: {
    flag: '--num-samples <k>',
    description: 'completions per prompt',
    schema: schemas.positiveInt,
    defaultValue: 1,
  },
  temperature: {
    flag: '--temperature <t>',
    description: 'sampling temperature (0 = greedy)',
    schema: schemas.nonNegative,
    defaultValue: 0,
  },
  topP: {
    flag: '--top-p <p>',
    description: 'nucleus sampling mass (1 = off)',
    schema: schemas.probability.refine((p) => p > 0, 'expected a number in (0, 1]'),
    defaultValue: 1,
  },
  maxNewTokens: {
    flag: '--max-new-tokens <n>',
    description: 'longest completion, in tokens',
    schema: schemas.positiveInt,
    defaultValue: 512,
  },
  seed: {
    flag: '--seed <n>',
    description: 'sampling seed (same seed, model and prompts: same texts)',
    schema: schemas.nonNegativeInt,
    defaultValue: 0,
  },
};

const strategyChoices = ['auto', 'cot', 'l2m', 'pot'] as const;

/** `--strategy auto|cot|l2m|pot`: let the student choose, or force a strategy by its tag. */
export const strategyOption = {
  flag: '--strategy <strategy>',
  description:
    'auto lets the student choose; cot|l2m|pot forces it (the tag is appended to the prompt)',
  schema: z.enum(strategyChoices),
  choices: strategyChoices,
  defaultValue: 'auto' as const,
};

/** The forced strategy of a `--strategy` value (undefined for `auto`). */
export function forcedStrategy(value: string): Strategy | undefined {
  return isStrategy(value) ? value : undefined;
}

/** `siked generate`: sample completions with the engine. */
export function registerGenerate(program: Command): void {
  defineCommand(program, {
    name: 'generate',
    description:
      'sample completions: input JSONL with "question" (rendered with the student format) or "prompt" (used as is); one JSON line per completion',
    options: {
      ...modelOptions,
      input: { flag: '--input <file>', description: 'JSONL prompts', schema: schemas.path },
      out: {
        flag: '--out <file>',
        description: 'write here instead of stdout',
        schema: schemas.path,
      },
      template: templateOption,
      chatTemplate: chatTemplateOption,
      strategy: strategyOption,
      ...samplingOptions,
    },
    examples: [
      'siked generate --model runs/demo/iter-2/model --input questions.jsonl --num-samples 4 --temperature 0.7',
    ],
    async run(options, _args, context) {
      if (!options.input) throw new UsageError('missing --input FILE');
      const file = options.input;
      checkOutputPath(options.out, [file]);
      const format = resolveStudentFormat(options.template, options.model, options.chatTemplate);
      const forced = forcedStrategy(options.strategy);
      const inputs = (await readJsonlRecords(file)).map((record) => {
        const { question, prompt } = record.value;
        if (typeof question === 'string')
          return { record, prompt: format.renderPrompt(question, forced), readBack: true };
        if (typeof prompt === 'string') return { record, prompt, readBack: false };
        throw new UsageError(
          `${file}:${record.line}: field "question": missing (or give "prompt")`,
        );
      });
      const student = await loadStudent(options, format);
      const prompts = inputs.map(({ prompt, record }) => ({
        text: prompt,
        where: `${file}:${record.line}`,
      }));
      const maxNewTokens = checkLoaded(student, () =>
        fitNewTokens(student, prompts, options.maxNewTokens, (line) => context.progress.log(line)),
      );
      const output = await openOutput(options.out, [file]);
      const task = context.progress.task('generate', inputs.length);
      try {
        const started = Date.now();
        const completions = await student.generate(
          inputs.map((input) => input.prompt),
          {
            numSamples: options.numSamples,
            temperature: options.temperature,
            topP: options.topP,
            maxNewTokens,
            seed: options.seed,
            stop: format.stopSequences(),
          },
        );
        task.tick(inputs.length);
        const tokens = completions.reduce((sum, c) => sum + (c.tokenCount ?? 0), 0);
        task.done({ 'tok/s': Math.round(tokens / Math.max((Date.now() - started) / 1000, 1e-3)) });
        for (const completion of completions) {
          const input = inputs[completion.promptIndex];
          const parsed = input.readBack
            ? format.parseCompletion(completion.text, forced)
            : undefined;
          output.writeLine({
            line: input.record.line,
            sampleIndex: completion.sampleIndex,
            ...(input.record.value.id === undefined ? {} : { id: input.record.value.id }),
            text: completion.text,
            ...(parsed ? { strategy: parsed.strategy, solution: parsed.text } : {}),
            finishReason: completion.finishReason,
            tokenCount: completion.tokenCount,
          });
        }
        await output.close();
      } finally {
        await output.discard();
        student.dispose();
      }
    },
  });
}
