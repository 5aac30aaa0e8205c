import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_LORA,
  EngineStudentFactory,
  ExternalTrainerFactory,
  OpenAiStudentServer,
  loadDataset,
  nativeModelLoader,
  readProblemsJsonl,
  runSettingsSchema,
  trainingSettingsSchema,
  type Problem,
  type RunSettingsInput,
  type Strategy,
  type StudentServer,
} from '@siked/core';
import { z } from 'zod';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import {
  optionsFromSchema,
  schemas,
  unprefixOptions,
  validateOptionValues,
  type ResolvedOptions,
} from '../options';
import {
  DISTILL_INVOCATION_FILE,
  checkInputPaths,
  checkNewRunDir,
  readInvocation,
  refuseLockedRun,
  writeInvocation,
} from './distill-invocation';
import {
  chatTemplateOption,
  modelOptions,
  resolveStudentFormat,
  templateOption,
  tokenizerOptionsFor,
} from './model-options';
import { formatRunTable, runAndReport } from './run-siked';
import {
  datasetOptions,
  loadOptionsFrom,
  sandboxOptions,
  sandboxOptionsFrom,
  workingCheckList,
} from './shared-options';
import { openTeacher, strategyList, teacherOptions, teacherSettingsFrom } from './teach';

// The loop's settings, flags and help derived from its own schema (defined once, in core).
const runSettingOptions = optionsFromSchema(runSettingsSchema, [
  'seed',
  'iterations',
  'forcedStrategy',
  'teacherSamplesPerQuestion',
  'selfSamples',
  'temperature',
  'topP',
  'maxNewTokens',
  'mixing',
  'studentInit',
  'validationFraction',
  'earlyStopping',
  'earlyStoppingPatience',
  'verificationTimeoutMs',
]);
const trainingOptions = optionsFromSchema(
  trainingSettingsSchema,
  [
    'epochs',
    'learningRate',
    'warmupRatio',
    'warmupSteps',
    'lrScheduler',
    'weightDecay',
    'maxGradNorm',
    'microBatchSize',
    'gradientAccumulation',
    'maxSequenceLength',
    'overLength',
    'packing',
  ],
  'train',
);

