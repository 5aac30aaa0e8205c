import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  PythonSandbox,
  buildSyntheticWorld,
  forkRunAfterIteration0,
  readManifest,
  runSiked,
  type ProgramRunner,
  type SyntheticWorld,
} from '@siked/core';
import {
  accuracyVsStepsSpec,
  compareMethods,
  familyTable,
  formatExperimentMarkdown,
  soundnessTable,
  loadRunPredictions,
  loadRunSummary,
  meanStd,
  renderPlot,
  summarizeExperiment,
  type ExperimentRun,
  type RunSummary,
} from '@siked/eval';
import { z } from 'zod';
import { defineCommand, type CommandContext } from '../command';
import { UsageError } from '../errors';
import { runTaskGraph, type GraphTask } from '../task-graph';
import { schemas } from '../options';
import {
  ARM_DEFINITIONS,
  ARMS,
  COMBINED,
  DEFAULT_ARMS,
  chosen,
  comparisonSpecs,
  methodRows,
  orderArms,
  type Arm,
  type StepTargets,
} from './experiment-arms';
import { modelOptions } from './model-options';
import { progressListener } from './run-siked';
import { sandboxOptions, sandboxOptionsFrom } from './shared-options';
import { syntheticRunInputs } from './synthetic-run';

const presets = ['tiny', 'demo', 'full'] as const;

