import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  PythonSandbox,
  STRATEGIES,
  buildSyntheticWorld,
  forkRunAfterIteration0,
  runSiked,
  type RunSettingsInput,
  type Strategy,
} from '@siked/core';
import {
  STRATEGY_LABELS,
  formatExperimentMarkdown,
  loadRunSummary,
  summarizeExperiment,
  type ExperimentRun,
  type MethodSpec,
} from '@siked/eval';
import { z } from 'zod';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';
import { modelOptions } from './model-options';
import { progressListener } from './run-siked';
import { sandboxOptions, sandboxOptionsFrom } from './shared-options';
import { syntheticRunInputs } from './synthetic-run';

const presets = ['tiny', 'demo', 'full'] as const;
/** The paper's comparison: single-strategy baselines, then combined distillation + SIKeD. */
const ARMS = ['cot', 'l2m', 'pot', 'siked-sparse', 'siked-all'] as const;
type Arm = (typeof ARMS)[number];
/** The strategy a single-strategy arm forces; undefined for the SIKeD arms. */
const singleStrategy = (arm: Arm): Strategy | undefined =>
  (STRATEGIES as readonly string[]).includes(arm) ? (arm as Strategy) : undefined;

/** Table rows: every arm's iterations, then the validation-chosen SIKeD results. */
function methodRows(arms: readonly Arm[], iterations: number): MethodSpec[] {
  const rows: MethodSpec[] = [];
  for (const arm of arms) {
    const single = singleStrategy(arm);
    if (single) rows.push({ label: `${STRATEGY_LABELS[single]} only`, arm, iteration: 0 });
  }
  const sikedArms = arms.filter((arm) => arm.startsWith('siked'));
  if (sikedArms.length > 0) {
    rows.push({ label: 'Combined (iteration 0)', arm: sikedArms[0], iteration: 0, loop: true });
  }
  for (const arm of sikedArms) {
    const name = arm === 'siked-sparse' ? 'SIKeD-sparse' : 'SIKeD-all';
    for (let t = 1; t <= iterations; t += 1)
      rows.push({ label: `${name}, iteration ${t}`, arm, iteration: t, loop: true });
    rows.push({ label: `${name}, chosen on validation`, arm, iteration: 'best' });
  }
  return rows;
}

function armSettings(arm: Arm, base: RunSettingsInput, iterations: number): RunSettingsInput {
  const single = singleStrategy(arm);
  if (single) return { ...base, strategies: [single], forcedStrategy: single, iterations: 0 };
  return {
    ...base,
    iterations,
    mixing: arm === 'siked-all' ? 'all' : 'sparse',
    // Every iteration is reported; the validation choice is a row of its own.
    earlyStopping: false,
  };
}

