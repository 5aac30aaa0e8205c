import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { dedupeSolutions, keepOnePerQuestionAndStrategy } from '../mixing/dedupe';
import { mixTrainingSet } from '../mixing/mix';
import {
  countStrategies,
  smoothedKlDivergence,
  strategyDistribution,
  type StrategyCounts,
} from '../mixing/statistics';
import { sampleSolutions, type PromptFormat } from '../student/sampling';
import type { Student, StudentFactory, TextSampler, TrainingExample } from '../student/types';
import { JsonlAppender, readJsonLinesTolerant } from '../teachers/jsonl-log';
import {
  STRATEGIES,
  type Problem,
  type ProgramRunner,
  type Solution,
  type Strategy,
  type Teacher,
} from '../types';
import { verifyAll } from '../verify';
import { readJsonLines, writeDirAtomic, writeJsonAtomic, writeJsonLinesAtomic } from './atomic';
import { evaluateOnProblems, type DatasetEvaluationSummary } from './evaluate';
import type { LoopEventListener } from './events';
import {
  artefactsPresent,
  describeArtefacts,
  readManifest,
  writeManifest,
  type RunManifest,
  type StageRecord,
} from './manifest';
import { resolveRunSettings, type RunSettings, type RunSettingsInput } from './settings';
import { lockRunDir } from './lock';
import type { IterationEvaluation, SampleRecord, SplitRecord } from './records';
import { splitValidation } from './split';

/** The student text format the loop needs: prompts, targets and reading completions back. */
export interface StudentTextFormat extends PromptFormat {
  renderTarget(strategy: Strategy, text: string): string;
}

/** Everything a SIKeD run needs. */
export interface SikedRunOptions {
  /** The run folder (DESIGN.md "Run directory"); an existing one is resumed. */
  runDir: string;
  settings?: RunSettingsInput;
  /** The training questions (the validation slice is held out of these). */
  trainProblems: readonly Problem[];
  /** Evaluation sets reported every iteration (test, out-of-distribution...); never used for decisions. */
  evalSets?: Readonly<Record<string, readonly Problem[]>>;
  teacher: Teacher;
  studentFactory: StudentFactory;
  /** Shown in the manifest (e.g. the base model's folder). */
  studentName?: string;
  format: StudentTextFormat;
  /** Runs PoT programs for verification. */
  runner: ProgramRunner;
  /** Scale-out hook: where self-generation runs (default: the student itself). */
  samplerFor?: (student: Student, iteration: number) => TextSampler;
  onEvent?: LoopEventListener;
}

/** How a run ended. */
export interface SikedRunResult {
  runDir: string;
  manifest: RunManifest;
}

const VALIDATION = 'validation';

/** Derives a per-purpose seed from the run seed (iteration-specific streams that do not overlap). */
function derivedSeed(seed: number, iteration: number, purpose: number): number {
  return (
    (Math.imul(seed + 1, 0x9e3779b1) ^
      Math.imul(iteration + 1, 0x85ebca6b) ^
      Math.imul(purpose, 0xc2b2ae35)) >>>
    0
  );
}

function iterationDir(t: number): string {
  return `iter-${t}`;
}

function problemsFingerprint(problems: readonly Problem[]): string {
  // Enough to notice a different question set on resume without storing the questions twice.
  const hash = createHash('sha256');
  for (const p of problems) hash.update(`${p.id}\u0000${p.question}\u0000${p.answer}\n`);
  return hash.digest('hex');
}

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
        versions: { node: process.version, siked: packageVersion() },
        stages: {},
        teacherChunksDone: [],
        teacherChunkStats: {},
        bestIteration: null,
        stoppedAfterIteration: null,
      };
      await writeManifest(runDir, manifest);
    } else if (JSON.stringify(manifest.config) !== JSON.stringify(settings)) {
      throw new Error(
        `${path.join(runDir, 'run.json')}: this run was made with different settings; resume with the same settings ` +
          `(recorded: ${JSON.stringify(manifest.config)})`,
      );
    }
    emit({ type: 'run-start', runDir, resumed });
    const run = new RunContext(options, settings, manifest, emit);
    await run.execute();
    return { runDir, manifest: run.manifest };
  } finally {
    await releaseLock();
  }
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

