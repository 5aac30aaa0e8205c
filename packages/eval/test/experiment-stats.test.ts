import {
  compareMethods,
  cumulativeStepsAt,
  familyTable,
  formatInterval,
  pairedBootstrap,
  soundnessTable,
  summarizeExperiment,
  writeFindings,
  type ExperimentRun,
  type MethodSpec,
  type PredictionRecord,
  type RunPredictions,
} from '@siked/eval';
import type { Strategy } from '@siked/core';
import { accuracyOf, sampleSummary } from './summary-fixture';

const bools = (pattern: string) => [...pattern].map((c) => c === '1');

describe('pairedBootstrap', () => {
  it('gives a zero-width interval when every resample has the same difference', () => {
    const same = pairedBootstrap([{ seed: 0, a: bools('1010'), b: bools('1010') }])!;
    expect(same).toMatchObject({ difference: 0, low: 0, high: 0, seeds: 1, problems: 4 });
    const all = pairedBootstrap([
      { seed: 0, a: bools('1111'), b: bools('0000') },
      { seed: 1, a: bools('11'), b: bools('00') },
    ])!;
    expect(all).toMatchObject({ difference: 1, low: 1, high: 1, seeds: 2, problems: 2 });
  });

  it('pairs the draws: a constant per-problem lead stays exact whatever is drawn', () => {
    // A is right exactly where B is, plus nothing: the paired difference is 0 on every draw
    // although both accuracies vary from draw to draw.
    const interval = pairedBootstrap([{ seed: 0, a: bools('110010'), b: bools('110010') }])!;
    expect([interval.low, interval.high]).toEqual([0, 0]);
  });

  it('is reproducible, holds the point estimate and narrows with more problems', () => {
    const small = [{ seed: 0, a: bools('1100'), b: bools('0000') }];
    const first = pairedBootstrap(small, { resamples: 500 })!;
    expect(pairedBootstrap(small, { resamples: 500 })).toEqual(first);
    expect(first.difference).toBe(0.5);
    expect(first.low).toBeLessThan(0.5);
    expect(first.high).toBeGreaterThan(0.5);
    const large = [{ seed: 0, a: bools('1100'.repeat(50)), b: bools('0000'.repeat(50)) }];
    const narrow = pairedBootstrap(large, { resamples: 500 })!;
    expect(narrow.high - narrow.low).toBeLessThan((first.high - first.low) / 3);
  });

  it('refuses unpaired outcomes and returns null without data', () => {
    expect(() => pairedBootstrap([{ seed: 3, a: bools('10'), b: bools('1') }])).toThrow(/seed 3/);
    expect(pairedBootstrap([])).toBeNull();
  });

  it('formats as points with a star when the interval excludes 0', () => {
    const interval = {
      difference: 0.05,
      low: 0.01,
      high: 0.09,
      seeds: 5,
      problems: 9,
      resamples: 9,
    };
    expect(formatInterval(interval)).toBe('+5.0 [+1.0, +9.0] *');
    expect(formatInterval({ ...interval, low: -0.01 })).toBe('+5.0 [-1.0, +9.0]');
    expect(formatInterval(null)).toBe('n/a');
  });
});

describe('cumulativeStepsAt', () => {
  it('adds the earlier iterations when the student continues, not when it restarts', () => {
    const summary = sampleSummary(); // steps 20, 15, 12
    expect(cumulativeStepsAt(summary, 0)).toBe(20);
    expect(cumulativeStepsAt(summary, 2)).toBe(47);
    summary.config = { studentInit: 'restart' };
    expect(cumulativeStepsAt(summary, 2)).toBe(12);
    summary.iterations[1].trainSteps = null;
    expect(cumulativeStepsAt({ ...summary, config: {} }, 2)).toBeNull();
  });
});

// A world of two families, f1 (ids a*) and f2 (ids b*), 10 problems each on test and validation.
const ids = [...Array(10)].map((_, i) => `a${i}`).concat([...Array(10)].map((_, i) => `b${i}`));
const familyOf = (_seed: number, id: string) => (id.startsWith('a') ? 'f1' : 'f2');

/** Graded answers: `correctF1` of f1's and `correctF2` of f2's problems right, with `strategy`. */
function answers(correctF1: number, correctF2: number, strategy: Strategy): PredictionRecord[] {
  return ids.map((problemId, i) => ({
    problemId,
    strategy,
    correct: i < 10 ? i < correctF1 : i - 10 < correctF2,
  }));
}

