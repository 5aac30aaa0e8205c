import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  OpenAICompatibleTeacher,
  PythonSandbox,
  RecordedTeacher,
  STRATEGIES,
  SyntheticTeacher,
  buildTeacherPrompt,
  countStrategies,
  isStrategy,
  keepOnePerQuestionAndStrategy,
  loadDataset,
  verifyAll,
  type Solution,
  type Strategy,
  type Teacher,
  type TeacherFailure,
} from '@siked/core';
import { z } from 'zod';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { openOutput } from '../output';
import {
  concurrencyOption,
  datasetOptions,
  loadOptionsFrom,
  sandboxOptions,
  sandboxOptionsFrom,
} from './shared-options';

/** `--strategies cot,l2m,pot` (or a JSON array in a config file) as a checked list. */
export const strategyList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()))
  .pipe(
    z
      .array(z.string())
      .min(1, 'expected at least one strategy')
      .refine((list) => list.every(isStrategy), 'expected a comma-separated list of cot, l2m, pot'),
  );

/** The teacher settings of {@link teacherOptions}, plus where its files go. */
export interface TeacherSettings {
  teacherModel?: string;
  endpoint: 'chat' | 'completions';
  apiKeyEnv?: string;
  requests: number;
  teacherTemperature: number;
  teacherMaxTokens: number;
  teacherTimeoutS: number;
  teacherRetries: number;
  teacherFailures: 'fail' | 'record';
  /** The folder the response cache and the failures file go to. */
  outDir: string;
  /** Where retries and back-offs are reported (a run that backs off must not look stuck). */
  log?: (line: string) => void;
}

/** An open teacher; `failures` lists the problems a server teacher gave up on (`record` mode). */
export interface OpenedTeacher {
  teacher: Teacher;
  failures(): readonly TeacherFailure[];
  /** Where `record` mode writes the failures. */
  failuresFile: string;
  close(): Promise<void>;
}

/** Opens the teacher a `--teacher` value names (URL, recorded:FILE or synthetic). */
export async function openTeacher(spec: string, settings: TeacherSettings): Promise<OpenedTeacher> {
  const failuresFile = path.join(settings.outDir, 'teacher-failures.jsonl');
  const local = (teacher: Teacher): OpenedTeacher => ({
    teacher,
    failures: () => [],
    failuresFile,
    close: async () => {},
  });
  if (spec === 'synthetic') return local(new SyntheticTeacher());
  if (spec.startsWith('recorded:')) {
    const file = spec.slice('recorded:'.length);
    if (!file) throw new UsageError('--teacher recorded:FILE needs a file name');
    return local(await RecordedTeacher.fromJsonl(file));
  }
  if (/^https?:\/\//.test(spec)) {
    if (!settings.teacherModel) throw new UsageError('--teacher URL needs --teacher-model NAME');
    const endpoint = settings.endpoint;
    if (settings.apiKeyEnv && !process.env[settings.apiKeyEnv]) {
      throw new UsageError(
        `--api-key-env ${settings.apiKeyEnv}: the environment variable is not set (it should hold the API key)`,
      );
    }
    const teacher = await OpenAICompatibleTeacher.create({
      baseUrl: spec,
      model: settings.teacherModel,
      endpoint,
      apiKeyEnv: settings.apiKeyEnv,
      cacheFile: path.join(settings.outDir, 'teacher-cache.jsonl'),
      concurrency: settings.requests,
      temperature: settings.teacherTemperature,
      maxTokens: settings.teacherMaxTokens,
      retry: { timeoutMs: settings.teacherTimeoutS * 1000, maxRetries: settings.teacherRetries },
      failuresFile: settings.teacherFailures === 'record' ? failuresFile : undefined,
      onRetry: ({ retry, maxRetries, reason, delayMs }) =>
        settings.log?.(
          `teacher: retry ${retry}/${maxRetries} in ${(delayMs / 1000).toFixed(1)} s after ${reason.slice(0, 160)}`,
        ),
      // The few-shot completions prompt stops where the model would begin the next question.
      buildPrompt: (strategy, question) => {
        const built = buildTeacherPrompt(strategy, question, { endpoint });
        return {
          prompt: built.endpoint === 'chat' ? built.messages : built.prompt,
          stop: built.stop,
        };
      },
    });
    return {
      teacher,
      failures: () => teacher.failures,
      failuresFile,
      close: () => teacher.close(),
    };
  }
  throw new UsageError(
    `--teacher: expected a URL (http://...), recorded:FILE or synthetic, got ${JSON.stringify(spec)}`,
  );
}