function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} CPU threads (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** `siked experiment`: the paper's comparison in the synthetic world, over seeds. */
export function registerExperiment(program: Command): void {
  const { device, threads } = modelOptions;
  defineCommand(program, {
    name: 'experiment',
    description:
      "the paper's comparison in the synthetic world over seeds: CoT/L2M/PoT-only, combined, SIKeD-sparse and SIKeD-all; writes a RESULTS.md (rerun to resume)",
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
        description: 'comma-separated seeds (>= 3 for a mean and std worth reading)',
        schema: z
          .string()
          .regex(/^\d+(,\d+)*$/, 'expected comma-separated whole numbers, e.g. 0,1,2'),
        defaultValue: '0,1,2',
      },
      arms: {
        flag: '--arms <list>',
        description: `comma-separated arms among ${ARMS.join(', ')}`,
        schema: z.string().min(1),
        defaultValue: ARMS.join(','),
      },
      iterations: {
        flag: '--iterations <n>',
        description: 'SIKeD iterations after combined distillation',
        schema: schemas.positiveInt,
        defaultValue: 3,
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
      ...sandboxOptions,
    },
    examples: [
      'siked experiment',
      'siked experiment --preset tiny --seeds 0,1,2 --iterations 1 --out /tmp/exp --json',
      'siked experiment --arms siked-sparse,siked-all --results docs/RESULTS.md',
    ],
    async run(options, _args, context) {
      const arms = options.arms.split(',').map((name) => name.trim());
      const unknown = arms.filter((name) => !(ARMS as readonly string[]).includes(name));
      if (unknown.length > 0) {
        throw new UsageError(
          `--arms: unknown arm(s) ${unknown.join(', ')}; expected ${ARMS.join(', ')}`,
        );
      }
      // Forks share iteration 0, so the sparse arm (when asked for) runs first.
      const ordered = ARMS.filter((arm) => arms.includes(arm));
      const seeds = [...new Set(options.seeds.split(',').map(Number))];
      const outDir = options.out ?? path.join('runs', `experiment-${options.preset}`);
      const resultsFile = options.results ?? path.join(outDir, 'RESULTS.md');

      const runner = await PythonSandbox.start(sandboxOptionsFrom(options), {
        onWarning: (message) => context.progress.log(`sandbox: ${message}`),
      });
      const runs: ExperimentRun[] = [];
      try {
        for (const seed of seeds) {
          const world = buildSyntheticWorld(options.preset, seed);
          const seedDir = path.join(outDir, `seed-${seed}`);
          const baseDir = path.join(seedDir, 'base-model');
          const inputs = await syntheticRunInputs(world, baseDir, {
            device: options.device,
            threads: options.threads,
          });
          const base: RunSettingsInput = { seed, ...world.preset.run };
          let sourceOfIteration0: string | null = null;
          for (const arm of ordered) {
            const runDir = path.join(seedDir, arm);
            let settings = armSettings(arm, base, options.iterations);
            if (arm.startsWith('siked') && sourceOfIteration0 !== null) {
              settings = await forkRunAfterIteration0(sourceOfIteration0, runDir, settings);
            }
            context.progress.log(`seed ${seed}, arm ${arm}: ${runDir}`);
            const started = Date.now();
            await runSiked({
              runDir,
              settings,
              ...inputs,
              runner,
              onEvent: progressListener(context.progress),
            });
            const wallSeconds = await recordWallTime(
              path.join(seedDir, `${arm}.wall-seconds.json`),
              (Date.now() - started) / 1000,
            );
            if (arm.startsWith('siked')) sourceOfIteration0 ??= runDir;
            runs.push({ arm, seed, summary: await loadRunSummary(runDir), wallSeconds });
          }
        }
      } finally {
        await runner.close();
      }

      const summary = summarizeExperiment(runs, methodRows(ordered, options.iterations));
      const command = [
        'siked experiment',
        `--preset ${options.preset}`,
        `--seeds ${seeds.join(',')}`,
        `--arms ${ordered.join(',')}`,
        `--iterations ${options.iterations}`,
        options.threads ? `--threads ${options.threads}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const markdown = formatExperimentMarkdown(summary, {
        command: `npx ${command}`,
        setting: `synthetic world, preset "${options.preset}"`,
        machine: machineDescription(),
        date: new Date().toISOString().slice(0, 10),
      });
      await fs.mkdir(path.dirname(path.resolve(resultsFile)), { recursive: true });
      await fs.writeFile(resultsFile, markdown);
      if (context.json) {
        context.printJson({ outDir, results: resultsFile, summary });
        return;
      }
      context.print(`${markdown}\nresults: ${resultsFile}`);
    },
  });
}

/**
 * Wall time of a run summed over the invocations that did work on it (a resumed run adds up;
 * an invocation that found it finished adds ~0), kept beside the run folder (a fork copies
 * the folder, not this file). A forked arm's time excludes the iteration 0 it shares.
 */
async function recordWallTime(file: string, seconds: number): Promise<number> {
  const previous = await fs
    .readFile(file, 'utf8')
    .then((text) => (JSON.parse(text) as { seconds: number }).seconds)
    .catch(() => 0);
  const total = previous + seconds;
  await fs.writeFile(file, `${JSON.stringify({ seconds: total })}\n`);
  return total;
}