function run(
  arm: string,
  seed: number,
  test: PredictionRecord[],
  validation = test,
): ExperimentRun {
  const summary = sampleSummary();
  summary.bestIteration = 0;
  summary.iterations = [summary.iterations[0]];
  const correct = test.filter((r) => r.correct).length;
  summary.iterations[0].evaluations = [
    { dataset: 'test', accuracy: accuracyOf(correct, test.length), harness: null },
    { dataset: 'validation', accuracy: accuracyOf(0, 1), harness: null },
  ];
  const predictions: RunPredictions = new Map([
    [
      0,
      new Map([
        ['test', test],
        ['validation', validation],
      ]),
    ],
  ]);
  return { arm, seed, summary, wallSeconds: 1, predictions };
}

describe('per-family table and paired comparisons', () => {
  const methods: MethodSpec[] = [
    { label: 'CoT only', arm: 'cot', iteration: 0 },
    { label: 'L2M only', arm: 'l2m', iteration: 0 },
    { label: 'PoT only', arm: 'pot', iteration: 0 },
    { label: 'Combined', arm: 'loop', iteration: 0, loop: true },
  ];
  // Per seed: CoT is best on f1 (9 vs 5 vs 2), PoT on f2 (8 vs 3 vs 4); the combined student
  // uses PoT everywhere (f1 2/10, f2 8/10). On validation seed 1 prefers L2M for f1.
  const runs = [0, 1].flatMap((seed) => [
    run('cot', seed, answers(9, 3, 'cot')),
    run('l2m', seed, answers(5, 4, 'l2m'), seed === 1 ? answers(10, 0, 'l2m') : undefined),
    run('pot', seed, answers(2, 8, 'pot')),
    run('loop', seed, answers(2, 8, 'pot')),
  ]);
  const summary = summarizeExperiment(runs, methods);
  const table = familyTable(summary, {
    familyOf,
    singleStrategyRows: { cot: 'CoT only', l2m: 'L2M only', pot: 'PoT only' },
    methodRows: ['Combined'],
  })!;

  it('scores each single strategy per family and picks the oracle on validation', () => {
    const [f1, f2] = table.rows;
    expect(f1.family).toBe('f1');
    expect(f1.single.cot!.mean).toBeCloseTo(0.9, 12);
    expect(f1.bestOnTest).toEqual({ strategy: 'cot', margin: expect.closeTo(0.4, 12) });
    expect(f1.oracleChoices).toEqual({ cot: 1, l2m: 1, pot: 0 });
    // seed 0 takes CoT (0.9 on test), seed 1 L2M (0.5)
    expect(f1.oracleAccuracy!.mean).toBeCloseTo(0.7, 12);
    expect(f2.bestOnTest).toEqual({ strategy: 'pot', margin: expect.closeTo(0.4, 12) });
    expect(f1.methods[0]).toMatchObject({
      label: 'Combined',
      shares: { cot: 0, l2m: 0, pot: 1 },
      accuracy: { mean: expect.closeTo(0.2, 12) },
    });
    expect(table.winsByTenPoints).toEqual({ cot: ['f1'], l2m: [], pot: ['f2'] });
  });

  it('compares whole-set figures: oracle, best single strategy, any single strategy', () => {
    // oracle: seed 0 (9 + 8) / 20, seed 1 (5 + 8) / 20
    expect(table.overall.oracle!.mean).toBeCloseTo((17 / 20 + 13 / 20) / 2, 12);
    // best on validation overall, per seed: CoT (12/20 against PoT 10/20 and L2M 9/20 or 10/20)
    expect(table.overall.bestSingle!.mean).toBeCloseTo(12 / 20, 12);
    // any single right: f1 9, f2 8 per seed
    expect(table.overall.anySingle!.mean).toBeCloseTo(17 / 20, 12);
  });

  it('pairs answers by problem for the bootstrap and writes findings from them', () => {
    const [comparison] = compareMethods(summary, [{ treatment: 'CoT only', control: 'Combined' }], {
      resamples: 300,
    });
    // CoT 12/20 vs combined 10/20 on every seed
    expect(comparison.intervals.test!.difference).toBeCloseTo(0.1, 12);
    expect(comparison.intervals.test!.seeds).toBe(2);
    const findings = writeFindings(summary, [comparison], table).join('\n');
    expect(findings).toContain('**CoT only vs Combined**: test +10.0 points');
    expect(findings).toContain('Not every strategy wins a family by >= 10 points');
    expect(findings).toContain('CoT on f1');
  });

  it('says when the two sides of a comparison trained for different step counts', () => {
    const [comparison] = compareMethods(summary, [{ treatment: 'CoT only', control: 'Combined' }], {
      resamples: 50,
    });
    const withSteps = (cot: number, combined: number) => ({
      ...summary,
      methods: summary.methods.map((r) => ({
        ...r,
        cumulativeSteps: {
          mean: r.method.label === 'CoT only' ? cot : combined,
          std: 0,
          n: 2,
        },
      })),
    });
    const unmatched = writeFindings(withSteps(13106, 10802), [comparison], table).join('\n');
    expect(unmatched).toContain('(not compute-matched: 13,106 vs 10,802 optimizer steps).');
    // within 2% counts as matched (iterations differ by a few steps between arms)
    const matched = writeFindings(withSteps(10900, 10802), [comparison], table).join('\n');
    expect(matched).not.toContain('compute-matched');
  });
});

