import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomic';
import { describeDifferences } from './differences';
import type { LoopEventListener } from './events';
import { lockRunDir } from './lock';
import {
  artefactsPresent,
  describeArtefacts,
  readManifest,
  writeManifest,
  type RunManifest,
  type StageRecord,
} from './manifest';
import type { SplitRecord } from './records';
import type { SikedRunOptions, SikedRunResult } from './run-options';
import { sampleStage, mixStage } from './self-generation-stages';
import { recordedRunSettings, resolveRunSettings } from './settings';
import { splitValidation } from './split';
import { StageContext, iterationDir, problemsFingerprint, type StageOutput } from './stage-context';
import { teacherStage } from './teacher-stage';
import { evalStage, trainStage } from './training-stages';

/**
 * Runs SIKeD (METHOD.md): teacher data -> iteration 0 (combined distillation) -> iterations
 * 1..T (self-generation, verification, mixing, training), evaluating after every training.
 * Every stage writes its artefacts atomically and is recorded in run.json; calling this again on
 * the same folder resumes from the first unfinished stage (with the same settings and problems).
 */
export async function runSiked(options: SikedRunOptions): Promise<SikedRunResult> {
  const settings = resolveRunSettings(options.settings ?? {});
  const runDir = options.runDir;
  await fs.mkdir(runDir, { recursive: true });
  const releaseLock = await lockRunDir(runDir);
  try {
    const emit: LoopEventListener = options.onEvent ?? (() => undefined);
    let manifest = await readManifest(runDir);
    const resumed = manifest !== null;
    if (manifest === null) {
      const now = new Date().toISOString();
      manifest = {
        format: 'siked-run/1',
        status: 'running',
        createdAt: now,
        updatedAt: now,
        config: settings,
        seed: settings.seed,
        teacher: options.teacher.name,
        student: options.studentName ?? 'student',
        versions: { node: process.version, siked: packageVersion(), commit: gitCommit() },
        stages: {},
        teacherChunksDone: [],
        teacherChunkStats: {},
        bestIteration: null,
        stoppedAfterIteration: null,
      };
      await writeManifest(runDir, manifest);
    } else if (JSON.stringify(recordedRunSettings(manifest.config)) !== JSON.stringify(settings)) {
      const differences = describeDifferences(recordedRunSettings(manifest.config), settings);
      throw new Error(
        `${path.join(runDir, 'run.json')}: this run was made with different settings (${differences.join('; ')}); resume with the same settings`,
      );
    }
    if (manifest.status === 'running') {
      const now = new Date().toISOString();
      manifest.sessions = [...(manifest.sessions ?? []), { startedAt: now, until: now }];
      await writeManifest(runDir, manifest);
    }
    emit({ type: 'run-start', runDir, resumed });
    const run = new RunController(new StageContext(options, settings, manifest, emit));
    await run.execute();
    return { runDir, manifest: run.manifest };
  } finally {
    await releaseLock();
  }
}

/** The git commit of the siked checkout this runs from; null for an installed package. */
function gitCommit(): string | null {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], {
    cwd: path.join(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 5000,
  });
  const commit = result.status === 0 ? result.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
}