/** The state of one run while it executes; one method per stage. */
class RunContext {
  private trainPart: Problem[] = [];
  private validation: Problem[] = [];
  private readonly runDir: string;

  constructor(
    private readonly options: SikedRunOptions,
    private readonly settings: RunSettings,
    readonly manifest: RunManifest,
    private readonly emit: LoopEventListener,
  ) {
    this.runDir = options.runDir;
  }

  private get strategies(): Strategy[] {
    return this.settings.forcedStrategy !== undefined
      ? [this.settings.forcedStrategy]
      : [...this.settings.strategies];
  }

  async execute(): Promise<void> {
    if (this.manifest.status !== 'running') {
      this.emit({
        type: 'run-done',
        status: this.manifest.status,
        bestIteration: this.manifest.bestIteration,
      });
      return;
    }
    await this.stage('split', () => this.splitStage());
    const split = JSON.parse(await fs.readFile(this.file('split.json'), 'utf8')) as SplitRecord;
    if (split.problemsSha256 !== problemsFingerprint(this.options.trainProblems)) {
      throw new Error(
        `${this.file('split.json')}: the training problems differ from the ones this run started with`,
      );
    }
    const byId = new Map(this.options.trainProblems.map((p) => [p.id, p]));
    this.trainPart = split.trainIds.map((id) => byId.get(id)!);
    this.validation = split.validationIds.map((id) => byId.get(id)!);

    await this.stage('teacher', () => this.teacherStage());
    for (let t = 0; t <= this.settings.iterations; t += 1) {
      if (t > 0) await this.stage(`${iterationDir(t)}/sample`, () => this.sampleStage(t));
      await this.stage(`${iterationDir(t)}/mix`, () => this.mixStage(t));
      await this.stage(`${iterationDir(t)}/train`, () => this.trainStage(t));
      await this.stage(`${iterationDir(t)}/eval`, () => this.evalStage(t));
      if (this.decideEarlyStop(t)) {
        this.manifest.status = 'stopped-early';
        this.manifest.stoppedAfterIteration = t;
        await writeManifest(this.runDir, this.manifest);
        this.emit({
          type: 'early-stop',
          afterIteration: t,
          bestIteration: this.manifest.bestIteration!,
        });
        this.emit({
          type: 'run-done',
          status: 'stopped-early',
          bestIteration: this.manifest.bestIteration,
        });
        return;
      }
    }
    this.manifest.status = 'done';
    await writeManifest(this.runDir, this.manifest);
    this.emit({ type: 'run-done', status: 'done', bestIteration: this.manifest.bestIteration });
  }

  /** Runs a stage unless the manifest says it is done and its artefacts are intact. */
  private async stage(
    id: string,
    body: () => Promise<{ artefacts: string[]; details?: Record<string, unknown> }>,
  ): Promise<void> {
    const recorded = this.manifest.stages[id];
    if (recorded !== undefined && (await artefactsPresent(this.runDir, recorded))) {
      this.emit({ type: 'stage-skip', stage: id });
      return;
    }
    this.emit({ type: 'stage-start', stage: id });
    const { artefacts, details } = await body();
    const record: StageRecord = {
      status: 'done',
      finishedAt: new Date().toISOString(),
      artefacts: await describeArtefacts(this.runDir, artefacts),
    };
    if (details !== undefined) record.details = details;
    this.manifest.stages[id] = record;
    await writeManifest(this.runDir, this.manifest);
    this.emit({ type: 'stage-done', stage: id, details });
  }

  private file(...parts: string[]): string {
    return path.join(this.runDir, ...parts);
  }

  // ---- split ------------------------------------------------------------------------------

  private async splitStage() {
    const { train, validation } = splitValidation(
      this.options.trainProblems,
      this.settings.validationFraction,
      this.settings.seed,
    );
    const record: SplitRecord = {
      problemsSha256: problemsFingerprint(this.options.trainProblems),
      trainIds: train.map((p) => p.id),
      validationIds: validation.map((p) => p.id),
    };
    await writeJsonAtomic(this.file('split.json'), record);
    return {
      artefacts: ['split.json'],
      details: { train: train.length, validation: validation.length },
    };
  }

  // ---- teacher ----------------------------------------------------------------------------

