import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PythonSandbox } from '../sandbox';
import { StudentFormat } from '../strategies';
import { EngineStudentFactory, nativeModelLoader } from '../student/engine-factory';
import {
  buildSyntheticWorld,
  writeSyntheticBaseModel,
  type SyntheticPresetName,
} from '../synthetic';
import { runSiked } from './controller';
import type { LoopEvent } from './events';

/** Settings of {@link benchmarkLoop}. */
export interface LoopBenchmarkOptions {
  /** Synthetic-world preset (default `tiny`). */
  preset?: SyntheticPresetName;
  seed?: number;
  /** Engine CPU threads (default: all cores). */
  threads?: number;
  /** Folder for the run (default: a fresh temporary folder, removed afterwards). */
  workDir?: string;
}

/** Where a SIKeD run spends its time (JSON-able). */
export interface LoopBenchmarkResult {
  preset: string;
  parameterCount: number;
  trainQuestions: number;
  wallSeconds: number;
  /** Wall seconds per stage, in run order. */
  stages: Array<{ stage: string; seconds: number }>;
  /** Mean over optimizer steps of the engine's training throughput (all tokens). */
  trainTokensPerSecond: number;
  /** Self-generation: training questions sampled (k samples each, verified) per second. */
  sampleQuestionsPerSecond: number;
  /** Share of wall time per kind of stage. */
  shares: Record<'teacher' | 'train' | 'sample' | 'eval' | 'other', number>;
}

/**
 * Runs a whole SIKeD loop in the synthetic world on the CPU engine and the Python sandbox and
 * reports where the time goes (the `siked bench loop` command). There is no baseline to compare
 * with: the result is a breakdown of one run, to show which stage to speed up.
 */
export async function benchmarkLoop(
  options: LoopBenchmarkOptions = {},
): Promise<LoopBenchmarkResult> {
  const preset = options.preset ?? 'tiny';
  const world = buildSyntheticWorld(preset, options.seed ?? 0);
  const workDir =
    options.workDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'siked-bench-loop-')));
  const baseDir = path.join(workDir, 'base');
  const runDir = path.join(workDir, 'run');
  await fs.rm(runDir, { recursive: true, force: true });
  await writeSyntheticBaseModel(world, baseDir, { threads: options.threads });

  const stageStarted = new Map<string, number>();
  const stages: Array<{ stage: string; seconds: number }> = [];
  const tokensPerSecond: number[] = [];
  const sampledQuestions = new Map<number, number>();
  const onEvent = (event: LoopEvent) => {
    if (event.type === 'stage-start') stageStarted.set(event.stage, performance.now());
    if (event.type === 'stage-done') {
      stages.push({
        stage: event.stage,
        seconds: (performance.now() - stageStarted.get(event.stage)!) / 1000,
      });
    }
    if (event.type === 'train-step') tokensPerSecond.push(event.tokensPerSecond);
    if (event.type === 'sample-progress')
      sampledQuestions.set(event.iteration, event.questionsTotal);
  };
  const runner = await PythonSandbox.start();
  const started = performance.now();
  try {
    await runSiked({
      runDir,
      settings: { seed: options.seed ?? 0, ...world.preset.run, earlyStopping: false },
      trainProblems: world.splits.train!,
      evalSets: { test: world.splits.test! },
      teacher: world.teacher,
      studentFactory: new EngineStudentFactory({
        baseDir,
        loadModel: nativeModelLoader({ threads: options.threads }),
      }),
      format: StudentFormat.fromObject(world.studentTemplate),
      runner,
      onEvent,
    });
  } finally {
    await runner.close();
    if (options.workDir === undefined) await fs.rm(workDir, { recursive: true, force: true });
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const kind = (stage: string): keyof LoopBenchmarkResult['shares'] =>
    stage === 'teacher'
      ? 'teacher'
      : stage.endsWith('/train')
        ? 'train'
        : stage.endsWith('/sample')
          ? 'sample'
          : stage.endsWith('/eval')
            ? 'eval'
            : 'other';
  const shares = { teacher: 0, train: 0, sample: 0, eval: 0, other: 0 };
  for (const { stage, seconds } of stages) shares[kind(stage)] += seconds / wallSeconds;
  const sampleSeconds = stages
    .filter((s) => kind(s.stage) === 'sample')
    .reduce((sum, s) => sum + s.seconds, 0);
  const questionsSampled = [...sampledQuestions.values()].reduce((a, b) => a + b, 0);
  return {
    preset,
    parameterCount: world.parameterCount,
    trainQuestions: world.splits.train!.length,
    wallSeconds,
    stages,
    trainTokensPerSecond:
      tokensPerSecond.length === 0
        ? 0
        : tokensPerSecond.reduce((a, b) => a + b, 0) / tokensPerSecond.length,
    sampleQuestionsPerSecond: sampleSeconds === 0 ? 0 : questionsSampled / sampleSeconds,
    shares,
  };
}