function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} CPU threads (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

interface SeedJob {
  seed: number;
  arms: readonly Arm[];
  iterations: number;
  preset: (typeof presets)[number];
  outDir: string;
  engine: { device: 'cpu' | 'cuda'; threads?: number; precision: 'fp32' | 'bf16' };
  pretrain: boolean;
  runner: ProgramRunner;
  context: CommandContext;
  /** Set by the first arm that trains or evaluates anything in this invocation. */
  work: { done: boolean };
}

/** The steps of each iteration of a finished run (from its eval.json files). */
function iterationSteps(summary: RunSummary, runDir: string): number[] {
  return summary.iterations.map((it) => {
    if (it.trainSteps === null)
      throw new Error(`${runDir}: iteration ${it.iteration} has no step count`);
    return it.trainSteps;
  });
}

/** What every arm of a seed shares: the world and the run inputs (base model, teacher, ...). */
interface PreparedSeed {
  world: SyntheticWorld;
  inputs: Awaited<ReturnType<typeof syntheticRunInputs>>;
  targets: StepTargets;
}

/**
 * The (seed, arm) runs as a task graph: an arm that forks siked-sparse's iteration 0 or matches
 * its step counts waits for that seed's siked-sparse run, nothing else; seeds are prepared
 * (world, pretrained base) once, by their first task. The list order is the priority: every
 * seed's siked-sparse first, then the other arms seed by seed.
 */
function experimentTasks(job: Omit<SeedJob, 'seed'>, seeds: readonly number[]) {
  const prepared = new Map<number, Promise<PreparedSeed>>();
  const prepare = (seed: number) => {
    let once = prepared.get(seed);
    if (!once) {
      once = (async () => {
        const world = buildSyntheticWorld(job.preset, seed);
        const inputs = await syntheticRunInputs(
          world,
          path.join(job.outDir, `seed-${seed}`, 'base-model'),
          {
            ...job.engine,
            pretrain: job.pretrain,
            cacheDir: job.outDir,
            log: (message) => job.context.progress.log(`seed ${seed}: ${message}`),
          },
        );
        return { world, inputs, targets: { sparseIterationSteps: null } };
      })();
      prepared.set(seed, once);
    }
    return once;
  };
  const key = (seed: number, arm: Arm) => `seed ${seed}, arm ${arm}`;
  const tasks: GraphTask<ExperimentRun>[] = seeds.flatMap((seed) =>
    job.arms.map((arm) => ({
      key: key(seed, arm),
      needs: ARM_DEFINITIONS[arm].needs.map((need) => key(seed, need)),
      run: async () => runArm({ ...job, seed }, arm, await prepare(seed)),
    })),
  );
  // Runs that others wait for (every seed's siked-sparse) go first: the last seed's then ends
  // early enough for its arms to fill both lanes instead of one lane idling behind it.
  const roots = tasks.filter((task) => task.needs.length === 0);
  return { tasks: [...roots, ...tasks.filter((task) => task.needs.length > 0)], key, prepare };
}

/** Runs (or resumes) one arm of one seed. */
async function runArm(job: SeedJob, arm: Arm, seed: PreparedSeed): Promise<ExperimentRun> {
  const seedDir = path.join(job.outDir, `seed-${job.seed}`);
  const base = { seed: job.seed, ...seed.world.preset.run };
  const definition = ARM_DEFINITIONS[arm];
  const runDir = path.join(seedDir, arm);
  let settings = definition.settings(base, job.iterations, seed.targets);
  if (definition.forksIteration0) {
    settings = await forkRunAfterIteration0(path.join(seedDir, 'siked-sparse'), runDir, settings);
  }
  // A finished run only reloads: its seconds are not wall time spent on the experiment.
  const finished = ((await readManifest(runDir))?.status ?? 'running') !== 'running';
  if (!finished) job.work.done = true;
  job.context.progress.log(`seed ${job.seed}, arm ${arm}: ${runDir}`);
  const started = Date.now();
  await runSiked({
    runDir,
    settings,
    ...seed.inputs,
    runner: job.runner,
    onEvent: progressListener(job.context.progress),
  });
  const wallSeconds = await addWallTime(
    path.join(seedDir, `${arm}.wall-seconds.json`),
    finished ? 0 : (Date.now() - started) / 1000,
  );
  const summary = await loadRunSummary(runDir);
  if (arm === 'siked-sparse') seed.targets.sparseIterationSteps = iterationSteps(summary, runDir);
  return {
    arm,
    seed: job.seed,
    summary,
    wallSeconds,
    predictions: await loadRunPredictions(runDir),
  };
}

/**
 * The engine precision is not part of a run's settings (runs resume on settings alone), so the
 * experiment folder records it and refuses to continue in the other one: a folder must never mix
 * fp32 and bf16 arms.
 */
async function checkEnginePrecision(outDir: string, precision: 'fp32' | 'bf16'): Promise<void> {
  const file = path.join(outDir, 'engine-precision.json');
  const written = await fs
    .readFile(file, 'utf8')
    .then((text) => (JSON.parse(text) as { precision?: unknown }).precision)
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new UsageError(`${file}: unreadable (${error.message})`);
    });
  // Folders from before the record existed ran in fp32 (the only precision then).
  const legacy = (await fs.readdir(outDir).catch(() => [] as string[])).some((name) =>
    name.startsWith('seed-'),
  );
  const recorded = written ?? (legacy ? 'fp32' : undefined);
  if (recorded !== undefined && recorded !== precision) {
    throw new UsageError(
      `--precision ${precision}: the experiment in ${outDir} was run with --precision ${String(recorded)} (${file}); use that, or another --out`,
    );
  }
  await fs.mkdir(outDir, { recursive: true });
  await fs.writeFile(file, JSON.stringify({ precision }) + '\n');
}

