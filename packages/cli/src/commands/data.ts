import type { Command } from 'commander';
import { loadDataset, writeProblemsJsonl, type LoadResult, type Problem } from '@siked/core';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { checkOutputPath } from '../output';
import { registerImportTeacher } from './import-teacher';
import { datasetOptions, loadOptionsFrom } from './shared-options';

/** What `siked data inspect` reports about a data set file. */
export interface DatasetInspection {
  file: string;
  format: string;
  problems: number;
  /** Malformed records skipped (lenient mode), with where and why. */
  skipped: number;
  skippedRecords: Array<{ line: number; field: string; reason: string }>;
  /** Well-formed records left out by a documented rule, counted per reason. */
  excluded: Record<string, number>;
  splits: Record<string, number>;
  sources: Record<string, number>;
  answers: { min: number | null; max: number | null; integers: number; negatives: number };
  questionChars: { min: number | null; mean: number | null; max: number | null };
}

function tally<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Counts and problems of a loaded data set. */
export function inspectDataset(result: LoadResult, format: string): DatasetInspection {
  const problems: readonly Problem[] = result.problems;
  const answers = problems.map((p) => p.answer);
  const lengths = problems.map((p) => p.question.length);
  return {
    file: result.file,
    format,
    problems: problems.length,
    skipped: result.skipped.length,
    skippedRecords: result.skipped,
    excluded: tally(result.excluded, (e) => e.reason),
    splits: tally(problems, (p) => p.split),
    sources: tally(problems, (p) => p.source),
    answers: {
      min: answers.length ? Math.min(...answers) : null,
      max: answers.length ? Math.max(...answers) : null,
      integers: answers.filter(Number.isInteger).length,
      negatives: answers.filter((a) => a < 0).length,
    },
    questionChars: {
      min: lengths.length ? Math.min(...lengths) : null,
      mean: lengths.length ? Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length) : null,
      max: lengths.length ? Math.max(...lengths) : null,
    },
  };
}

function describeInspection(report: DatasetInspection): string {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([key, count]) => `${key} ${count}`)
      .join(', ') || 'none';
  const lines = [
    `${report.file} (${report.format}): ${report.problems} problems`,
    `splits: ${counts(report.splits)}; sources: ${counts(report.sources)}`,
    `gold answers: ${report.answers.min} .. ${report.answers.max}, ${report.answers.integers} integers, ${report.answers.negatives} negative`,
    `question length: ${report.questionChars.min} .. ${report.questionChars.max} characters (mean ${report.questionChars.mean})`,
    `excluded by rule: ${counts(report.excluded)}`,
    `skipped as malformed: ${report.skipped}`,
    ...report.skippedRecords
      .slice(0, 20)
      .map((s) => `  line ${s.line}, field "${s.field}": ${s.reason}`),
  ];
  if (report.skippedRecords.length > 20)
    lines.push(`  ... and ${report.skippedRecords.length - 20} more (--json lists all)`);
  return lines.join('\n');
}

/**
 * `siked data inspect|convert|import-teacher`: read a data set, report on it, turn it into
 * Problem JSONL, or turn recorded teacher outputs for it into a verified teacher.jsonl.
 */
export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description(
      'inspect a data set file, convert it to Problem JSONL, or import recorded teacher outputs',
    );
  const file = [{ syntax: '<file>', description: 'the data set file' }];

  defineCommand(data, {
    name: 'inspect',
    description:
      'report counts (problems, splits, answers) and problems (malformed, excluded records)',
    arguments: file,
    options: datasetOptions,
    examples: ['siked data inspect --format svamp ../shared/data/svamp/SVAMP.json'],
    async run(options, [input], context) {
      const result = await loadDataset(options.format, input, loadOptionsFrom(options));
      const report = inspectDataset(result, options.format);
      if (context.json) context.printJson(report);
      else context.print(describeInspection(report));
    },
  });

  defineCommand(data, {
    name: 'convert',
    description:
      'write the data set as Problem JSONL (one {id, question, answer, source, split} a line)',
    arguments: file,
    options: {
      ...datasetOptions,
      out: {
        flag: '--out <file>',
        description: 'write here instead of stdout',
        schema: schemas.path,
      },
    },
    examples: ['siked data convert --format gsm8k train.jsonl --out problems.jsonl'],
    async run(options, [input], context) {
      checkOutputPath(options.out, [input]);
      const result = await loadDataset(options.format, input, loadOptionsFrom(options));
      if (options.out === undefined) {
        if (context.json)
          throw new UsageError('--json needs --out (stdout already carries the JSONL)');
        for (const problem of result.problems) context.printJson(problem);
      } else {
        await writeProblemsJsonl(options.out, result.problems);
        const summary = {
          out: options.out,
          problems: result.problems.length,
          skipped: result.skipped.length,
          excluded: result.excluded.length,
        };
        if (context.json) context.printJson(summary);
        else
          context.print(
            `wrote ${summary.problems} problems to ${summary.out} (${summary.skipped} skipped, ${summary.excluded} excluded)`,
          );
      }
      if (result.skipped.length > 0)
        context.progress.log(
          `skipped ${result.skipped.length} malformed record(s); see siked data inspect`,
        );
    },
  });
  registerImportTeacher(data);
}
