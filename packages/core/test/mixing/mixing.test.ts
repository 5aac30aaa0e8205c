import {
  countStrategies,
  dedupeSolutions,
  keepOnePerQuestionAndStrategy,
  klDivergence,
  mixTrainingSet,
  mixtureDistribution,
  normalizeSolutionText,
  smoothedKlDivergence,
  strategyDistribution,
  type Solution,
  type Strategy,
} from '../../src';

function solution(
  problemId: string,
  strategy: Strategy,
  text: string,
  correct = true,
  origin: Solution['origin'] = 'student',
): Solution {
  return { problemId, strategy, origin, iteration: 1, text, predicted: correct ? 1 : 2, correct };
}

describe('de-duplication and one-per-(question, strategy)', () => {
  it('normalises whitespace only', () => {
    expect(normalizeSolutionText('  a = 1\n\n answer =  a \t')).toBe('a = 1 answer = a');
    expect(normalizeSolutionText('Answer = A')).not.toBe(normalizeSolutionText('answer = a'));
  });

  it('drops repeated samples of the same question and strategy, keeping the first', () => {
    const samples = [
      solution('q1', 'cot', 'two  plus two\nFinal answer: 4'),
      solution('q1', 'cot', 'two plus two Final answer: 4'),
      solution('q1', 'l2m', 'two plus two Final answer: 4'),
      solution('q2', 'cot', 'two plus two Final answer: 4'),
    ];
    const kept = dedupeSolutions(samples);
    expect(kept).toEqual([samples[0], samples[2], samples[3]]);
  });

  it('keeps the first CORRECT solution per (question, strategy)', () => {
    const samples = [
      solution('q1', 'cot', 'wrong', false),
      solution('q1', 'cot', 'first right'),
      solution('q1', 'cot', 'second right'),
      solution('q1', 'pot', 'answer = 1'),
      solution('q2', 'l2m', 'wrong', false),
    ];
    expect(keepOnePerQuestionAndStrategy(samples).map((s) => s.text)).toEqual([
      'first right',
      'answer = 1',
    ]);
  });
});

describe('mixing', () => {
  // Teacher data (D_LLM), built by hand: q1 cot+pot, q2 cot, q3 l2m+pot.
  // The student's correct samples (D_self): q1 with cot and with l2m, q3 with pot; q2 and q4
  // (no teacher data) unsolved.
  const teacher = [
    solution('q1', 'cot', 't1c', true, 'teacher'),
    solution('q1', 'pot', 't1p', true, 'teacher'),
    solution('q2', 'cot', 't2c', true, 'teacher'),
    solution('q3', 'l2m', 't3l', true, 'teacher'),
    solution('q3', 'pot', 't3p', true, 'teacher'),
  ];
  const self = [
    solution('q1', 'cot', 's1c'),
    solution('q1', 'l2m', 's1l'),
    solution('q3', 'pot', 's3p'),
  ];
  const problemIds = ['q1', 'q2', 'q3', 'q4'];
  const mix = (mode: Parameters<typeof mixTrainingSet>[0]['mode'], selfSolutions = self) =>
    mixTrainingSet({ mode, teacherSolutions: teacher, selfSolutions, problemIds });
  const texts = (list: readonly Solution[]) => list.map((s) => s.text);

  it('sparse works per strategy, as the reference calls its mixing once per strategy', () => {
    const mixed = mix('sparse');
    // Each strategy's part on its own:
    //   cot: self {q1} + teacher cot of questions without a correct cot sample {q2}
    //   l2m: self {q1} + teacher l2m of {q3} (q3 was solved, but only with pot)
    //   pot: self {q3} + teacher pot of {q1} (q1 was solved, but not with pot)
    const part = (strategy: Strategy) =>
      texts(mixed.examples.filter((s) => s.strategy === strategy)).sort();
    expect(part('cot')).toEqual(['s1c', 't2c']);
    expect(part('l2m')).toEqual(['s1l', 't3l']);
    expect(part('pot')).toEqual(['s3p', 't1p']);
    expect(texts(mixed.teacherPart)).toEqual(['t1p', 't2c', 't3l']);
    expect(texts(mixed.selfPart)).toEqual(['s1c', 's1l', 's3p']);
    expect(texts(mixed.examples)).toEqual(['t1p', 't2c', 't3l', 's1c', 's1l', 's3p']);
    expect(mixed.unsolvedProblemIds).toEqual(['q2', 'q4']);
    // alpha = 3 / (3 + 3)
    expect(mixed.alpha).toBeCloseTo(0.5, 12);
  });

  it('sparse-per-question (ablation): a solved question loses every teacher solution', () => {
    const mixed = mix('sparse-per-question');
    expect(texts(mixed.teacherPart)).toEqual(['t2c']);
    expect(texts(mixed.examples)).toEqual(['t2c', 's1c', 's1l', 's3p']);
    expect(mixed.alpha).toBeCloseTo(1 / 4, 12);
  });

  it('all: every teacher solution plus self data', () => {
    const mixed = mix('all');
    expect(mixed.examples).toHaveLength(8);
    // alpha = 5 / (5 + 3)
    expect(mixed.alpha).toBeCloseTo(5 / 8, 12);
  });

  it('self-only: the self data alone (alpha 0); teacher-only: D_LLM alone (alpha 1)', () => {
    const selfOnly = mix('self-only');
    expect(texts(selfOnly.examples)).toEqual(['s1c', 's1l', 's3p']);
    expect(selfOnly.teacherPart).toEqual([]);
    expect(selfOnly.alpha).toBe(0);
    const teacherOnly = mix('teacher-only');
    expect(texts(teacherOnly.examples)).toEqual(texts(teacher));
    expect(teacherOnly.selfPart).toEqual([]);
    expect(teacherOnly.alpha).toBe(1);
  });

  it('a student that solves nothing gets the teacher data back (alpha 1); empty data gives alpha 0', () => {
    const mixed = mix('sparse', []);
    expect(mixed.alpha).toBe(1);
    expect(mixed.teacherPart).toHaveLength(5);
    expect(
      mixTrainingSet({ mode: 'sparse', teacherSolutions: [], selfSolutions: [], problemIds }).alpha,
    ).toBe(0);
  });

  it('ignores incorrect self solutions when deciding what is solved', () => {
    const mixed = mix('sparse', [solution('q2', 'cot', 'wrong', false)]);
    expect(mixed.selfPart).toHaveLength(0);
    expect(mixed.alpha).toBe(1);
  });
});

