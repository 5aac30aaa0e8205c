import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  RecordedTeacher,
  StudentFormat,
  readManifest,
  resolveRunSettings,
  runSiked,
  splitValidation,
  type IterationEvaluation,
  type LoopEvent,
  type Problem,
  type ProgramRunner,
  type RunSettingsInput,
  type SampleRecord,
  type Solution,
  type TeacherSample,
  type ServedCheckpoint,
} from '../../src';
import { MemorisingStudentFactory } from './memorising-student';

const format = StudentFormat.fromObject({
  name: 'test',
  prompt: 'Q: {question}\nA: ',
  tags: { cot: '[cot]: ', l2m: '[l2m]: ', pot: '[pot]: ' },
  stop: ['\nQ: '],
});

const problems: Problem[] = Array.from({ length: 20 }, (_, i) => ({
  id: `p${i}`,
  question: `What is ${i} plus ${i + 1}?`,
  answer: 2 * i + 1,
  source: 'test',
  split: 'train',
}));
const testSet: Problem[] = [
  { id: 't0', question: 'What is 100 plus 1?', answer: 101, source: 'test', split: 'test' },
];

/** Teacher data: for each question a wrong CoT first, then a right one; an L2M for even questions. */
function teacherSamples(): TeacherSample[] {
  return problems.flatMap((p, i) => {
    const samples: TeacherSample[] = [
      {
        problemId: p.id,
        strategy: 'cot',
        text: `${i} + ${i + 1} = ${p.answer + 1}\nFinal answer: ${p.answer + 1}`,
      },
      {
        problemId: p.id,
        strategy: 'cot',
        text: `${i} + ${i + 1} = ${p.answer}\nFinal answer: ${p.answer}`,
      },
    ];
    if (i % 2 === 0) {
      samples.push({
        problemId: p.id,
        strategy: 'l2m',
        text: `Sub-question 1: What is ${i} + ${i + 1}?\nAnswer 1: ${p.answer}\nFinal answer: ${p.answer}`,
      });
    }
    return samples;
  });
}

/** No PoT in these tests: a PoT verification here would be a bug in the loop. */
const noPotRunner: ProgramRunner = {
  run: () => Promise.reject(new Error('no PoT program expected in this test')),
  close: () => Promise.resolve(),
};

const baseSettings: RunSettingsInput = {
  seed: 7,
  strategies: ['cot', 'l2m'],
  iterations: 2,
  teacherSamplesPerQuestion: 5,
  teacherChunkSize: 6,
  selfSamples: 3,
  samplingChunkSize: 8,
  validationFraction: 0.2,
  earlyStopping: false,
};

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-loop-'));
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

async function run(
  runDir: string,
  settings: RunSettingsInput,
  onEvent?: (e: LoopEvent) => void,
  factory = new MemorisingStudentFactory(),
) {
  const result = await runSiked({
    runDir,
    settings,
    trainProblems: problems,
    evalSets: { test: testSet },
    teacher: new RecordedTeacher(teacherSamples(), 'recorded-test'),
    studentFactory: factory,
    format,
    runner: noPotRunner,
    onEvent,
  });
  return { result, factory };
}