/** Options naming the teacher and how to reach it (shared with `siked distill`). */
export const teacherOptions = {
  teacher: {
    flag: '--teacher <url|recorded:file|synthetic>',
    description:
      "an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1), solutions on disk, or the synthetic world's teacher",
    schema: z.string().min(1),
  },
  teacherModel: {
    flag: '--teacher-model <name>',
    description: 'model name on the server',
    schema: z.string().min(1),
  },
  endpoint: {
    flag: '--endpoint <kind>',
    description: 'server endpoint: chat or completions',
    schema: z.enum(['chat', 'completions']),
    choices: ['chat', 'completions'],
    defaultValue: 'chat' as const,
  },
  apiKeyEnv: {
    flag: '--api-key-env <name>',
    description: 'NAME of the environment variable holding the API key (never the key itself)',
    schema: z.string().min(1),
  },
  requests: {
    flag: '--requests <n>',
    description: 'teacher requests in flight at once',
    schema: schemas.positiveInt,
    defaultValue: 8,
  },
  teacherTemperature: {
    flag: '--teacher-temperature <t>',
    description: 'sampling temperature of a server teacher',
    schema: schemas.nonNegative,
    defaultValue: 0.7,
  },
  teacherMaxTokens: {
    flag: '--teacher-max-tokens <n>',
    description: 'most tokens per teacher completion',
    schema: schemas.positiveInt,
    defaultValue: 512,
  },
  teacherTimeoutS: {
    flag: '--teacher-timeout-s <s>',
    description: 'seconds before one teacher request is abandoned (and retried)',
    schema: schemas.positive,
    defaultValue: 120,
  },
  teacherRetries: {
    flag: '--teacher-retries <n>',
    description:
      'retries of a failed teacher request (429, 5xx, timeouts, bad bodies) before the problem fails',
    schema: schemas.nonNegativeInt,
    defaultValue: 5,
  },
  teacherFailures: {
    flag: '--teacher-failures <mode>',
    description:
      'when a problem fails for good: fail (stop asking, exit 1; answers so far are cached) or record (finish the rest, list failures in OUT/teacher-failures.jsonl)',
    schema: z.enum(['fail', 'record']),
    choices: ['fail', 'record'],
    defaultValue: 'fail' as const,
  },
};

/** The teacher settings out of a command's resolved options. */
export function teacherSettingsFrom(
  values: Omit<TeacherSettings, 'outDir' | 'log'>,
  outDir: string,
  log?: (line: string) => void,
): TeacherSettings {
  // The command's other options ride along unread.
  return { ...values, outDir, log };
}