/** `siked experiment`: the paper's comparison in the synthetic world, over seeds. */
export function registerExperiment(program: Command): void {
  const { device, threads, precision } = modelOptions;
  defineCommand(program, {
    name: 'experiment',
    description:
      "the paper's comparison in the synthetic world over seeds: SIKeD-sparse/all, a compute-matched combined-continue control, step-matched CoT/L2M/PoT-only; paired bootstrap intervals; writes a RESULTS.md (rerun to resume)",
    options: {
      preset: {
        flag: '--preset <name>',
        description: 'synthetic-world preset',
        schema: z.enum(presets),
        choices: presets,
        defaultValue: 'demo' as const,
      },
      seeds: {
        flag: '--seeds <list>',
        description: 'comma-separated seeds (>= 5 for intervals worth reading)',
        schema: z
          .string()
          .regex(/^\d+(,\d+)*$/, 'expected comma-separated whole numbers, e.g. 0,1,2'),
        defaultValue: '0,1,2,3,4',
      },
      arms: {
        flag: '--arms <list>',
        description: `comma-separated arms among ${ARMS.join(', ')}`,
        schema: z.string().min(1),
        defaultValue: DEFAULT_ARMS.join(','),
      },
      iterations: {
        flag: '--iterations <n>',
        description: 'SIKeD iterations after combined distillation',
        schema: schemas.positiveInt,
        defaultValue: 2,
      },
      jobs: {
        flag: '--jobs <n>',
        description:
          "runs (one seed's arm each) at once, each with --threads engine threads; an arm starts as soon as the siked-sparse run of its seed is done",
        schema: schemas.positiveInt,
        defaultValue: 1,
      },
      pretrain: {
        flag: '--no-pretrain',
        description:
          "start every arm from a random-initialised student instead of one pretrained on the world's unlabelled text",
        schema: z.boolean(),
        defaultValue: true,
      },
      out: {
        flag: '--out <dir>',
        description:
          'experiment folder: one run folder per seed and arm (default: runs/experiment-<preset>)',
        schema: schemas.path,
      },
      results: {
        flag: '--results <file>',
        description: 'where to write the results page (default: <out>/RESULTS.md)',
        schema: schemas.path,
      },
      device,
      threads,
      precision,
      ...sandboxOptions,
    },
    examples: [
      'siked experiment --jobs 2 --threads 1 --results docs/RESULTS.md',
      'siked experiment --jobs 2 --threads 1 --precision bf16',
      'siked experiment --preset tiny --seeds 0,1,2 --iterations 1 --out /tmp/exp --json',
      'siked experiment --arms siked-sparse,combined-continue,self-only',
    ],
    async run(options, _args, context) {
      const started = Date.now();
      const { arms, unknown, missing } = orderArms(options.arms.split(',').map((a) => a.trim()));
      if (unknown.length > 0) {
        throw new UsageError(
          `--arms: unknown arm(s) ${unknown.join(', ')}; expected ${ARMS.join(', ')}`,
        );
      }
      if (missing.length > 0) {
        throw new UsageError(
          `--arms: ${missing.join(', ')} must be included (the other arms fork its iteration 0 or match its step counts)`,
        );
      }
      const seeds = [...new Set(options.seeds.split(',').map(Number))];
      const outDir = options.out ?? path.join('runs', `experiment-${options.preset}`);
      const resultsFile = options.results ?? path.join(outDir, 'RESULTS.md');
      await checkEnginePrecision(outDir, options.precision);

      const runner = await PythonSandbox.start(sandboxOptionsFrom(options), {
        onWarning: (message) => context.progress.log(`sandbox: ${message}`),
      });
      const work = { done: false };
      let perSeed: Array<{ runs: ExperimentRun[]; world: SyntheticWorld }>;
      try {
        const { tasks, key, prepare } = experimentTasks(
          {
            arms,
            iterations: options.iterations,
            preset: options.preset,
            outDir,
            engine: {
              device: options.device,
              threads: options.threads,
              precision: options.precision,
            },
            pretrain: options.pretrain,
            runner,
            context,
            work,
          },
          seeds,
        );
        const done = await runTaskGraph(tasks, options.jobs);
        perSeed = await Promise.all(
          seeds.map(async (seed) => ({
            runs: arms.map((arm) => done.get(key(seed, arm))!),
            world: (await prepare(seed)).world,
          })),
        );
      } finally {
        await runner.close();
      }
      const totalWallSeconds = await addWallTime(
        path.join(outDir, 'experiment.wall-seconds.json'),
        work.done ? (Date.now() - started) / 1000 : 0,
      );

      const families = new Map<number, Map<string, string>>();
      const questions = new Map<number, Map<string, string>>();
      for (const { world } of perSeed) {
        const byId = new Map<string, string>();
        for (const problems of Object.values(world.splits))
          for (const p of problems) {
            const family = (p.meta as { family?: unknown } | undefined)?.family;
            if (typeof family === 'string') byId.set(p.id, family);
          }
        families.set(world.seed, byId);
        questions.set(world.seed, new Map(world.splits.test.map((p) => [p.id, p.question])));
      }
      const runs = perSeed.flatMap((s) => s.runs);
      const summary = summarizeExperiment(runs, methodRows(arms, options.iterations));
      const pretraining = await pretrainingSeconds(outDir, seeds);
      if (pretraining) summary.wallSeconds['pretraining (base model, once per seed)'] = pretraining;
      const comparisons = compareMethods(summary, comparisonSpecs(arms, options.iterations));
      const singleStrategyRows = Object.fromEntries(
        arms.flatMap((arm) => {
          const { strategy, label } = ARM_DEFINITIONS[arm];
          return strategy ? [[strategy, label]] : [];
        }),
      );
      const table = familyTable(summary, {
        familyOf: (seed, id) => families.get(seed)?.get(id),
        singleStrategyRows,
        methodRows: [
          COMBINED,
          ...arms.filter((a) => ARM_DEFINITIONS[a].strategy === undefined).map(chosen),
        ],
      });

      const resultsDir = path.dirname(path.resolve(resultsFile));
      await fs.mkdir(resultsDir, { recursive: true });
      const stem = path.basename(resultsFile, path.extname(resultsFile)).toLowerCase();
      const figures: Array<{ title: string; file: string }> = [];
      for (const quantity of ['test', 'ood'] as const) {
        const plot = accuracyVsStepsSpec(summary, quantity);
        if (!plot) continue;
        const rendered = await renderPlot(plot);
        const file = `${stem}-${plot.name}`;
        await fs.writeFile(path.join(resultsDir, `${file}.svg`), rendered.svg);
        await fs.writeFile(path.join(resultsDir, `${file}.png`), rendered.png);
        figures.push({ title: plot.title, file: `${file}.svg` });
      }

      const command = [
        'npx siked experiment',
        `--preset ${options.preset}`,
        `--seeds ${seeds.join(',')}`,
        `--arms ${arms.join(',')}`,
        `--iterations ${options.iterations}`,
        options.out ? `--out ${options.out}` : '',
        options.pretrain ? '' : '--no-pretrain',
        options.jobs > 1 ? `--jobs ${options.jobs}` : '',
        options.threads ? `--threads ${options.threads}` : '',
        options.precision === 'bf16' ? '--precision bf16' : '',
        options.results ? `--results ${options.results}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const markdown = formatExperimentMarkdown(summary, {
        command,
        setting: `synthetic world, preset "${options.preset}", ${options.pretrain ? "students pretrained on the world's unlabelled text" : 'students from random initialisation'}${options.precision === 'bf16' ? ', bf16 mixed-precision training and scoring' : ''}`,
        machine: machineDescription(),
        date: new Date().toISOString().slice(0, 10),
        comparisons,
        families: table,
        soundness: soundnessTable(summary, (seed, id) => questions.get(seed)?.get(id)),
        figures,
        totalWallSeconds,
      });
      await fs.writeFile(resultsFile, markdown);
      if (context.json) {
        context.printJson({
          outDir,
          results: resultsFile,
          summary: stripRuns(summary),
          comparisons,
        });
        return;
      }
      context.print(`${markdown}\nresults: ${resultsFile}`);
    },
  });
}

/** Seconds the base models' pretraining took (their pretraining-summary.json), over seeds. */
async function pretrainingSeconds(outDir: string, seeds: readonly number[]) {
  const seconds = await Promise.all(
    seeds.map((seed) =>
      fs
        .readFile(
          path.join(outDir, `seed-${seed}`, 'base-model', 'pretraining-summary.json'),
          'utf8',
        )
        .then((text) => (JSON.parse(text) as { seconds: number }).seconds)
        .catch(() => null),
    ),
  );
  return meanStd(seconds.filter((s): s is number => s !== null));
}

/** The summary without the per-run back references (graded answers), for --json. */
function stripRuns(summary: ReturnType<typeof summarizeExperiment>) {
  return {
    ...summary,
    methods: summary.methods.map(({ picks, ...rest }) => ({
      ...rest,
      picks: picks.map((p) => ({ seed: p.seed, iteration: p.iteration })),
    })),
  };
}

/**
 * Wall time summed over the invocations that did work (a resumed run adds up; an invocation
 * that found it finished adds ~0), kept beside the run folder (a fork copies the folder, not
 * this file). A forked arm's time excludes the iteration 0 it shares.
 */
async function addWallTime(file: string, seconds: number): Promise<number> {
  const previous = await fs
    .readFile(file, 'utf8')
    .then((text) => (JSON.parse(text) as { seconds: number }).seconds)
    .catch(() => 0);
  const total = previous + seconds;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify({ seconds: total })}\n`);
  return total;
}