async function readLines<T>(file: string): Promise<T[]> {
  return (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Every artefact of a run folder except the manifest and the metrics log (timestamps, rates). */
async function artefactContents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (relative: string) => {
    for (const entry of await fs.readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (child !== 'run.json' && child !== 'metrics.jsonl')
        out[child] = await fs.readFile(path.join(dir, child), 'utf8');
    }
  };
  await walk('');
  return out;
}

describe('runSiked control flow (MemorisingStudent)', () => {
  it('runs teacher -> iteration 0 -> iterations 1..T and writes the run directory', async () => {
    const runDir = path.join(root, 'full');
    const events: LoopEvent[] = [];
    const { result, factory } = await run(runDir, baseSettings, (e) => events.push(e));
    expect(result.manifest.status).toBe('done');
    // Evaluation reports its progress per generation call, ending at the whole set.
    const evalProgress = events.filter(
      (e): e is Extract<LoopEvent, { type: 'eval-progress' }> => e.type === 'eval-progress',
    );
    expect(evalProgress.length).toBeGreaterThan(0);
    const lastValidation = evalProgress
      .filter((e) => e.iteration === 0 && e.dataset === 'validation')
      .at(-1);
    expect(lastValidation?.questionsDone).toBe(lastValidation?.questionsTotal);

    const split = splitValidation(problems, 0.2, 7);
    expect(split.validation).toHaveLength(4);
    const validationIds = new Set(split.validation.map((p) => p.id));

    // D_LLM: one verified solution per (question, strategy), never for a validation question,
    // and the CORRECT CoT was kept although a wrong one came first.
    const teacher = await readLines<Solution>(path.join(runDir, 'teacher.jsonl'));
    const trainIds = split.train.map((p) => p.id);
    const evenTrain = split.train.filter((p) => Number(p.id.slice(1)) % 2 === 0).length;
    expect(teacher).toHaveLength(16 + evenTrain);
    expect(
      teacher.every((s) => s.correct && s.origin === 'teacher' && !validationIds.has(s.problemId)),
    ).toBe(true);
    expect(teacher.filter((s) => s.strategy === 'cot').map((s) => s.problemId)).toEqual(trainIds);

    // Iteration 0 trains on D_LLM from the base model.
    expect(await readLines<Solution>(path.join(runDir, 'iter-0/train.jsonl'))).toEqual(teacher);
    expect(factory.loads[0]).toBe('base');

    // Iteration 1: k samples per training question, verified; the memorising student solves
    // every training question, so sparse mixing takes no teacher data: alpha = 0.
    const samples = await readLines<SampleRecord>(path.join(runDir, 'iter-1/samples.jsonl'));
    expect(samples).toHaveLength(16 * 3);
    expect(samples.every((s) => s.correct)).toBe(true);
    const self = await readLines<Solution>(path.join(runDir, 'iter-1/self.jsonl'));
    expect(self).toHaveLength(teacher.length); // both strategies recalled for each question
    const eval1 = JSON.parse(
      await fs.readFile(path.join(runDir, 'iter-1/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    expect(eval1.alpha).toBe(0);
    expect(eval1.datasets.validation!.total).toBe(4);
    expect(eval1.datasets.validation!.accuracy).toBe(0); // never trained on validation questions
    expect(eval1.datasets.test!.total).toBe(1);
    expect(eval1.greedyValidationShares).toEqual({ cot: 1, l2m: 0, pot: 0 });
    expect(eval1.teacherShares!.cot).toBeCloseTo(16 / teacher.length, 12);
    // Figure 2: P_SM over every sample of the iteration-0 student that built D_self(1)
    const sampledCot = samples.filter((s) => s.strategy === 'cot').length;
    expect(eval1.samplingShares!.cot).toBeCloseTo(sampledCot / samples.length, 12);
    expect(eval1.samplingCorrectShares).toEqual(eval1.samplingShares);
    expect(eval1.samplingCounts).toEqual({ samples: 48, tagged: 48, correct: 48 });
    expect(eval1.klTrainToSampling).toBeGreaterThanOrEqual(0);
    expect(eval1.trainSteps).toBe(self.length);
    const eval0 = JSON.parse(
      await fs.readFile(path.join(runDir, 'iter-0/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    // No student sampled before combined distillation: P_SM and the KL are n/a.
    expect(eval0.samplingShares).toBeNull();
    expect(eval0.klTrainToSampling).toBeNull();
    expect(eval0.trainShares).toEqual(eval0.teacherShares);

    // Iteration 2 continues from iteration 1's model.
    expect(factory.loads).toContain(path.join(runDir, 'iter-1', 'model'));
    const manifest = (await readManifest(runDir))!;
    expect(Object.keys(manifest.stages)).toEqual([
      'split',
      'teacher',
      'iter-0/mix',
      'iter-0/train',
      'iter-0/eval',
      'iter-1/sample',
      'iter-1/mix',
      'iter-1/train',
      'iter-1/eval',
      'iter-2/sample',
      'iter-2/mix',
      'iter-2/train',
      'iter-2/eval',
    ]);
    expect(manifest.stages['iter-1/train']!.artefacts.map((a) => a.path)).toEqual([
      'iter-1/model/memory.json',
    ]);
    expect(manifest.stages.teacher!.artefacts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.bestIteration).toBe(0);
    // Two recorded CoT samples per question (one wrong), one L2M for even questions.
    expect(manifest.stages.teacher!.details!.verification).toEqual({
      cot: { samples: 32, correct: 16, passRate: 0.5 },
      l2m: { samples: evenTrain, correct: evenTrain, passRate: 1 },
    });
    const metrics = await readLines<{ kind: string; iteration: number; loss: number }>(
      path.join(runDir, 'metrics.jsonl'),
    );
    expect(metrics.filter((m) => m.iteration === 0)).toHaveLength(teacher.length);

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run-start');
    expect(types.at(-1)).toBe('run-done');
    expect(types.filter((t) => t === 'teacher-progress')).toHaveLength(3 + 3); // 16 questions / 6 per chunk, 2 strategies
    expect(events.filter((e) => e.type === 'eval-result')).toHaveLength(3 * 2);
  });

  it('sparse mixing adds teacher data per strategy where the student has no correct sample of it; all adds every one', async () => {
    // A student that remembers only 10 prompts fails the other training questions in every sample.
    const sparseDir = path.join(root, 'sparse');
    await run(
      sparseDir,
      { ...baseSettings, iterations: 1 },
      undefined,
      new MemorisingStudentFactory(10),
    );
    const teacher = await readLines<Solution>(path.join(sparseDir, 'teacher.jsonl'));
    const samples = await readLines<SampleRecord>(path.join(sparseDir, 'iter-1/samples.jsonl'));
    const solved = new Set(samples.filter((s) => s.correct).map((s) => s.problemId));
    expect(solved.size).toBe(10);
    const solvedWith = new Set(
      samples.filter((s) => s.correct).map((s) => `${s.problemId} ${s.strategy}`),
    );
    const self = await readLines<Solution>(path.join(sparseDir, 'iter-1/self.jsonl'));
    const train = await readLines<Solution>(path.join(sparseDir, 'iter-1/train.jsonl'));
    const teacherPart = teacher.filter((s) => !solvedWith.has(`${s.problemId} ${s.strategy}`));
    expect(teacherPart.length).toBeGreaterThan(0);
    expect(train).toEqual([...teacherPart, ...self]);
    const eval1 = JSON.parse(
      await fs.readFile(path.join(sparseDir, 'iter-1/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    expect(eval1.alpha).toBeCloseTo(teacherPart.length / (teacherPart.length + self.length), 12);

    const allDir = path.join(root, 'all');
    await run(
      allDir,
      { ...baseSettings, iterations: 1, mixing: 'all' },
      undefined,
      new MemorisingStudentFactory(10),
    );
    const evalAll = JSON.parse(
      await fs.readFile(path.join(allDir, 'iter-1/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    expect(evalAll.alpha).toBeCloseTo(teacher.length / (teacher.length + self.length), 12);
  });

  it('the compute control trains on D_LLM alone for the given steps, continuing from the last student', async () => {
    const runDir = path.join(root, 'teacher-only');
    const { factory } = await run(runDir, {
      ...baseSettings,
      iterations: 2,
      mixing: 'teacher-only',
      stepsPerIteration: [null, 7, 5],
    });
    const teacher = await readLines<Solution>(path.join(runDir, 'teacher.jsonl'));
    for (const t of [1, 2])
      expect(await readLines<Solution>(path.join(runDir, `iter-${t}/train.jsonl`))).toEqual(
        teacher,
      );
    const manifest = (await readManifest(runDir))!;
    expect([0, 1, 2].map((t) => manifest.stages[`iter-${t}/train`]!.details!.steps)).toEqual([
      teacher.length,
      7,
      5,
    ]);
    const eval2 = JSON.parse(
      await fs.readFile(path.join(runDir, 'iter-2/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    expect(eval2.alpha).toBe(1);
    expect(eval2.trainSteps).toBe(5);
    expect(factory.loads).toContain(path.join(runDir, 'iter-1', 'model'));
  });

  it('resumes after a crash at any stage and ends with the same artefacts', async () => {
    const reference = path.join(root, 'reference');
    await run(reference, baseSettings);
    const expected = await artefactContents(reference);
    for (const crashAt of [
      'teacher',
      'iter-0/eval',
      'iter-1/sample',
      'iter-1/train',
      'iter-2/mix',
    ]) {
      const runDir = path.join(root, `crash-${crashAt.replace('/', '-')}`);
      await expect(
        run(runDir, baseSettings, (e) => {
          if (e.type === 'stage-start' && e.stage === crashAt)
            throw new Error(`simulated crash at ${crashAt}`);
        }),
      ).rejects.toThrow('simulated crash');
      expect((await readManifest(runDir))!.status).toBe('running');
      const events: LoopEvent[] = [];
      const { result } = await run(runDir, baseSettings, (e) => events.push(e));
      expect(result.manifest.status).toBe('done');
      expect(events[0]).toEqual({ type: 'run-start', runDir, resumed: true });
      const skipped = events
        .filter((e) => e.type === 'stage-skip')
        .map((e) => (e as { stage: string }).stage);
      expect(skipped).not.toContain(crashAt);
      expect(skipped.length).toBeGreaterThan(0);
      expect(await artefactContents(runDir)).toEqual(expected);
    }
  });

  it('repairs a teacher.jsonl torn mid-line and re-asks only unfinished chunks', async () => {
    const runDir = path.join(root, 'torn');
    await expect(
      run(runDir, baseSettings, (e) => {
        if (e.type === 'teacher-progress' && e.strategy === 'l2m')
          throw new Error('crash after the first l2m chunk');
      }),
    ).rejects.toThrow('crash');
    await fs.appendFile(path.join(runDir, 'teacher.jsonl'), '{"problemId":"p1","strat');
    await run(runDir, baseSettings);
    expect(await artefactContents(runDir)).toEqual(
      await artefactContents(path.join(root, 'reference')),
    );
  });

  it('refuses to resume with different settings, and a finished run is left alone', async () => {
    const runDir = path.join(root, 'full');
    // The message names each differing setting, not every setting of the run.
    const refused = await run(runDir, { ...baseSettings, mixing: 'all' }).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(
      /different settings \(mixing: "sparse" recorded, "all" now\); resume/,
    );
    const events: LoopEvent[] = [];
    await run(runDir, baseSettings, (e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['run-start', 'run-done']);
  });

  it('resumes a run recorded before newer settings existed (they take their defaults)', async () => {
    const runDir = path.join(root, 'full');
    const manifestFile = path.join(runDir, 'run.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as {
      config: { training: Record<string, unknown> };
    };
    // As an older siked wrote it: no over-length rule, optimizer or scheduler settings.
    for (const key of ['overLength', 'weightDecay', 'maxGradNorm', 'lrScheduler']) {
      expect(key in manifest.config.training).toBe(true);
      delete manifest.config.training[key];
    }
    await fs.writeFile(manifestFile, JSON.stringify(manifest));
    const events: LoopEvent[] = [];
    await run(runDir, baseSettings, (e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['run-start', 'run-done']);
    const refused = await run(runDir, {
      ...baseSettings,
      training: { weightDecay: 0.01 },
    }).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(/training\.weightDecay: 0 recorded, 0\.01 now/);
  });

  it("locks the run folder against a second live process, and takes over a dead one's lock", async () => {
    const runDir = path.join(root, 'locked');
    await fs.mkdir(runDir, { recursive: true });
    await fs.writeFile(path.join(runDir, 'run.lock'), `${process.ppid}\n`); // a live process
    await expect(run(runDir, baseSettings)).rejects.toThrow(`in use by process ${process.ppid}`);
    await fs.writeFile(path.join(runDir, 'run.lock'), '4194000\n'); // above the usual pid_max
    const { result } = await run(runDir, { ...baseSettings, iterations: 0 });
    expect(result.manifest.status).toBe('done');
    await expect(fs.access(path.join(runDir, 'run.lock'))).rejects.toThrow();
  });

  for (const evaluation of [false, true]) {
    it(`sends self-generation${evaluation ? ' and evaluation' : ''} to the student server (the scale-out path)`, async () => {
      const factory = new MemorisingStudentFactory();
      const served: ServedCheckpoint[] = [];
      const calls: Array<{ iteration: number; prompts: number; numSamples: number }> = [];
      const runDir = path.join(root, `server-${evaluation}`);
      const result = await runSiked({
        runDir,
        settings: { ...baseSettings, iterations: 1 },
        trainProblems: problems,
        teacher: new RecordedTeacher(teacherSamples()),
        studentFactory: factory,
        format,
        runner: noPotRunner,
        studentServer: {
          evaluation,
          async serve(checkpoint) {
            served.push(checkpoint);
            // The "server" answers from the checkpoint folder it was given.
            const student = await factory.load(checkpoint.modelDir);
            return {
              generate: (prompts, options) => {
                calls.push({
                  iteration: checkpoint.iteration,
                  prompts: prompts.length,
                  numSamples: options.numSamples,
                });
                return student.generate(prompts, options);
              },
            };
          },
        },
      });
      expect(result.manifest.status).toBe('done');
      // Self-generation of iteration 1 samples from iteration 0's student.
      expect(served[0]).toEqual({ iteration: 0, modelDir: path.resolve(runDir, 'iter-0/model') });
      // 16 training questions in chunks of 8, k = 3 (then greedy evaluation, when sent too).
      const sampling = calls.filter((c) => c.numSamples === 3);
      expect(sampling).toEqual([
        { iteration: 0, prompts: 8, numSamples: 3 },
        { iteration: 0, prompts: 8, numSamples: 3 },
      ]);
      const evaluated = calls.filter((c) => c.numSamples === 1).map((c) => c.iteration);
      expect(new Set(evaluated)).toEqual(new Set(evaluation ? [0, 1] : []));
      expect(served.map((c) => c.iteration)).toEqual(evaluation ? [0, 0, 1] : [0]);
    });
  }

  it('stops early when validation accuracy stops improving', async () => {
    const runDir = path.join(root, 'early');
    const { result } = await run(runDir, { ...baseSettings, iterations: 3, earlyStopping: true });
    expect(result.manifest.status).toBe('stopped-early');
    expect(result.manifest.stoppedAfterIteration).toBe(1);
    expect(result.manifest.bestIteration).toBe(0);
    await expect(fs.access(path.join(runDir, 'iter-2'))).rejects.toThrow();
  });

  it('a forced single strategy restricts teacher data, prompts and evaluation to it', async () => {
    const runDir = path.join(root, 'forced');
    await run(runDir, { ...baseSettings, iterations: 1, forcedStrategy: 'l2m' });
    const teacher = await readLines<Solution>(path.join(runDir, 'teacher.jsonl'));
    expect(teacher.length).toBeGreaterThan(0);
    expect(teacher.every((s) => s.strategy === 'l2m')).toBe(true);
    const samples = await readLines<SampleRecord>(path.join(runDir, 'iter-1/samples.jsonl'));
    expect(samples.every((s) => s.strategy === 'l2m')).toBe(true);
    const eval1 = JSON.parse(
      await fs.readFile(path.join(runDir, 'iter-1/eval.json'), 'utf8'),
    ) as IterationEvaluation;
    expect(eval1.datasets.validation!.byStrategy.l2m.count).toBe(4);
  });

  it('validates settings with field names', () => {
    expect(() => resolveRunSettings({ selfSamples: 0 })).toThrow(/selfSamples/);
    expect(() => resolveRunSettings({ strategies: ['cot'], forcedStrategy: 'pot' })).toThrow(
      /forcedStrategy/,
    );
    const defaults = resolveRunSettings();
    expect(defaults).toMatchObject({
      selfSamples: 10,
      temperature: 0.7,
      topP: 0.95,
      maxNewTokens: 512,
      mixing: 'sparse',
      studentInit: 'continue',
      validationFraction: 0.1,
      strategies: ['cot', 'l2m', 'pot'],
    });
    expect(defaults.training.microBatchSize * defaults.training.gradientAccumulation).toBe(8);
  });
});
