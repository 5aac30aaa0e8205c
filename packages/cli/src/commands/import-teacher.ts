// `siked data import-teacher`: recorded teacher outputs for GSM8K-style training problems
// (the rationale files of EIT-NLP/Distilling-CoT-Reasoning as CoT, GSM8K's socratic split as
// L2M) joined to the problems, verified against their gold answers, and written as the
// teacher.jsonl that `siked distill --teacher recorded:FILE` reads. Every record is accounted
// for: kept, or dropped as unmatched, wrong, unparsed or not of its strategy.
import type { Command } from 'commander';
import {
  importGsm8kRationalesAsCot,
  importGsm8kSocraticAsL2m,
  loadDataset,
  verifyAll,
  type ImportResult,
  type Problem,
  type Strategy,
  type VerificationStats,
} from '@siked/core';
import { z } from 'zod';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { openOutput } from '../output';
import { concurrencyOption, datasetOptions, loadOptionsFrom } from './shared-options';

/** What happened to one source file's records. */
export interface ImportedSource {
  file: string;
  strategy: Strategy;
  records: number;
  /** Joined to no problem (the first few questions shown). */
  unmatched: number;
  unmatchedExamples: string[];
  kept: number;
  wrong: number;
  unparsed: number;
  /** Not of the strategy they claim (an L2M text without sub-questions). */
  notOfStrategy: number;
}

/** The whole import, as `--json` prints it. */
export interface TeacherImportReport {
  out: string;
  problems: number;
  sources: ImportedSource[];
  kept: number;
  /** Problems with at least one kept solution, per strategy. */
  problemsCovered: Partial<Record<Strategy, number>>;
}

const fileList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]));

function describeReport(report: TeacherImportReport): string {
  const lines = report.sources.map(
    (s) =>
      `${s.file} (${s.strategy}): ${s.records} records, kept ${s.kept}; dropped: ${s.unmatched} unmatched, ` +
      `${s.wrong} wrong answer, ${s.unparsed} no answer read, ${s.notOfStrategy} not ${s.strategy}`,
  );
  const covered = Object.entries(report.problemsCovered)
    .map(([strategy, count]) => `${strategy} ${count}`)
    .join(', ');
  lines.push(
    `wrote ${report.kept} verified solutions to ${report.out}; problems covered of ${report.problems}: ${covered}`,
  );
  return lines.join('\n');
}

function sourceReport(
  file: string,
  strategy: Strategy,
  imported: ImportResult,
  stats: VerificationStats,
): ImportedSource {
  return {
    file,
    strategy,
    records: imported.report.records,
    unmatched: imported.report.unmatched,
    unmatchedExamples: imported.report.unmatchedExamples,
    kept: stats.correct,
    wrong: stats.wrong,
    unparsed: stats.parseFailures,
    notOfStrategy: stats.formatViolations,
  };
}

/** Adds `import-teacher` under `siked data`. */
export function registerImportTeacher(data: Command): void {
  defineCommand(data, {
    name: 'import-teacher',
    description:
      'join recorded teacher outputs to the training problems, verify them, and write teacher.jsonl for --teacher recorded:',
    arguments: [{ syntax: '<problems>', description: 'the training problems (see --format)' }],
    options: {
      ...datasetOptions,
      rationales: {
        flag: '--rationales <file...>',
        description:
          'recorded CoT rationales: JSON arrays of {instruction, output} ending "The answer is N" (gsm8k_*_ranked.json)',
        schema: fileList,
      },
      socratic: {
        flag: '--socratic <file>',
        description: "GSM8K's socratic split (train_socratic.jsonl), as L2M",
        schema: schemas.path,
      },
      out: {
        flag: '--out <file>',
        description: 'the teacher.jsonl to write',
        schema: schemas.path,
      },
      concurrency: concurrencyOption,
    },
    examples: [
      'siked data import-teacher --format gsm8k ../shared/data/gsm8k/train.jsonl ' +
        '--rationales ../shared/data/gsm8k/teacher/gsm8k_llama_level1_ranked.json ' +
        '--socratic ../shared/data/gsm8k/train_socratic.jsonl --out teacher.jsonl',
    ],
    async run(options, [problemsFile], context) {
      const rationales = options.rationales ?? [];
      if (rationales.length === 0 && options.socratic === undefined)
        throw new UsageError('give --rationales FILE... and/or --socratic FILE');
      if (!options.out) throw new UsageError('missing --out FILE');
      const inputs = [problemsFile, ...rationales, options.socratic];
      const problems: Problem[] = (
        await loadDataset(options.format, problemsFile, loadOptionsFrom(options))
      ).problems;
      const output = await openOutput(options.out, inputs);
      try {
        const sources: ImportedSource[] = [];
        const covered = new Map<Strategy, Set<string>>();
        const jobs: Array<{ file: string; strategy: Strategy; load: () => Promise<ImportResult> }> =
          [
            ...rationales.map((file) => ({
              file,
              strategy: 'cot' as const,
              load: () => importGsm8kRationalesAsCot(file, problems),
            })),
            ...(options.socratic === undefined
              ? []
              : [
                  {
                    file: options.socratic,
                    strategy: 'l2m' as const,
                    load: () => importGsm8kSocraticAsL2m(options.socratic!, problems),
                  },
                ]),
          ];
        const task = context.progress.task('import', jobs.length);
        for (const job of jobs) {
          const imported = await job.load();
          const { solutions, stats } = await verifyAll(imported.samples, problems, {
            concurrency: options.concurrency,
          });
          for (const solution of solutions) {
            if (!solution.correct) continue;
            output.writeLine({
              problemId: solution.problemId,
              strategy: solution.strategy,
              text: solution.text,
            });
            const set = covered.get(solution.strategy) ?? new Set<string>();
            set.add(solution.problemId);
            covered.set(solution.strategy, set);
          }
          sources.push(sourceReport(job.file, job.strategy, imported, stats));
          task.tick();
        }
        task.done();
        await output.close();
        const report: TeacherImportReport = {
          out: options.out,
          problems: problems.length,
          sources,
          kept: sources.reduce((sum, s) => sum + s.kept, 0),
          problemsCovered: Object.fromEntries(
            [...covered].map(([strategy, ids]) => [strategy, ids.size]),
          ),
        };
        if (context.json) context.printJson(report);
        else context.print(describeReport(report));
      } catch (error) {
        await output.discard();
        throw error;
      }
    },
  });
}
