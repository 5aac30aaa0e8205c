import type { Command } from 'commander';
import { PythonSandbox, STRATEGIES, loadDataset } from '@siked/core';
import { evaluateOnProblems, percent, type EvaluationResult } from '@siked/eval';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { openOutput } from '../output';
import { forcedStrategy, strategyOption } from './generate';
import { loadStudent, modelOptions, resolveStudentFormat, templateOption } from './model-options';
import {
  datasetOptions,
  loadOptionsFrom,
  sandboxOptions,
  sandboxOptionsFrom,
} from './shared-options';

function describeResult(result: EvaluationResult, data: string): string {
  const a = result.accuracy;
  const lines = [
    `${data}: accuracy ${percent(a.accuracy)} (${a.correct}/${a.total}), ${a.unparsed} unparsed, ${a.untagged ?? 0} without a strategy tag`,
    `harness: strict ${percent(result.harness.strict)}, flexible ${percent(result.harness.flexible)}`,
    'strategy  share   accuracy  count',
    ...STRATEGIES.map((s) => {
      const entry = a.byStrategy[s];
      return `${s.padEnd(8)}  ${percent(entry.share).padStart(6)}  ${percent(entry.accuracy).padStart(8)}  ${entry.count}`;
    }),
  ];
  return lines.join('\n');
}

/** `siked eval`: accuracy, per-strategy accuracy and strategy distribution of a model on a data set. */
export function registerEval(program: Command): void {
  defineCommand(program, {
    name: 'eval',
    description:
      'evaluate a model zero-shot (greedy): accuracy, per-strategy accuracy, strategy distribution; writes predictions JSONL',
    options: {
      ...modelOptions,
      data: { flag: '--data <file>', description: 'the evaluation data set', schema: schemas.path },
      ...datasetOptions,
      strategy: strategyOption,
      template: templateOption,
      out: {
        flag: '--out <file>',
        description: 'predictions JSONL (one graded answer a line)',
        schema: schemas.path,
        defaultValue: 'predictions.jsonl',
      },
      limit: {
        flag: '--limit <n>',
        description: 'evaluate only the first n problems',
        schema: schemas.positiveInt,
      },
      maxNewTokens: {
        flag: '--max-new-tokens <n>',
        description: 'longest answer, in tokens',
        schema: schemas.positiveInt,
        defaultValue: 512,
      },
      ...sandboxOptions,
    },
    examples: [
      'siked eval --model runs/demo/iter-2/model --data ../shared/data/svamp/SVAMP.json --format svamp',
      'siked eval --model runs/demo/iter-2/model --data test.jsonl --strategy pot --json',
    ],
    async run(options, _args, context) {
      if (!options.data) throw new UsageError('missing --data FILE');
      const loaded = await loadDataset(options.format, options.data, loadOptionsFrom(options));
      const problems = options.limit ? loaded.problems.slice(0, options.limit) : loaded.problems;
      if (problems.length === 0) throw new UsageError(`${options.data}: no problems to evaluate`);
      const format = resolveStudentFormat(options.template, options.model);
      const student = await loadStudent(options);
      const sandbox = await PythonSandbox.start(sandboxOptionsFrom(options), {
        onWarning: (message) => context.progress.log(`sandbox: ${message}`),
      });
      const task = context.progress.task('eval', problems.length);
      let done = 0;
      try {
        const result = await evaluateOnProblems(student, format, problems, {
          runner: sandbox,
          forced: forcedStrategy(options.strategy),
          maxNewTokens: options.maxNewTokens,
          onProgress: (now) => {
            task.tick(now - done);
            done = now;
          },
        });
        task.done();
        const output = await openOutput(options.out);
        for (const prediction of result.predictions) output.writeLine(prediction);
        await output.close();
        if (context.json) {
          context.printJson({
            data: options.data,
            model: options.model,
            predictions: options.out,
            accuracy: result.accuracy,
            harness: result.harness,
          });
        } else {
          context.print(`${describeResult(result, options.data)}\npredictions: ${options.out}`);
        }
      } finally {
        await sandbox.close();
        student.dispose();
      }
    },
  });
}