const distillOptions = {
  ...teacherOptions,
  model: {
    ...modelOptions.model,
    description: 'the base student M0 (checkpoint folder with tokenizer.json)',
  },
  device: modelOptions.device,
  threads: modelOptions.threads,
  precision: modelOptions.precision,
  template: templateOption,
  chatTemplate: chatTemplateOption,
  train: { flag: '--train <file>', description: 'the training problems', schema: schemas.path },
  ...datasetOptions,
  evalSet: {
    flag: '--eval-set <name=file...>',
    description:
      'evaluation sets reported every iteration, as Problem JSONL (see siked data convert)',
    schema: z
      .union([z.string(), z.array(z.string())])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .pipe(z.array(z.string().regex(/^[\w.-]+=.+$/, 'expected NAME=FILE'))),
  },
  out: {
    flag: '--out <run-dir>',
    description: 'the run directory (new, or an unfinished run)',
    schema: schemas.path,
  },
  resume: {
    flag: '--resume <run-dir>',
    description: `continue a killed run with the options it was started with (${DISTILL_INVOCATION_FILE})`,
    schema: schemas.path,
  },
  strategies: {
    flag: '--strategies <list>',
    description: 'comma-separated strategies the teacher is asked for and the student may use',
    schema: strategyList,
    defaultValue: ['cot', 'l2m', 'pot'],
  },
  selfWorkingChecks: {
    flag: '--self-working-checks <list>',
    description:
      "comma-separated checks a student's own right answer must also pass: arithmetic (every equation of a CoT/L2M text holds), grounded-names (a PoT program's variable names use the question's words); an ablation, the reference checks the answer only",
    schema: workingCheckList,
    defaultValue: [],
  },
  loraRank: {
    flag: '--lora-rank <r>',
    description: 'LoRA rank (0 = full fine-tuning, what tiny from-scratch students use)',
    schema: schemas.nonNegativeInt,
    defaultValue: 16,
  },
  loraAlpha: {
    flag: '--lora-alpha <a>',
    description: 'LoRA alpha',
    schema: schemas.positive,
    defaultValue: 32,
  },
  ...runSettingOptions,
  ...trainingOptions,
  ...sandboxOptions,
  sampler: {
    flag: '--sampler <url>',
    description:
      "scale-out: sample self-generation on this OpenAI-compatible server (vLLM), e.g. http://gpu1:8000/v1; each iteration's student is loaded there as a LoRA adapter (or by --sampler-reload-command)",
    schema: z.string().regex(/^https?:\/\//, 'expected an http:// or https:// URL'),
  },
  samplerModel: {
    flag: '--sampler-model <name>',
    description:
      "the base model's name on the --sampler server (vLLM --served-model-name); requests for a LoRA student name its adapter instead",
    schema: z.string().min(1),
  },
  samplerApiKeyEnv: {
    flag: '--sampler-api-key-env <VAR>',
    description: 'environment variable holding the --sampler server API key (never logged)',
    schema: z.string().min(1),
  },
  samplerConcurrency: {
    flag: '--sampler-concurrency <n>',
    description: 'requests in flight at once to the --sampler server',
    schema: schemas.positiveInt,
    defaultValue: 16,
  },
  samplerReloadCommand: {
    flag: '--sampler-reload-command <cmd>',
    description:
      'shell command that makes the --sampler server serve a new student (given SIKED_MODEL_DIR, SIKED_ADAPTER_DIR, SIKED_ITERATION); for servers without runtime LoRA and for full fine-tuning',
    schema: z.string().min(1),
  },
  samplerEval: {
    flag: '--sampler-eval',
    description: 'send evaluation (greedy) to the --sampler server too',
    schema: z.boolean(),
    defaultValue: false,
  },
  trainerCommand: {
    flag: '--trainer-command <cmd>',
    description:
      'scale-out: train each iteration with this shell command (e.g. TRL SFT under accelerate; see docs/SCALING.md) given SIKED_TRAIN_FILE, SIKED_SETTINGS_FILE, SIKED_MODEL_DIR, SIKED_OUTPUT_DIR; its adapter or checkpoint is read back',
    schema: z.string().min(1),
  },
};

type DistillValues = ResolvedOptions<typeof distillOptions>;

async function readEvalSets(specs: readonly string[]): Promise<Record<string, Problem[]>> {
  const sets: Record<string, Problem[]> = {};
  for (const spec of specs) {
    const [name, ...rest] = spec.split('=');
    const file = rest.join('=');
    sets[name] = (await readProblemsJsonl(file)).problems;
    if (sets[name].length === 0) throw new UsageError(`--eval-set ${spec}: no problems in ${file}`);
  }
  return sets;
}

/**
 * The options of the run `--resume RUN_DIR` continues, as recorded in its distill.json (paths
 * relative to the run folder). Any other option given with --resume is refused: it would be
 * ignored, and the user would believe it applied.
 */
async function resumedValues(
  options: DistillValues,
  log: (line: string) => void,
): Promise<DistillValues> {
  const runDir = options.resume!;
  const ignored = Object.entries(distillOptions)
    .filter(([key]) => key !== 'resume')
    .filter(([key, definition]) => {
      const value = (options as Record<string, unknown>)[key];
      const fallback = (definition as { defaultValue?: unknown }).defaultValue;
      return value !== undefined && JSON.stringify(value) !== JSON.stringify(fallback);
    })
    .map(([, definition]) => definition.flag.split(' ')[0]);
  if (ignored.length > 0) {
    throw new UsageError(
      `--resume ${runDir} continues the run with the options it was started with; ${ignored.join(', ')} would be ignored (start a new --out to change them)`,
    );
  }
  const recorded = await readInvocation(runDir);
  if (!recorded) {
    throw new UsageError(
      `--resume ${runDir}: no ${DISTILL_INVOCATION_FILE} there (not a run started by siked distill)`,
    );
  }
  const file = path.join(runDir, DISTILL_INVOCATION_FILE);
  // Re-checked like any input: the file may have been edited, or written by an older siked.
  const values = validateOptionValues(distillOptions, recorded, (key) => `${file}, field "${key}"`);
  log(`resuming ${runDir} with the options recorded in ${file}`);
  return values;
}

/** The --sampler server the run samples on (checked before the run folder is touched). */
function studentServerFrom(values: DistillValues, log: (line: string) => void): StudentServer {
  if (!values.samplerModel)
    throw new UsageError(
      "--sampler needs --sampler-model NAME: the base model's name on that server (vLLM --served-model-name)",
    );
  return new OpenAiStudentServer({
    baseUrl: values.sampler!,
    model: values.samplerModel,
    concurrency: values.samplerConcurrency,
    evaluation: values.samplerEval,
    ...(values.samplerApiKeyEnv ? { apiKeyEnv: values.samplerApiKeyEnv } : {}),
    ...(values.samplerReloadCommand ? { reloadCommand: values.samplerReloadCommand } : {}),
    onOutput: (text) => {
      for (const line of text.split('\n')) if (line.trim()) log(`sampler reload: ${line}`);
    },
  });
}

/** `siked distill`: the SIKeD loop on your data, teacher and base model; resumable. */
export function registerDistill(program: Command): void {
  defineCommand(program, {
    name: 'distill',
    description:
      'run the SIKeD loop: teacher data -> combined distillation -> self-guided iterations, evaluated each time; --resume RUN_DIR continues a killed run',
    options: distillOptions,
    examples: [
      'siked distill --teacher recorded:teacher.jsonl --train train.jsonl --model base/ --eval-set test=test.jsonl --out runs/gsm8k',
      'siked distill --config distill.json',
      'siked distill --resume runs/gsm8k',
    ],
    async run(options, _args, context) {
      const values = options.resume
        ? await resumedValues(options, context.progress.log.bind(context.progress))
        : options;
      const { teacher: teacherSpec, train, model: modelDir, out: runDir } = values;
      if (!teacherSpec) throw new UsageError('missing --teacher');
      if (!train) throw new UsageError('missing --train FILE');
      if (!modelDir) throw new UsageError('missing --model DIR');
      if (!runDir) throw new UsageError('missing --out RUN_DIR');
      const log = (line: string) => context.progress.log(line);
      const studentServer = values.sampler ? studentServerFrom(values, log) : undefined;
      const format = resolveStudentFormat(values.template, modelDir, values.chatTemplate);
      // Everything is checked and read before the run folder is touched: a refused call leaves
      // an existing run exactly as it was.
      checkInputPaths(values);
      // A record written by an older siked lacks the options added since: read it like --resume
      // does, so those take their defaults (which keep the older behaviour).
      const existing = options.resume
        ? true
        : await checkNewRunDir(runDir, values, (recorded) =>
            validateOptionValues(distillOptions, recorded, (key) => `distill.json, field "${key}"`),
          );
      await refuseLockedRun(runDir);
      const trainProblems = (await loadDataset(values.format, train, loadOptionsFrom(values)))
        .problems;
      if (trainProblems.length === 0)
        throw new UsageError(`--train ${train}: no problems in the file`);
      const evalSets = await readEvalSets(values.evalSet ?? []);
      if (!existing) {
        await fs.mkdir(runDir, { recursive: true });
        await writeInvocation(runDir, values);
      }

      const opened = await openTeacher(
        teacherSpec,
        teacherSettingsFrom(values, runDir, (line) => context.progress.log(line)),
      );
      const { teacher, close } = opened;
      const byName: Record<string, unknown> = values;
      // The loop validates these again with its own schema (resolveRunSettings).
      const settings = {
        ...Object.fromEntries(Object.keys(runSettingOptions).map((key) => [key, byName[key]])),
        strategies: values.strategies as Strategy[],
        selfWorkingChecks: values.selfWorkingChecks,
        training: unprefixOptions(byName, 'train'),
      } as RunSettingsInput;
      const lora =
        values.loraRank > 0
          ? { rank: values.loraRank, alpha: values.loraAlpha, targets: [...DEFAULT_LORA.targets] }
          : undefined;
      const engineFactory = new EngineStudentFactory({
        baseDir: modelDir,
        loadModel: nativeModelLoader({
          device: values.device,
          threads: values.threads,
          precision: values.precision,
        }),
        student: { ...(lora ? { lora } : {}), studentFormat: format.template },
        tokenizer: tokenizerOptionsFor(format),
      });
      try {
        const completed = await runAndReport(
          {
            runDir,
            settings,
            trainProblems,
            evalSets,
            teacher,
            studentFactory: values.trainerCommand
              ? new ExternalTrainerFactory(engineFactory, modelDir, {
                  command: values.trainerCommand,
                  workDir: path.join(runDir, 'trainer'),
                  ...(lora ? { lora } : {}),
                })
              : engineFactory,
            ...(studentServer ? { studentServer } : {}),
            studentName: modelDir,
            format,
          },
          sandboxOptionsFrom(values),
          context.progress,
        );
        const failed = opened.failures().length;
        if (failed > 0)
          context.progress.log(
            `teacher: ${failed} request(s) failed for good and were left out: ${opened.failuresFile}`,
          );
        if (context.json) {
          context.printJson({
            runDir,
            status: completed.summary.status,
            bestIteration: completed.summary.bestIteration,
            report: completed.report.html,
            iterations: completed.summary.iterations,
          });
        } else {
          context.print(`${formatRunTable(completed.summary)}\nreport: ${completed.report.html}`);
        }
      } finally {
        await close();
      }
    },
  });
}
