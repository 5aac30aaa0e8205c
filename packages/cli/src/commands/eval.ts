import type { Command } from 'commander';
import {
  PythonSandbox,
  STRATEGIES,
  evaluateOnProblems,
  loadDataset,
  summarizeEvaluation,
  type DatasetEvaluationSummary,
  type EvaluationRecord,
} from '@siked/core';
import { percent } from '@siked/eval';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { checkOutputPath, openOutput } from '../output';
import { checkLoaded, fitNewTokens } from './context-fit';
import { forcedStrategy, strategyOption } from './generate';
import {
  chatTemplateOption,
  loadStudent,
  modelOptions,
  resolveStudentFormat,
  templateOption,
} from './model-options';
import {
  datasetOptions,
  loadOptionsFrom,
  sandboxOptions,
  sandboxOptionsFrom,
} from './shared-options';

function describeResult(a: DatasetEvaluationSummary, data: string): string {
  const lines = [
    `${data}: accuracy ${percent(a.accuracy)} (${a.correct}/${a.total}), ${a.unparsed} unparsed, ${a.untagged ?? 0} without a strategy tag`,
    `harness: strict ${percent(a.strictAccuracy)}, flexible ${percent(a.flexibleAccuracy)}`,
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
      chatTemplate: chatTemplateOption,
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
      checkOutputPath(options.out, [options.data]);
      const loaded = await loadDataset(options.format, options.data, loadOptionsFrom(options));
      const problems = options.limit ? loaded.problems.slice(0, options.limit) : loaded.problems;
      if (problems.length === 0) throw new UsageError(`${options.data}: no problems to evaluate`);
      const format = resolveStudentFormat(options.template, options.model, options.chatTemplate);
      const student = await loadStudent(options, format);
      const forced = forcedStrategy(options.strategy);
      const prompts = problems.map((problem) => ({
        text: format.renderPrompt(problem.question, forced),
        where: `${options.data}, problem ${JSON.stringify(problem.id)}`,
      }));
      const maxNewTokens = checkLoaded(student, () =>
        fitNewTokens(student, prompts, options.maxNewTokens, (line) => context.progress.log(line)),
      );
      const sandbox = await PythonSandbox.start(sandboxOptionsFrom(options), {
        onWarning: (message) => context.progress.log(`sandbox: ${message}`),
      });
      const task = context.progress.task('eval', problems.length);
      const chunkSize = 32;
      const records: EvaluationRecord[] = [];
      try {
        // One library call per chunk, so progress moves while the model works.
        for (let start = 0; start < problems.length; start += chunkSize) {
          const chunk = problems.slice(start, start + chunkSize);
          const result = await evaluateOnProblems(student, format, chunk, {
            runner: sandbox,
            forced,
            maxNewTokens,
            chunkSize,
          });
          records.push(...result.records);
          task.tick(chunk.length);
        }
        task.done();
        const summary = summarizeEvaluation(records, problems);
        const gold = new Map(problems.map((p) => [p.id, p.answer]));
        const output = await openOutput(options.out, [options.data]);
        for (const record of records)
          output.writeLine({
            ...record,
            gold: gold.get(record.problemId),
            error: record.error ?? null,
          });
        await output.close();
        if (context.json) {
          context.printJson({
            data: options.data,
            model: options.model,
            predictions: options.out,
            accuracy: summary,
          });
        } else {
          context.print(`${describeResult(summary, options.data)}\npredictions: ${options.out}`);
        }
      } finally {
        await sandbox.close();
        student.dispose();
      }
    },
  });
}