function packageVersion(): string {
  try {
    // src/loop and dist/loop both sit two levels below the package root.
    const file = path.join(__dirname, '..', '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the stages in order, skipping the ones a previous attempt finished. */
class RunController {
  constructor(private readonly ctx: StageContext) {}

  get manifest(): RunManifest {
    return this.ctx.manifest;
  }

  async execute(): Promise<void> {
    if (this.ctx.manifest.status !== 'running') {
      this.ctx.emit({
        type: 'run-done',
        status: this.ctx.manifest.status,
        bestIteration: this.ctx.manifest.bestIteration,
      });
      return;
    }
    await this.stage('split', () => this.splitStage());
    const split = JSON.parse(await fs.readFile(this.ctx.file('split.json'), 'utf8')) as SplitRecord;
    if (split.problemsSha256 !== problemsFingerprint(this.ctx.options.trainProblems)) {
      throw new Error(
        `${this.ctx.file('split.json')}: the training problems differ from the ones this run started with`,
      );
    }
    const byId = new Map(this.ctx.options.trainProblems.map((p) => [p.id, p]));
    this.ctx.trainPart = split.trainIds.map((id) => byId.get(id)!);
    this.ctx.validation = split.validationIds.map((id) => byId.get(id)!);

    await this.stage('teacher', () => teacherStage(this.ctx));
    for (let t = 0; t <= this.ctx.settings.iterations; t += 1) {
      if (t > 0) await this.stage(`${iterationDir(t)}/sample`, () => sampleStage(this.ctx, t));
      await this.stage(`${iterationDir(t)}/mix`, () => mixStage(this.ctx, t));
      await this.stage(`${iterationDir(t)}/train`, () => trainStage(this.ctx, t));
      await this.stage(`${iterationDir(t)}/eval`, () => evalStage(this.ctx, t));
      if (this.decideEarlyStop(t)) {
        this.ctx.manifest.status = 'stopped-early';
        this.ctx.manifest.stoppedAfterIteration = t;
        await writeManifest(this.ctx.runDir, this.ctx.manifest);
        this.ctx.emit({
          type: 'early-stop',
          afterIteration: t,
          bestIteration: this.ctx.manifest.bestIteration!,
        });
        this.ctx.emit({
          type: 'run-done',
          status: 'stopped-early',
          bestIteration: this.ctx.manifest.bestIteration,
        });
        return;
      }
    }
    this.ctx.manifest.status = 'done';
    await writeManifest(this.ctx.runDir, this.ctx.manifest);
    this.ctx.emit({
      type: 'run-done',
      status: 'done',
      bestIteration: this.ctx.manifest.bestIteration,
    });
  }

  /** Runs a stage unless the manifest says it is done and its artefacts are intact. */
  private async stage(id: string, body: () => Promise<StageOutput>): Promise<void> {
    const recorded = this.ctx.manifest.stages[id];
    if (recorded !== undefined && (await artefactsPresent(this.ctx.runDir, recorded))) {
      this.ctx.emit({ type: 'stage-skip', stage: id });
      return;
    }
    this.ctx.emit({ type: 'stage-start', stage: id });
    const { artefacts, details } = await body();
    const record: StageRecord = {
      status: 'done',
      finishedAt: new Date().toISOString(),
      artefacts: await describeArtefacts(this.ctx.runDir, artefacts),
    };
    if (details !== undefined) record.details = details;
    this.ctx.manifest.stages[id] = record;
    await writeManifest(this.ctx.runDir, this.ctx.manifest);
    this.ctx.emit({ type: 'stage-done', stage: id, details });
  }

  // ---- split ------------------------------------------------------------------------------

  private async splitStage(): Promise<StageOutput> {
    const { train, validation } = splitValidation(
      this.ctx.options.trainProblems,
      this.ctx.settings.validationFraction,
      this.ctx.settings.seed,
    );
    const record: SplitRecord = {
      problemsSha256: problemsFingerprint(this.ctx.options.trainProblems),
      trainIds: train.map((p) => p.id),
      validationIds: validation.map((p) => p.id),
    };
    await writeJsonAtomic(this.ctx.file('split.json'), record);
    return {
      artefacts: ['split.json'],
      details: { train: train.length, validation: validation.length },
    };
  }

  private decideEarlyStop(t: number): boolean {
    let best = 0;
    let bestAccuracy = -Infinity;
    for (let i = 0; i <= t; i += 1) {
      const accuracy = this.ctx.manifest.stages[`${iterationDir(i)}/eval`]?.details
        ?.validationAccuracy as number;
      if (accuracy > bestAccuracy) {
        bestAccuracy = accuracy;
        best = i;
      }
    }
    this.ctx.manifest.bestIteration = best;
    return (
      this.ctx.settings.earlyStopping &&
      t >= 1 &&
      t < this.ctx.settings.iterations &&
      t - best >= this.ctx.settings.earlyStoppingPatience
    );
  }
}