describe('soundnessTable', () => {
  const question = (_seed: number, id: string) =>
    id === 'unknown' ? undefined : 'It works 6 hours on Tuesday at 29 loaves per hour.';
  const record = (problemId: string, strategy: Strategy, text: string, correct = true) => ({
    problemId,
    strategy,
    correct,
    text,
  });
  const methods: MethodSpec[] = [
    { label: 'Sound', arm: 'sound', iteration: 0 },
    { label: 'Lucky', arm: 'lucky', iteration: 'best' },
    { label: 'No texts', arm: 'old', iteration: 0 },
  ];
  const runs = [
    run('sound', 0, [
      record('a0', 'pot', 'tuesday = 29 * 6\nanswer = tuesday'),
      record('a1', 'cot', '29 * 6 = 174\nFinal answer: 174'),
    ]),
    // Seed 0: one of two right answers unsound; seed 1: two of four. Wrong answers and answers
    // whose question is unknown are not counted.
    run('lucky', 0, [
      record('a0', 'pot', 'friday = 29 * 6\nanswer = friday'),
      record('a1', 'cot', '29 * 6 = 174\nFinal answer: 174'),
      record('a2', 'cot', '29 * 6 = 170\nFinal answer: 174', false),
      record('unknown', 'cot', '29 * 6 = 170\nFinal answer: 174'),
    ]),
    run('lucky', 1, [
      record('a0', 'pot', 'tuesday = 29 * 6\nanswer = tuesday'),
      record('a1', 'l2m', 'Answer 1: 29 * 6 = 170.\nFinal answer: 174'),
      record('a2', 'cot', '29 * 6 = 174\nFinal answer: 174'),
      record('a3', 'cot', '29 * 6 = 175\nFinal answer: 174'),
    ]),
    run('old', 0, answers(5, 5, 'cot')),
  ];

  it("counts each method's right answers whose working fails a check, per seed", () => {
    const rows = soundnessTable(summarizeExperiment(runs, methods), question)!;
    expect(rows.map((row) => row.label)).toEqual(['Sound', 'Lucky']);
    expect(rows[0]).toMatchObject({ correct: 2, falseEquations: 0, ungroundedNames: 0 });
    expect(rows[0]!.unsoundShare).toEqual({ mean: 0, std: 0, n: 1 });
    expect(rows[1]).toMatchObject({ correct: 6, falseEquations: 2, ungroundedNames: 1 });
    expect(rows[1]!.unsoundShare!.mean).toBeCloseTo(0.5);
    expect(rows[1]!.unsoundShare!.n).toBe(2);
  });

  it('says so in the findings for the rows chosen on validation', () => {
    const summary = summarizeExperiment(runs, methods);
    const findings = writeFindings(summary, [], null, soundnessTable(summary, question));
    expect(findings).toContain(
      '- Right answers with unsound working on test (chosen on validation): Lucky 50.0%.',
    );
  });

  it('is null when no answer has its text', () => {
    expect(soundnessTable(summarizeExperiment([runs[3]!], methods), question)).toBeNull();
  });
});
