import type { Command } from 'commander';
import {
  benchmarkLoop,
  benchmarkSandbox,
  formatSandboxBenchmark,
  type LoopBenchmarkResult,
} from '@siked/core';
import { BENCH_CONFIGS, benchmarkEngine, type EngineBenchmark } from '@siked/native-cuda';
import { z } from 'zod';
import { defineCommand } from '../command';
import { schemas } from '../options';
import { sandboxOptions, sandboxOptionsFrom } from './shared-options';

function formatEngineBenchmark(result: EngineBenchmark): string {
  const batches = Object.keys(result.decode_tokens_per_s) as Array<
    keyof EngineBenchmark['decode_tokens_per_s']
  >;
  const lines = [
    `engine, config ${result.config} (${result.params} parameters, ${result.threads} threads):`,
    `  train ${result.train_tokens_per_s} tokens/s (${result.train_gflops_per_s} GFLOP/s, ${(100 * result.train_fraction_of_sgemm).toFixed(1)}% of sgemm ${result.sgemm_gflops_per_s} GFLOP/s, which is ${(100 * result.sgemm_fraction_of_peak).toFixed(0)}% of the ${result.fp32_peak_gflops_per_s} GFLOP/s fp32 FMA peak measured here)`,
    `  decode ${batches.map((b) => `batch ${b}: ${result.decode_tokens_per_s[b]} tokens/s`).join(', ')}`,
    `  batch-1 floor ${result.decode_b1_floor_tokens_per_s} tokens/s (${result.weight_bytes} weight bytes at ${result.copy_bandwidth_gb_per_s} GB/s copy bandwidth): decode at ${(100 * result.decode_b1_fraction_of_floor).toFixed(0)}% of it`,
    `  decode with bf16 weight copies (SampleOptions.weights), same run: ${batches.map((b) => `batch ${b}: ${result.decode_bf16_tokens_per_s[b]} tokens/s (${result.decode_bf16_vs_fp32[b]}x fp32)`).join(', ')}; batch-1 bf16 floor ${result.decode_b1_bf16_floor_tokens_per_s} tokens/s: at ${(100 * result.decode_b1_bf16_fraction_of_floor).toFixed(0)}% of it`,
    `  decode with int8 weight copies (per-row scales), same run: ${batches.map((b) => `batch ${b}: ${result.decode_int8_tokens_per_s[b]} tokens/s (${result.decode_int8_vs_fp32[b]}x fp32)`).join(', ')}; batch-1 int8 floor ${result.decode_b1_int8_floor_tokens_per_s} tokens/s: at ${(100 * result.decode_b1_int8_fraction_of_floor).toFixed(0)}% of it`,
    ...(result.train_bf16_tokens_per_s !== undefined
      ? [
          `  train in mixed precision (--precision bf16, ${result.train_bf16_kernel} GEMMs), same run: ${result.train_bf16_tokens_per_s} tokens/s (${result.train_bf16_vs_fp32}x fp32); bf16 GEMM 1024^3 ${result.bf16_gemm_gflops_per_s} GFLOP/s${result.bf16_gemm_fraction_of_peak !== undefined ? `, ${(100 * result.bf16_gemm_fraction_of_peak).toFixed(0)}% of the ${result.bf16_peak_gflops_per_s} GFLOP/s bf16 peak` : ''}`,
        ]
      : []),
    `  peak RSS ${result.peak_rss_mb} MB (optimizer state ${result.optimizer_state_mb} MB + activations ${result.activations_mb} MB; RSS ${result.rss_over_floor}x that floor)`,
  ];
  if (result.baseline && result.ratio) {
    lines.push(
      `baseline ${result.baseline.torch}, same run: train ${result.baseline.train_tokens_per_s} tokens/s, decode ${batches.map((b) => `${b}: ${result.baseline!.decode_tokens_per_s[b]}`).join(', ')}`,
      `ratio (ours / baseline): train ${result.ratio.train}x, decode ${batches.map((b) => `${b}: ${result.ratio!.decode[b]}x`).join(', ')}`,
    );
  } else {
    lines.push('baseline: skipped (--no-baseline)');
  }
  if (result.baseline_bf16 && result.ratio_bf16) {
    lines.push(
      `baseline under bf16 autocast, same run: train ${result.baseline_bf16.train_tokens_per_s} tokens/s, decode (fp32 in the anchor) ${batches.map((b) => `${b}: ${result.baseline_bf16!.decode_tokens_per_s[b]}`).join(', ')}`,
      `ratio (ours: bf16 training, bf16-weight decode / bf16 baseline): train ${result.ratio_bf16.train}x, decode ${batches.map((b) => `${b}: ${result.ratio_bf16!.decode[b]}x`).join(', ')}`,
    );
  }
  lines.push(`note: ${result.note}`);
  return lines.join('\n');
}

