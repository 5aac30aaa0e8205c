import type { Command } from 'commander';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { readJsonlRecords, requireStringField } from '../jsonl-input';
import { schemas } from '../options';
import { checkOutputPath, openOutput } from '../output';
import { checkLoaded, checkScoredTexts } from './context-fit';
import { loadStudent, modelOptions } from './model-options';

/** `siked logprobs`: per-token log-probabilities of texts under a model. */
export function registerLogprobs(program: Command): void {
  defineCommand(program, {
    name: 'logprobs',
    description:
      'score texts: one JSON line per input {"text", "tokens": [ids], "logprobs": [null, ...]} (natural log, log p(token | tokens before))',
    options: {
      ...modelOptions,
      input: {
        flag: '--input <file>',
        description: 'JSONL with a "text" field per line',
        schema: schemas.path,
      },
      out: {
        flag: '--out <file>',
        description: 'write here instead of stdout',
        schema: schemas.path,
      },
      batchSize: {
        flag: '--batch-size <n>',
        description: 'texts scored per engine call',
        schema: schemas.positiveInt,
        defaultValue: 16,
      },
    },
    examples: [
      'siked logprobs --model runs/demo/iter-2/model --input texts.jsonl --out scores.jsonl',
    ],
    async run(options, _args, context) {
      if (!options.input) throw new UsageError('missing --input FILE');
      const file = options.input;
      checkOutputPath(options.out, [file]);
      const located = (await readJsonlRecords(file)).map((record) => {
        const text = requireStringField(record, file, 'text');
        if (text === '')
          throw new UsageError(`${file}:${record.line}: field "text": empty (nothing to score)`);
        return { text, where: `${file}:${record.line}` };
      });
      const texts = located.map(({ text }) => text);
      const student = await loadStudent(options);
      checkLoaded(student, () => checkScoredTexts(student, located));
      const output = await openOutput(options.out, [file]);
      const task = context.progress.task('score', texts.length);
      try {
        for (let start = 0; start < texts.length; start += options.batchSize) {
          const batch = texts.slice(start, start + options.batchSize);
          const scored = await student.score(batch);
          scored.forEach((score, i) =>
            output.writeLine({ text: batch[i], tokens: score.tokenIds, logprobs: score.logprobs }),
          );
          task.tick(batch.length);
        }
        task.done();
        await output.close();
      } finally {
        await output.discard();
        student.dispose();
      }
    },
  });
}
