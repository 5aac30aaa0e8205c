import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  RunFileError,
  countTeacherStrategies,
  loadRunSummary,
  parseIterationEval,
  parseTrainingMetrics,
} from '@siked/eval';

describe('parseIterationEval', () => {
  it('reads data sets keyed by name and fills what was not recorded', () => {
    const summary = parseIterationEval(
      {
        alpha: 0.5,
        klTrainToSampling: 0.2,
        samplingShares: { cot: 0.5, pot: 0.5 },
        greedyValidationShares: { cot: 1 },
        trainSteps: 7,
        datasets: {
          test: {
            total: 4,
            correct: 1,
            byStrategy: { cot: { count: 4, accuracy: 0.25 } },
            strictAccuracy: 0,
            flexibleAccuracy: 0.5,
          },
        },
      },
      'iter-3/eval.json',
      3,
    );
    expect(summary.iteration).toBe(3);
    expect(summary.greedyValidationShares).toEqual({ cot: 1, l2m: 0, pot: 0 });
    expect(summary.samplingShares).toEqual({ cot: 0.5, l2m: 0, pot: 0.5 });
    expect(summary.klTrainToSampling).toBe(0.2);
    expect(summary.trainSteps).toBe(7);
    expect(summary.trainShares).toBeNull();
    expect(summary.samplingCorrectShares).toBeNull();
    expect(summary.evaluations[0].harness).toEqual({ strict: 0, flexible: 0.5 });
    expect(summary.evaluations[0].accuracy).toEqual({
      total: 4,
      correct: 1,
      accuracy: 0.25,
      unparsed: 0,
      byStrategy: {
        cot: { count: 4, share: 1, accuracy: 0.25 },
        l2m: { count: 0, share: 0, accuracy: null },
        pot: { count: 0, share: 0, accuracy: null },
      },
    });
  });

  it('names the file and field of a wrong value', () => {
    expect(() =>
      parseIterationEval({ datasets: { test: { total: '4', correct: 1 } } }, 'e.json', 0),
    ).toThrow('e.json: field "datasets.test.total": expected a finite number, got "4"');
  });
});

describe('parseTrainingMetrics', () => {
  it('keeps training records, skips other events and a cut-off last line', () => {
    const text =
      '{"kind":"train","iteration":0,"step":1,"loss":2.5,"lr":0.001}\n' +
      '{"kind":"eval","iteration":0,"accuracy":0.4}\n' +
      '{"kind":"train","iteration":0,"step":2,"lo';
    expect(parseTrainingMetrics(text, 'metrics.jsonl')).toEqual([
      { iteration: 0, step: 1, loss: 2.5, tokensPerSecond: null, learningRate: 0.001 },
    ]);
  });

  it('names the line of a corrupt record in the middle', () => {
    expect(() =>
      parseTrainingMetrics('{"loss":1,"step":1}\n{oops\n{"loss":1,"step":2}\n', 'm.jsonl'),
    ).toThrow(/^m\.jsonl:2: field "\(whole record\)": not valid JSON/);
  });
});

describe('countTeacherStrategies', () => {
  it('counts verified solutions only and rejects unknown strategies with their line', () => {
    const text = ['cot', 'pot', 'pot']
      .map((s, i) => JSON.stringify({ strategy: s, correct: i !== 2 }))
      .join('\n');
    expect(countTeacherStrategies(text, 't.jsonl')).toEqual({ cot: 1, l2m: 0, pot: 1 });
    expect(() =>
      countTeacherStrategies('{"strategy":"cot"}\n{"strategy":"tot"}\n', 't.jsonl'),
    ).toThrow('t.jsonl:2: field "strategy"');
  });
});

describe('loadRunSummary', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siked-eval-run-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads iterations in numeric order and skips unfinished ones', async () => {
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({ status: 'running', config: { k: 2 } }),
    );
    for (const t of [10, 2, 3]) fs.mkdirSync(path.join(dir, `iter-${t}`));
    fs.writeFileSync(path.join(dir, 'iter-10', 'eval.json'), '{"alpha":0.1}');
    fs.writeFileSync(path.join(dir, 'iter-2', 'eval.json'), '{"alpha":0.5}');
    const summary = await loadRunSummary(dir);
    expect(summary.iterations.map((it) => [it.iteration, it.alpha])).toEqual([
      [2, 0.5],
      [10, 0.1],
    ]);
    expect(summary).toMatchObject({
      status: 'running',
      config: { k: 2 },
      teacherCounts: null,
      training: [],
    });
  });

  it('refuses a directory without run.json', async () => {
    await expect(loadRunSummary(dir)).rejects.toBeInstanceOf(RunFileError);
  });
});