function formatLoopBenchmark(result: LoopBenchmarkResult): string {
  const share = (value: number) => `${(100 * value).toFixed(0)}%`;
  return [
    `SIKeD loop, preset ${result.preset} (${result.parameterCount} parameters, ${result.trainQuestions} training questions): ${result.wallSeconds.toFixed(1)} s`,
    `  training ${Math.round(result.trainTokensPerSecond)} tokens/s; self-generation ${result.sampleQuestionsPerSecond.toFixed(2)} questions/s`,
    `  time: ${Object.entries(result.shares)
      .map(([kind, value]) => `${kind} ${share(value)}`)
      .join(', ')}`,
    ...result.stages.map((s) => `  ${s.stage}: ${s.seconds.toFixed(2)} s`),
    'baseline: none (the loop benchmark is a breakdown of one run; see bench engine and bench sandbox for ratios)',
  ].join('\n');
}

/** `siked bench engine|sandbox|loop`: the benchmarks, each against its baseline measured in the same run. */
export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmarks, each printing its ratio against a baseline measured in the same run');

  const configs = Object.keys(BENCH_CONFIGS);
  defineCommand(bench, {
    name: 'engine',
    description:
      'engine training and decode throughput and peak RSS on an anchor config, against the PyTorch anchor run right after',
    options: {
      config: {
        flag: '--config <name>',
        description: 'benchmark shape',
        schema: z.enum(configs as [string, ...string[]]),
        choices: configs,
        defaultValue: 'tiny',
      },
      baseline: {
        flag: '--no-baseline',
        description: 'skip the PyTorch baseline',
        schema: z.boolean(),
        defaultValue: true,
      },
      quick: {
        flag: '--quick',
        description: 'fewer timed steps',
        schema: z.boolean(),
        defaultValue: false,
      },
      threads: {
        flag: '--threads <n>',
        description: 'engine threads (default: all cores)',
        schema: schemas.positiveInt,
      },
      dtype: {
        flag: '--dtype <dtype>',
        description:
          'bf16: also train ours in mixed precision and run the PyTorch anchor under CPU bf16 autocast, and compare in the same dtype (our decode reads bf16 weight copies)',
        schema: z.enum(['fp32', 'bf16']),
        choices: ['fp32', 'bf16'],
        defaultValue: 'fp32' as const,
      },
    },
    examples: [
      'siked bench engine --config tiny --json',
      'siked bench engine --config small --dtype bf16',
      'siked bench engine --config small --no-baseline --quick',
    ],
    async run(options, _args, context) {
      const result = await benchmarkEngine({
        config: options.config,
        baseline: options.baseline,
        quick: options.quick,
        threads: options.threads,
        dtype: options.dtype,
        log: (line) => context.progress.log(line),
      });
      if (context.json) context.printJson(result);
      else context.print(formatEngineBenchmark(result));
    },
  });

  defineCommand(bench, {
    name: 'sandbox',
    description: 'programs/s through the PoT sandbox pool against one python3 process per program',
    options: {
      programs: {
        flag: '--programs <n>',
        description: 'programs through the pool',
        schema: schemas.positiveInt,
        defaultValue: 10_000,
      },
      baselinePrograms: {
        flag: '--baseline-programs <n>',
        description: 'programs run one process each (the baseline)',
        schema: schemas.positiveInt,
        defaultValue: 200,
      },
      seed: {
        flag: '--seed <n>',
        description: 'seed of the generated programs',
        schema: schemas.nonNegativeInt,
        defaultValue: 1,
      },
      ...sandboxOptions,
    },
    examples: ['siked bench sandbox --programs 2000 --json'],
    async run(options, _args, context) {
      const result = await benchmarkSandbox({
        programs: options.programs,
        baselinePrograms: options.baselinePrograms,
        seed: options.seed,
        sandbox: sandboxOptionsFrom(options),
        measureStartup: false,
      });
      if (context.json) context.printJson(result);
      else context.print(formatSandboxBenchmark(result));
    },
  });

  defineCommand(bench, {
    name: 'loop',
    description:
      'where a whole SIKeD run in the synthetic world spends its time (teacher, training, sampling, evaluation)',
    options: {
      preset: {
        flag: '--preset <name>',
        description: 'synthetic-world preset',
        schema: z.enum(['tiny', 'demo', 'full']),
        choices: ['tiny', 'demo', 'full'],
        defaultValue: 'tiny' as const,
      },
      seed: {
        flag: '--seed <n>',
        description: 'world and run seed',
        schema: schemas.nonNegativeInt,
        defaultValue: 0,
      },
      threads: {
        flag: '--threads <n>',
        description: 'engine threads (default: all cores)',
        schema: schemas.positiveInt,
      },
    },
    examples: ['siked bench loop --preset tiny --json'],
    async run(options, _args, context) {
      const result = await benchmarkLoop({
        preset: options.preset,
        seed: options.seed,
        threads: options.threads,
      });
      if (context.json) context.printJson(result);
      else context.print(formatLoopBenchmark(result));
    },
  });
}