describe('strategy statistics', () => {
  it('counts and normalises', () => {
    const counts = countStrategies([
      { strategy: 'cot' },
      { strategy: 'cot' },
      { strategy: 'pot' },
      { strategy: 'cot' },
    ]);
    expect(counts).toEqual({ cot: 3, l2m: 0, pot: 1 });
    expect(strategyDistribution(counts)).toEqual({ cot: 0.75, l2m: 0, pot: 0.25 });
    // pseudo-count 1: (3+1)/7, (0+1)/7, (1+1)/7
    const smoothed = strategyDistribution(counts, { pseudoCount: 1 });
    expect(smoothed.cot).toBeCloseTo(4 / 7, 12);
    expect(smoothed.l2m).toBeCloseTo(1 / 7, 12);
    expect(smoothed.pot).toBeCloseTo(2 / 7, 12);
    expect(strategyDistribution({ cot: 0, l2m: 0, pot: 0 })).toEqual({ cot: 0, l2m: 0, pot: 0 });
    // restricted strategy set: cot and pot only
    expect(strategyDistribution(counts, { strategies: ['cot', 'pot'] })).toEqual({
      cot: 0.75,
      l2m: 0,
      pot: 0.25,
    });
    expect(() => strategyDistribution(counts, { pseudoCount: -1 })).toThrow(/pseudoCount/);
  });

  it('KL divergence by hand', () => {
    const p = { cot: 0.5, l2m: 0.25, pot: 0.25 };
    const q = { cot: 0.25, l2m: 0.25, pot: 0.5 };
    // 0.5 ln 2 + 0 + 0.25 ln 0.5 = 0.25 ln 2
    expect(klDivergence(p, q)).toBeCloseTo(0.25 * Math.LN2, 12);
    expect(klDivergence(p, p)).toBe(0);
    expect(klDivergence({ cot: 1, l2m: 0, pot: 0 }, { cot: 0.5, l2m: 0.5, pot: 0 })).toBeCloseTo(
      Math.LN2,
      12,
    );
    expect(klDivergence(q, { cot: 0.5, l2m: 0.5, pot: 0 })).toBe(Infinity);
  });

  it('smoothed KL between counts by hand', () => {
    // P counts {2,0,0} -> with 0.5: {2.5,0.5,0.5}/3.5 ; Q counts {0,1,1} -> {0.5,1.5,1.5}/3.5
    const kl = smoothedKlDivergence({ cot: 2, l2m: 0, pot: 0 }, { cot: 0, l2m: 1, pot: 1 });
    const expected = (2.5 / 3.5) * Math.log(2.5 / 0.5) + 2 * (0.5 / 3.5) * Math.log(0.5 / 1.5);
    expect(kl).toBeCloseTo(expected, 12);
    expect(Number.isFinite(kl)).toBe(true);
  });

  it('the paper mixture P_train = alpha P_L + (1 - alpha) P_SM', () => {
    const mixed = mixtureDistribution(
      0.25,
      { cot: 1 / 3, l2m: 1 / 3, pot: 1 / 3 },
      { cot: 1, l2m: 0, pot: 0 },
    );
    expect(mixed.cot).toBeCloseTo(0.25 / 3 + 0.75, 12);
    expect(mixed.l2m).toBeCloseTo(0.25 / 3, 12);
    expect(() => mixtureDistribution(1.5, mixed, mixed)).toThrow(/alpha/);
  });

  it('the mixing rate reproduces the observed training distribution', () => {
    // a sparse mix: teacher part {cot:1}, self part {l2m:1, cot:1}: alpha=1/3
    const teacherPart = { cot: 1, l2m: 0, pot: 0 };
    const selfPart = { cot: 0.5, l2m: 0.5, pot: 0 };
    const predicted = mixtureDistribution(1 / 3, teacherPart, selfPart);
    const observed = strategyDistribution({ cot: 2, l2m: 1, pot: 0 });
    for (const s of ['cot', 'l2m', 'pot'] as const)
      expect(predicted[s]).toBeCloseTo(observed[s], 12);
  });
});