  private async teacherStage() {
    const teacherFile = this.file('teacher.jsonl');
    const appender = await JsonlAppender.open(teacherFile);
    const chunk = this.settings.teacherChunkSize;
    try {
      for (const strategy of this.strategies) {
        for (let start = 0; start < this.trainPart.length; start += chunk) {
          const key = `${strategy}:${start / chunk}`;
          if (this.manifest.teacherChunksDone.includes(key)) continue;
          const problems = this.trainPart.slice(start, start + chunk);
          const samples = await this.options.teacher.solve(
            problems,
            strategy,
            this.settings.teacherSamplesPerQuestion,
          );
          const { solutions } = await verifyAll(
            samples.map((s) => ({ ...s, origin: 'teacher' as const, iteration: 0 })),
            problems,
            {
              runner: this.options.runner,
              timeoutMs: this.settings.verificationTimeoutMs,
              concurrency: this.settings.verificationConcurrency,
            },
          );
          const kept = keepOnePerQuestionAndStrategy(solutions);
          await appender.append(kept);
          this.manifest.teacherChunksDone.push(key);
          this.manifest.teacherChunkStats[key] = {
            samples: solutions.length,
            correct: solutions.filter((s) => s.correct).length,
            kept: kept.length,
          };
          await writeManifest(this.runDir, this.manifest);
          this.emit({
            type: 'teacher-progress',
            strategy,
            questionsDone: Math.min(start + chunk, this.trainPart.length),
            questionsTotal: this.trainPart.length,
            kept: kept.length,
          });
        }
      }
    } finally {
      await appender.close();
    }
    // A crash between an append and its manifest entry makes a chunk run twice; rewrite the file
    // in canonical order (strategy, then question) with one solution per (question, strategy).
    const { records } = await readJsonLinesTolerant(teacherFile);
    const order = new Map(this.trainPart.map((p, i) => [p.id, i]));
    const canonical = keepOnePerQuestionAndStrategy(records as Solution[]).sort(
      (a, b) =>
        STRATEGIES.indexOf(a.strategy) - STRATEGIES.indexOf(b.strategy) ||
        order.get(a.problemId)! - order.get(b.problemId)!,
    );
    await writeJsonLinesAtomic(teacherFile, canonical);
    const verification: Record<string, { samples: number; correct: number; passRate: number }> = {};
    for (const strategy of this.strategies) {
      const chunks = Object.entries(this.manifest.teacherChunkStats).filter(([key]) =>
        key.startsWith(`${strategy}:`),
      );
      const samples = chunks.reduce((sum, [, stats]) => sum + stats.samples, 0);
      const correct = chunks.reduce((sum, [, stats]) => sum + stats.correct, 0);
      verification[strategy] = {
        samples,
        correct,
        passRate: samples === 0 ? 0 : correct / samples,
      };
    }
    return {
      artefacts: ['teacher.jsonl'],
      details: {
        kept: canonical.length,
        byStrategy: countStrategies(canonical),
        questions: this.trainPart.length,
        verification,
      },
    };
  }

  private teacherSolutions(): Promise<Solution[]> {
    return readJsonLines<Solution>(this.file('teacher.jsonl'));
  }

  // ---- iteration stages -------------------------------------------------------------------

  /** Loads the student a stage works with: the base model, or iteration t's checkpoint. */
  private loadStudent(t: number | 'base'): Promise<Student> {
    return t === 'base'
      ? this.options.studentFactory.loadBase()
      : this.options.studentFactory.load(this.file(iterationDir(t), 'model'));
  }

