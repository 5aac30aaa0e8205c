// A MEASUREMENT, not a check: trains real from-scratch students on the demo world with one
// strategy each (forced, as the single-strategy baselines) and/or all three (combined
// distillation), then prints greedy test accuracy per family and the strategies used. It is
// how docs/SYNTHETIC_WORLD.md's "Measured so far" table was made. It takes minutes, so it is
// skipped unless asked for:
//
//   SIKED_STRATEGY_PROBE=1 npx jest packages/core/test/synthetic/strategy-probe --selectProjects core
//
// Settings (environment): SIKED_PROBE_RUNS=pot,cot,l2m,combined  SIKED_PROBE_EPOCHS (default:
// the preset's)  SIKED_PROBE_LR  SIKED_PROBE_BATCH  SIKED_PROBE_TRAIN (training problems)
// SIKED_PROBE_SHAPE (JSON over config.json, e.g. {"hidden_size":64,"num_hidden_layers":3,...})
// SIKED_PROBE_PRETRAIN=1 (start from the base pretrained on the world's unlabelled text, cached in
// SIKED_CACHE_DIR)  SIKED_PROBE_STEPS (a fixed optimizer step count per run: matched compute)
// SIKED_PROBE_SEED (world and training seed, default 0)  SIKED_PROBE_TRAIN_SEED (the training
// seed alone: data order)  SIKED_PROBE_THREADS (engine threads, default 2)  SIKED_PROBE_BASE (a
// base model folder to start from)  SIKED_PROBE_SHOW (print the first N generations)
// SIKED_PROBE_EVAL (splits graded: test, or test,validation)
// SIKED_PROBE_NUMBERS (JSON over the world's per-family number ranges, e.g.
// {"shopping":{"rate":{"min":2,"max":9}}}; the pretraining corpus follows them)
// SIKED_PROBE_TEACHER (JSON teacher error rates per strategy and family, e.g.
// {"cot":{"default":0.08},"l2m":{"default":0.12},"pot":{"default":0.16,"byFamily":{"unknown-start":0.7}}};
// the pretraining corpus does not depend on them)  SIKED_PROBE_PRETRAINING (JSON over the preset's
// pretraining settings, e.g. {"microBatchSize":16}; with SIKED_PROBE_PRETRAIN=1).
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Model, parseModelConfig } from '@siked/native-cuda';
import { PythonSandbox } from '../../src/sandbox';
import { StudentFormat, extractFinalAnswer } from '../../src/strategies';
import { EngineStudentFactory, nativeModelLoader } from '../../src/student';
import {
  SYNTHETIC_PRESETS,
  buildSyntheticWorld,
  writeSyntheticBaseModel,
  writeSyntheticModelFiles,
  type PretrainingSummary,
  type SyntheticProblemMeta,
} from '../../src/synthetic';
import { STRATEGIES, type Problem, type Strategy } from '../../src/types';

const enabled = process.env.SIKED_STRATEGY_PROBE === '1';
const probe = enabled ? test : test.skip;
if (!enabled) console.warn('strategy-probe: skipped (set SIKED_STRATEGY_PROBE=1 to measure)');

const RUNS: Array<{ name: string; strategies: Strategy[]; forced: boolean }> = [
  { name: 'pot', strategies: ['pot'], forced: true },
  { name: 'cot', strategies: ['cot'], forced: true },
  { name: 'l2m', strategies: ['l2m'], forced: true },
  { name: 'combined', strategies: [...STRATEGIES], forced: false },
];