/** `siked teach`: the teacher writes solutions per strategy; each is verified; D_LLM is kept. */
export function registerTeach(program: Command): void {
  defineCommand(program, {
    name: 'teach',
    description:
      'teacher generation with verification: writes OUT/teacher.jsonl (one verified solution per question and strategy) and OUT/teacher-samples.jsonl (every sample, graded)',
    options: {
      ...teacherOptions,
      data: { flag: '--data <file>', description: 'the training problems', schema: schemas.path },
      ...datasetOptions,
      strategies: {
        flag: '--strategies <list>',
        description: 'comma-separated strategies',
        schema: strategyList,
        defaultValue: ['cot', 'l2m', 'pot'],
      },
      samples: {
        flag: '--samples <k>',
        description: 'teacher samples per question and strategy',
        schema: schemas.positiveInt,
        defaultValue: 10,
      },
      out: { flag: '--out <dir>', description: 'output folder', schema: schemas.path },
      concurrency: concurrencyOption,
      ...sandboxOptions,
    },
    examples: [
      'siked teach --teacher synthetic --data train.jsonl --strategies cot,l2m,pot --out runs/teach',
      'siked teach --teacher http://127.0.0.1:8000/v1 --teacher-model llama-3-70b --data ../shared/data/gsm8k/train.jsonl --format gsm8k --out runs/gsm8k',
    ],
    async run(options, _args, context) {
      if (!options.teacher) throw new UsageError('missing --teacher');
      if (!options.data) throw new UsageError('missing --data FILE');
      if (!options.out) throw new UsageError('missing --out DIR');
      const strategies = options.strategies as Strategy[];
      const loaded = await loadDataset(options.format, options.data, loadOptionsFrom(options));
      const problems = loaded.problems;
      await fs.mkdir(options.out, { recursive: true });
      const log = (line: string) => context.progress.log(line);
      const opened = await openTeacher(
        options.teacher,
        teacherSettingsFrom(options, options.out, log),
      );
      const { teacher, close } = opened;
      const sandbox = strategies.includes('pot')
        ? await PythonSandbox.start(sandboxOptionsFrom(options), {
            onWarning: (message) => context.progress.log(`sandbox: ${message}`),
          })
        : undefined;
      const graded: Solution[] = [];
      const perStrategy: Record<string, { samples: number; correct: number }> = {};
      try {
        for (const strategy of strategies) {
          const asked = context.progress.task(`teacher ${strategy}`, problems.length);
          const samples = await teacher.solve(problems, strategy, options.samples, {
            onProblemDone: () => asked.tick(),
          });
          asked.done({ samples: samples.length });
          const task = context.progress.task(`verify ${strategy}`, samples.length);
          const { solutions, stats } = await verifyAll(samples, problems, {
            runner: sandbox,
            concurrency: options.concurrency,
            onProgress: () => task.tick(),
          });
          task.done({ correct: stats.correct });
          graded.push(...solutions);
          perStrategy[strategy] = { samples: stats.total, correct: stats.correct };
        }
      } finally {
        await sandbox?.close();
        await close();
      }
      const kept = keepOnePerQuestionAndStrategy(graded);
      const samplesOut = await openOutput(path.join(options.out, 'teacher-samples.jsonl'));
      for (const solution of graded) samplesOut.writeLine(solution);
      await samplesOut.close();
      const keptFile = path.join(options.out, 'teacher.jsonl');
      const keptOut = await openOutput(keptFile);
      for (const solution of kept) keptOut.writeLine(solution);
      await keptOut.close();
      const keptCounts = countStrategies(kept);
      const summary = {
        teacher: teacher.name,
        problems: problems.length,
        out: options.out,
        teacherFile: keptFile,
        perStrategy: Object.fromEntries(
          strategies.map((s) => [s, { ...perStrategy[s], kept: keptCounts[s] }]),
        ),
        kept: kept.length,
        failed: opened.failures().length,
        ...(opened.failures().length > 0 ? { failuresFile: opened.failuresFile } : {}),
      };
      const failedLine =
        opened.failures().length > 0
          ? `${opened.failures().length} request(s) failed for good and were left out: ${opened.failuresFile}`
          : null;
      if (failedLine) context.progress.log(failedLine);
      if (context.json) {
        context.printJson(summary);
        return;
      }
      context.print(
        [
          `teacher ${teacher.name} on ${problems.length} problems -> ${keptFile}`,
          ...STRATEGIES.filter((s) => strategies.includes(s)).map(
            (s) =>
              `${s}: ${perStrategy[s].correct}/${perStrategy[s].samples} samples correct, ${keptCounts[s]} kept`,
          ),
          ...(failedLine ? [failedLine] : []),
        ].join('\n'),
      );
    },
  });
}
