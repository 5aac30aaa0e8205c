import type { Command } from 'commander';
import {
  PythonSandbox,
  isStrategy,
  parseNumber,
  verifyAll,
  type CandidateSolution,
  type Problem,
  type Strategy,
} from '@siked/core';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { readJsonlRecords, requireStringField, type JsonlRecord } from '../jsonl-input';
import { schemas } from '../options';
import {
  concurrencyOption,
  sandboxOptions,
  sandboxOptionsFrom,
  workingCheckList,
} from './shared-options';
import { checkOutputPath, openOutput } from '../output';

/** One input record of `siked verify`, read and checked. */
interface VerifyInput {
  record: JsonlRecord;
  problemId: string;
  strategy: Strategy;
  text: string;
  gold: number;
  /** The question, read only when a check needs it (grounded-names). */
  question: string;
}

function readVerifyInput(record: JsonlRecord, file: string, needsQuestion: boolean): VerifyInput {
  const strategy = requireStringField(record, file, 'strategy');
  if (!isStrategy(strategy)) {
    throw new UsageError(
      `${file}:${record.line}: field "strategy": expected cot, l2m or pot, got ${JSON.stringify(strategy)}`,
    );
  }
  const text = requireStringField(record, file, 'text');
  const goldValue = record.value.gold;
  const parsed =
    typeof goldValue === 'number'
      ? Number.isFinite(goldValue)
        ? { ok: true as const, value: goldValue }
        : { ok: false as const, reason: 'not finite' }
      : typeof goldValue === 'string'
        ? parseNumber(goldValue)
        : { ok: false as const, reason: goldValue === undefined ? 'missing' : 'expected a number' };
  if (!parsed.ok) {
    throw new UsageError(
      `${file}:${record.line}: field "gold": ${parsed.reason} (${JSON.stringify(goldValue)})`,
    );
  }
  const id = record.value.problemId ?? record.value.id;
  return {
    record,
    problemId:
      typeof id === 'string' || typeof id === 'number' ? String(id) : `line-${record.line}`,
    strategy,
    text,
    gold: parsed.value,
    question:
      needsQuestion && strategy === 'pot' ? requireStringField(record, file, 'question') : '',
  };
}

/** `siked verify`: re-verifies solution records; PoT programs run in the sandbox. */
export function registerVerify(program: Command): void {
  defineCommand(program, {
    name: 'verify',
    description:
      're-verify solution records (JSONL with strategy, text, gold); writes one JSON line per record with predicted, correct, error, in input order',
    options: {
      input: {
        flag: '--input <file>',
        description: 'JSONL solution records',
        schema: schemas.path,
      },
      out: {
        flag: '--out <file>',
        description: 'write the results here instead of stdout',
        schema: schemas.path,
      },
      concurrency: concurrencyOption,
      workingChecks: {
        flag: '--working-checks <list>',
        description:
          'comma-separated checks a right answer must also pass: arithmetic (every equation of a CoT/L2M text holds), grounded-names (every word of a PoT variable name is in the record\'s "question")',
        schema: workingCheckList,
        defaultValue: [],
      },
      ...sandboxOptions,
    },
    examples: [
      'siked verify --input solutions.jsonl --out verified.jsonl',
      'siked verify --input self.jsonl --working-checks arithmetic,grounded-names --out checked.jsonl',
    ],
    async run(options, _args, context) {
      if (!options.input) throw new UsageError('missing --input FILE');
      const file = options.input;
      checkOutputPath(options.out, [file]);
      const needsQuestion = options.workingChecks.includes('grounded-names');
      const inputs = (await readJsonlRecords(file)).map((record) =>
        readVerifyInput(record, file, needsQuestion),
      );
      // Each record is its own problem (its gold travels with it): ids only need to be unique here.
      const problems = new Map<string, Problem>();
      const candidates: CandidateSolution[] = inputs.map((input, index) => {
        const id = `${index}:${input.problemId}`;
        problems.set(id, {
          id,
          question: input.question,
          answer: input.gold,
          source: 'verify',
          split: 'input',
        });
        return { problemId: id, strategy: input.strategy, text: input.text };
      });
      const needsSandbox = inputs.some((input) => input.strategy === 'pot');
      const sandbox = needsSandbox
        ? await PythonSandbox.start(sandboxOptionsFrom(options), {
            onWarning: (m) => context.progress.log(`sandbox: ${m}`),
          })
        : undefined;
      const task = context.progress.task('verify', candidates.length);
      try {
        const { solutions, stats } = await verifyAll(candidates, problems, {
          runner: sandbox,
          concurrency: options.concurrency,
          workingChecks: options.workingChecks,
          onProgress: () => task.tick(),
        });
        task.done();
        const output = await openOutput(options.out, [file]);
        solutions.forEach((solution, index) => {
          const input = inputs[index];
          output.writeLine({
            ...input.record.value,
            problemId: input.problemId,
            strategy: solution.strategy,
            predicted: solution.predicted,
            correct: solution.correct,
            error: solution.error ?? null,
          });
        });
        await output.close();
        context.progress.log(
          `verified ${stats.total}: ${stats.correct} correct, ${stats.wrong} wrong, ${stats.parseFailures} unparsed, ${stats.executionFailures} failed to run, ${stats.formatViolations} not of their strategy${options.workingChecks.length > 0 ? `, ${stats.unsoundWorking} right but with unsound working` : ''}`,
        );
      } finally {
        await sandbox?.close();
      }
    },
  });
}