probe(
  'single-strategy and combined students on the demo world',
  async () => {
    // SIKED_PROBE_TRAIN changes only the training split; the test split stays the same problems.
    const demo = SYNTHETIC_PRESETS.demo;
    const train = Number(process.env.SIKED_PROBE_TRAIN ?? demo.splitSizes.train);
    const seed = Number(process.env.SIKED_PROBE_SEED ?? 0);
    const threads = Number(process.env.SIKED_PROBE_THREADS ?? 2);
    const numbers = JSON.parse(process.env.SIKED_PROBE_NUMBERS ?? '{}');
    const pretraining = demo.pretraining && {
      ...demo.pretraining,
      ...JSON.parse(process.env.SIKED_PROBE_PRETRAINING ?? '{}'),
    };
    const preset = { ...demo, splitSizes: { ...demo.splitSizes, train }, pretraining };
    const teacherErrorRates = process.env.SIKED_PROBE_TEACHER
      ? JSON.parse(process.env.SIKED_PROBE_TEACHER)
      : undefined;
    const world = buildSyntheticWorld(preset, seed, { numbers, teacherErrorRates });
    Object.assign(world.modelConfig, JSON.parse(process.env.SIKED_PROBE_SHAPE ?? '{}'));
    const format = StudentFormat.fromObject(world.studentTemplate);
    const dir = mkdtempSync(path.join(tmpdir(), 'siked-strategy-probe-'));
    const sandbox = await PythonSandbox.start({ workers: 2 }, { onWarning: () => {} });
    try {
      if (process.env.SIKED_PROBE_BASE) {
        rmSync(dir, { recursive: true, force: true });
        cpSync(process.env.SIKED_PROBE_BASE, dir, { recursive: true });
      } else if (process.env.SIKED_PROBE_PRETRAIN === '1') {
        rmSync(dir, { recursive: true, force: true });
        await writeSyntheticBaseModel(world, dir, { pretrain: true, threads });
        // Read back from the folder: a cache hit emits no 'trained' event but copies the summary.
        const { steps, seconds, heldOut }: PretrainingSummary = JSON.parse(
          readFileSync(path.join(dir, 'pretraining-summary.json'), 'utf8'),
        );
        const byKind = Object.entries(heldOut.lossAfterByKind)
          .map(([kind, loss]) => `${kind} ${loss.toFixed(3)}`)
          .join(', ');
        process.stdout.write(
          `== base: ${steps} pretraining steps, ${seconds.toFixed(0)} s; held-out loss ${heldOut.lossAfter.toFixed(3)} (${byKind})\n`,
        );
      } else {
        await writeSyntheticModelFiles(world, dir);
        const base = Model.fromConfig(parseModelConfig(world.modelConfig), { seed, threads });
        await base.save(dir);
        base.dispose();
      }
      const factory = new EngineStudentFactory({
        baseDir: dir,
        loadModel: nativeModelLoader({ threads }),
      });
      const training = world.preset.run.training;
      const wanted = process.env.SIKED_PROBE_RUNS?.split(',') ?? RUNS.map((run) => run.name);
      for (const run of RUNS.filter(({ name }) => wanted.includes(name))) {
        const started = Date.now();
        // D_LLM as the demo builds it: the teacher's first sample, kept when verified correct.
        const examples = world.splits.train.flatMap((problem) =>
          run.strategies.flatMap((strategy) => {
            const sample = world.teacher.write(problem, strategy, 0);
            if (sample.mistake) return [];
            const target = format.renderTarget(strategy, sample.text);
            return [{ prompt: format.renderPrompt(problem.question), target }];
          }),
        );
        const student = await factory.loadBase();
        const summary = await student.train(examples, {
          ...training,
          epochs: Number(process.env.SIKED_PROBE_EPOCHS ?? training.epochs),
          learningRate: Number(process.env.SIKED_PROBE_LR ?? training.learningRate),
          microBatchSize: Number(process.env.SIKED_PROBE_BATCH ?? training.microBatchSize),
          minLearningRateRatio: 0,
          seed: Number(process.env.SIKED_PROBE_TRAIN_SEED ?? seed),
          ...(process.env.SIKED_PROBE_STEPS
            ? { steps: Number(process.env.SIKED_PROBE_STEPS) }
            : {}),
        });
        const trainSeconds = (Date.now() - started) / 1000;
        const forced = run.forced ? run.strategies[0] : undefined;
        // SIKED_PROBE_EVAL=test,validation adds the world's validation split (never trained on
        // here) for more problems per family.
        const evalSplits = (process.env.SIKED_PROBE_EVAL ?? 'test').split(',') as Array<
          'test' | 'validation'
        >;
        const problems = evalSplits.flatMap((split) => world.splits[split]);
        const generations = await student.generate(
          problems.map((problem) => format.renderPrompt(problem.question, forced)),
          {
            numSamples: 1,
            temperature: 0,
            topP: 1,
            maxNewTokens: 256,
            seed: 0,
            stop: format.stopSequences(),
          },
        );
        student.dispose();
        for (const generation of generations.slice(0, Number(process.env.SIKED_PROBE_SHOW ?? 0))) {
          const problem = problems[generation.promptIndex];
          process.stdout.write(
            `-- ${problem.question}\n   gold ${problem.answer}; wrote:\n${generation.text}\n`,
          );
        }
        const graded = await Promise.all(
          generations.map(async (generation) => {
            const problem: Problem = problems[generation.promptIndex];
            const parsed = format.parseCompletion(generation.text, forced);
            let value: number | null = null;
            if (parsed.strategy === 'pot') value = (await sandbox.run(parsed.text)).answer;
            else if (parsed.strategy !== null) {
              const extraction = extractFinalAnswer(parsed.text);
              value = extraction.ok ? extraction.value : null;
            }
            const meta = problem.meta as unknown as SyntheticProblemMeta;
            return {
              family: meta.family,
              steps: meta.steps,
              strategy: parsed.strategy ?? 'none',
              correct: value !== null && Math.abs(value - problem.answer) < 1e-6,
            };
          }),
        );
        const share = (rows: typeof graded) =>
          `${((100 * rows.filter((row) => row.correct).length) / Math.max(1, rows.length)).toFixed(1)}%`;
        const count = (rows: typeof graded) =>
          JSON.stringify(
            Object.fromEntries(
              [...new Set(rows.map((row) => row.strategy))].map((strategy) => [
                strategy,
                rows.filter((row) => row.strategy === strategy).length,
              ]),
            ),
          );
        const lines = [
          `== ${run.name}: ${examples.length} examples, ${summary.steps} steps, final loss ${summary.finalLoss.toFixed(3)}, ` +
            `${trainSeconds.toFixed(0)} s (${summary.meanTokensPerSecond.toFixed(0)} tokens/s); ` +
            `test accuracy ${share(graded)}, strategies ${count(graded)}`,
        ];
        for (const family of [...new Set(graded.map((row) => row.family))]) {
          const rows = graded.filter((row) => row.family === family);
          lines.push(`   ${family}: ${share(rows)} of ${rows.length}, strategies ${count(rows)}`);
        }
        for (const steps of [1, 2, 3, 4]) {
          lines.push(`   ${steps} steps: ${share(graded.filter((row) => row.steps === steps))}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  3_600_000,
);