  private async sampleStage(t: number) {
    const student = await this.loadStudent(t - 1);
    try {
      const sampler = this.options.samplerFor?.(student, t) ?? student;
      const chunk = this.settings.samplingChunkSize;
      const seed = derivedSeed(this.settings.seed, t, 1);
      const records: SampleRecord[] = [];
      for (let start = 0; start < this.trainPart.length; start += chunk) {
        const problems = this.trainPart.slice(start, start + chunk);
        const samples = await sampleSolutions(sampler, this.options.format, problems, {
          numSamples: this.settings.selfSamples,
          temperature: this.settings.temperature,
          topP: this.settings.topP,
          maxNewTokens: this.settings.maxNewTokens,
          seed: (seed + start) >>> 0,
          forced: this.settings.forcedStrategy,
        });
        const tagged = samples.filter((s) => s.strategy !== null);
        const { solutions } = await verifyAll(
          tagged.map((s) => ({
            problemId: s.problemId,
            strategy: s.strategy!,
            text: s.text,
            origin: 'student' as const,
            iteration: t,
          })),
          problems,
          {
            runner: this.options.runner,
            timeoutMs: this.settings.verificationTimeoutMs,
            concurrency: this.settings.verificationConcurrency,
          },
        );
        let next = 0;
        for (const sample of samples) {
          const base = {
            problemId: sample.problemId,
            sampleIndex: sample.sampleIndex,
            origin: 'student' as const,
            iteration: t,
            finishReason: sample.finishReason,
          };
          if (sample.strategy === null) {
            records.push({
              ...base,
              strategy: null,
              text: sample.text,
              predicted: null,
              correct: false,
              error: sample.error,
            });
            continue;
          }
          const solution = solutions[next++]!;
          const record: SampleRecord = {
            ...base,
            strategy: sample.strategy,
            text: sample.text,
            predicted: solution.predicted,
            correct: solution.correct,
          };
          if (solution.error !== undefined) record.error = solution.error;
          records.push(record);
        }
        this.emit({
          type: 'sample-progress',
          iteration: t,
          questionsDone: Math.min(start + chunk, this.trainPart.length),
          questionsTotal: this.trainPart.length,
        });
      }
      const relative = path.join(iterationDir(t), 'samples.jsonl');
      await writeJsonLinesAtomic(this.file(relative), records);
      const correct = records.filter((r) => r.correct).length;
      return {
        artefacts: [relative],
        details: {
          samples: records.length,
          correct,
          untagged: records.filter((r) => r.strategy === null).length,
          byStrategy: countStrategies(
            records.filter((r): r is SampleRecord & { strategy: Strategy } => r.strategy !== null),
          ),
        },
      };
    } finally {
      student.dispose();
    }
  }

  private async mixStage(t: number) {
    const teacher = await this.teacherSolutions();
    const dir = iterationDir(t);
    if (t === 0) {
      const relative = path.join(dir, 'train.jsonl');
      await writeJsonLinesAtomic(this.file(relative), teacher);
      return {
        artefacts: [relative],
        details: { alpha: null, examples: teacher.length, byStrategy: countStrategies(teacher) },
      };
    }
    const samples = await readJsonLines<SampleRecord>(this.file(dir, 'samples.jsonl'));
    const allowed = new Set(this.strategies);
    const correctSelf = samples
      .filter(
        (s): s is SampleRecord & { strategy: Strategy } =>
          s.correct && s.strategy !== null && allowed.has(s.strategy),
      )
      .map((s): Solution => ({
        problemId: s.problemId,
        strategy: s.strategy,
        origin: 'student',
        iteration: t,
        text: s.text,
        predicted: s.predicted,
        correct: true,
      }));
    const distinct = dedupeSolutions(correctSelf);
    const self = keepOnePerQuestionAndStrategy(distinct);
    const mixed = mixTrainingSet({
      mode: this.settings.mixing,
      teacherSolutions: teacher,
      selfSolutions: self,
      problemIds: this.trainPart.map((p) => p.id),
    });
    await writeJsonLinesAtomic(this.file(dir, 'self.jsonl'), self);
    await writeJsonLinesAtomic(this.file(dir, 'train.jsonl'), mixed.examples);
    return {
      artefacts: [path.join(dir, 'self.jsonl'), path.join(dir, 'train.jsonl')],
      details: {
        alpha: mixed.alpha,
        examples: mixed.examples.length,
        teacherPart: mixed.teacherPart.length,
        selfPart: mixed.selfPart.length,
        distinctCorrectSamples: distinct.length,
        unsolvedQuestions: mixed.unsolvedProblemIds.length,
        byStrategy: countStrategies(mixed.examples),
      },
    };
  }

