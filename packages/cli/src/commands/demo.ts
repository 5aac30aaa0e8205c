import * as path from 'node:path';
import type { Command } from 'commander';
import { buildSyntheticWorld } from '@siked/core';
import { z } from 'zod';
import { defineCommand } from '../command';
import { schemas } from '../options';
import { modelOptions } from './model-options';
import { formatRunTable, runAndReport } from './run-siked';
import { sandboxOptions, sandboxOptionsFrom } from './shared-options';
import { syntheticRunInputs } from './synthetic-run';

const presets = ['tiny', 'demo', 'full'] as const;

/** `siked demo`: the whole method in the built-in synthetic world, then a report. */
export function registerDemo(program: Command): void {
  const { device, threads, precision } = modelOptions;
  defineCommand(program, {
    name: 'demo',
    description:
      'run SIKeD in the built-in synthetic world (teacher -> combined distillation -> SIKeD iterations -> evaluation -> report); rerun to resume',
    options: {
      preset: {
        flag: '--preset <name>',
        description:
          'tiny (tests, seconds), demo (minutes on 2 CPU cores), full (longer, or a GPU)',
        schema: z.enum(presets),
        choices: presets,
        defaultValue: 'demo' as const,
      },
      out: {
        flag: '--out <run-dir>',
        description: 'run directory (default: runs/demo-<preset>-<seed>)',
        schema: schemas.path,
      },
      seed: {
        flag: '--seed <n>',
        description: 'seeds the world and the run',
        schema: schemas.nonNegativeInt,
        defaultValue: 0,
      },
      pretrain: {
        flag: '--no-pretrain',
        description:
          "start from a random-initialised student instead of one pretrained on the world's unlabelled text (cached in ~/.cache/siked)",
        schema: z.boolean(),
        defaultValue: true,
      },
      device,
      threads,
      precision,
      ...sandboxOptions,
    },
    examples: ['siked demo', 'siked demo --preset tiny --out /tmp/tiny-run --seed 1 --json'],
    async run(options, _args, context) {
      const started = Date.now();
      const world = buildSyntheticWorld(options.preset, options.seed);
      const runDir = options.out ?? path.join('runs', `demo-${options.preset}-${options.seed}`);
      const baseDir = path.join(runDir, 'base-model');
      context.progress.log(
        `synthetic world "${options.preset}" (seed ${options.seed}): ${world.splits.train.length} training problems, student of ${world.parameterCount} parameters`,
      );
      const inputs = await syntheticRunInputs(world, baseDir, {
        device: options.device,
        threads: options.threads,
        precision: options.precision,
        pretrain: options.pretrain,
        log: (message) => context.progress.log(message),
      });
      const completed = await runAndReport(
        { runDir, settings: { seed: options.seed, ...world.preset.run }, ...inputs },
        sandboxOptionsFrom(options),
        context.progress,
      );
      const seconds = (Date.now() - started) / 1000;
      if (context.json) {
        context.printJson({
          runDir,
          preset: options.preset,
          seed: options.seed,
          wallSeconds: seconds,
          status: completed.summary.status,
          bestIteration: completed.summary.bestIteration,
          report: completed.report.html,
          iterations: completed.summary.iterations,
        });
        return;
      }
      context.print(
        `${formatRunTable(completed.summary)}\nreport: ${completed.report.html}\nwall time: ${seconds.toFixed(0)} s`,
      );
    },
  });
}