  private async trainStage(t: number) {
    const dir = iterationDir(t);
    const solutions = await readJsonLines<Solution>(this.file(dir, 'train.jsonl'));
    const byId = new Map(this.trainPart.map((p) => [p.id, p]));
    const examples: TrainingExample[] = solutions.map((s) => ({
      prompt: this.options.format.renderPrompt(byId.get(s.problemId)!.question),
      target: this.options.format.renderTarget(s.strategy, s.text),
    }));
    const student = await this.loadStudent(
      t === 0 || this.settings.studentInit === 'restart' ? 'base' : t - 1,
    );
    const metrics = await JsonlAppender.open(this.file('metrics.jsonl'));
    const appends: Array<Promise<void>> = [];
    try {
      const schedule = { ...this.settings.training, seed: derivedSeed(this.settings.seed, t, 2) };
      const summary = await student.train(examples, schedule, (progress) => {
        appends.push(metrics.append([{ kind: 'train', iteration: t, ...progress }]));
        this.emit({ type: 'train-step', iteration: t, ...progress });
      });
      await Promise.all(appends);
      await writeDirAtomic(this.file(dir, 'model'), (temporary) => student.save(temporary));
      return {
        artefacts: [path.join(dir, 'model')],
        details: {
          steps: summary.steps,
          examples: summary.examples,
          truncatedExamples: summary.truncatedExamples,
          finalLoss: summary.finalLoss,
        },
      };
    } finally {
      await Promise.allSettled(appends);
      await metrics.close();
      student.dispose();
    }
  }

  private async evalStage(t: number) {
    const dir = iterationDir(t);
    const student = await this.loadStudent(t);
    const datasets: Record<string, DatasetEvaluationSummary> = {};
    const artefacts: string[] = [];
    let validationCounts: StrategyCounts = { cot: 0, l2m: 0, pot: 0 };
    try {
      const sets: Array<[string, readonly Problem[]]> = [
        [VALIDATION, this.validation],
        ...Object.entries(this.options.evalSets ?? {}),
      ];
      for (const [name, problems] of sets) {
        const { records, summary } = await evaluateOnProblems(
          student,
          this.options.format,
          problems,
          {
            runner: this.options.runner,
            maxNewTokens: this.settings.maxNewTokens,
            forced: this.settings.forcedStrategy,
            verificationTimeoutMs: this.settings.verificationTimeoutMs,
            verificationConcurrency: this.settings.verificationConcurrency,
            chunkSize: this.settings.samplingChunkSize,
          },
        );
        const relative = path.join(dir, `eval-${name}.jsonl`);
        await writeJsonLinesAtomic(this.file(relative), records);
        artefacts.push(relative);
        datasets[name] = summary;
        if (name === VALIDATION)
          validationCounts = countStrategies(
            records.filter((r): r is typeof r & { strategy: Strategy } => r.strategy !== null),
          );
        this.emit({
          type: 'eval-result',
          iteration: t,
          dataset: name,
          accuracy: summary.accuracy,
          total: summary.total,
        });
      }
    } finally {
      student.dispose();
    }
    const train = countStrategies(await readJsonLines<Solution>(this.file(dir, 'train.jsonl')));
    const teacher = countStrategies(await this.teacherSolutions());
    const mixDetails = this.manifest.stages[`${dir}/mix`]?.details;
    const evaluation: IterationEvaluation = {
      iteration: t,
      alpha: t === 0 ? null : ((mixDetails?.alpha as number | undefined) ?? null),
      klTrainToStudent: smoothedKlDivergence(train, validationCounts),
      trainShares: strategyDistribution(train),
      studentShares: strategyDistribution(validationCounts),
      teacherShares: strategyDistribution(teacher),
      datasets,
    };
    await writeJsonAtomic(this.file(dir, 'eval.json'), evaluation);
    artefacts.push(path.join(dir, 'eval.json'));
    const validationAccuracy = datasets[VALIDATION]!.accuracy;
    return { artefacts, details: { validationAccuracy } };
  }

  /** Updates the best iteration and says whether to stop after iteration t (validation only). */
  private decideEarlyStop(t: number): boolean {
    let best = 0;
    let bestAccuracy = -Infinity;
    for (let i = 0; i <= t; i += 1) {
      const accuracy = this.manifest.stages[`${iterationDir(i)}/eval`]?.details
        ?.validationAccuracy as number;
      if (accuracy > bestAccuracy) {
        bestAccuracy = accuracy;
        best = i;
      }
    }
    this.manifest.bestIteration = best;
    return (
      this.settings.earlyStopping &&
      t >= 1 &&
      t < this.settings.iterations &&
      t - best >= this.settings.earlyStoppingPatience
    );
  }
}
