// The synthetic teacher: with no mistakes every solution of every strategy verifies against the
// gold answer through the project's real verification (answer extraction; PoT run in the real
// Python sandbox); with mistakes the answer is wrong, at the configured rate.
import { PythonSandbox } from '../../src/sandbox';
import { extractFinalAnswer, l2mViolation } from '../../src/strategies';
import {
  PERFECT_TEACHER_ERROR_RATES,
  SYNTHETIC_FAMILIES,
  SyntheticTeacher,
  generateSyntheticSplits,
  syntheticSplitSpecs,
  type SyntheticProblemMeta,
} from '../../src/synthetic';
import { STRATEGIES, type Problem, type Strategy } from '../../src/types';
import { verifySolution } from '../../src/verify';

const sizes = {
  train: 120,
  validation: 0,
  test: 30,
  'ood-phrasing': 30,
  'ood-distractor': 30,
  'ood-numbers': 30,
  'ood-steps': 60,
};
const problems = Object.values(generateSyntheticSplits(syntheticSplitSpecs(sizes), 3)).flat();
const family = (problem: Problem) => (problem.meta as unknown as SyntheticProblemMeta).family;

let sandbox: PythonSandbox;
beforeAll(async () => {
  sandbox = await PythonSandbox.start({ workers: 2, timeoutMs: 20_000 }, { onWarning: () => {} });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('a teacher without mistakes', () => {
  const teacher = new SyntheticTeacher({ seed: 1, errorRates: PERFECT_TEACHER_ERROR_RATES });

  test.each(['cot', 'l2m'] as const)(
    'every %s solution states the gold answer in the project format',
    async (strategy) => {
      const samples = await teacher.solve(problems, strategy, 2);
      expect(samples).toHaveLength(problems.length * 2);
      samples.forEach((sample, index) => {
        const problem = problems[Math.floor(index / 2)];
        expect(sample.problemId).toBe(problem.id);
        const lines = sample.text.split('\n');
        expect(lines[lines.length - 1]).toMatch(/^Final answer: \d+$/);
        const extraction = extractFinalAnswer(sample.text);
        expect(extraction).toMatchObject({ ok: true, value: problem.answer, rule: 'final-answer' });
        if (strategy === 'l2m') {
          expect(l2mViolation(sample.text)).toBeNull();
          expect(sample.text).toMatch(/^Sub-question 1: .+\nAnswer 1: /);
        }
      });
    },
  );

  test('every PoT program runs in the real sandbox to the gold answer (sympy included)', async () => {
    const samples = await teacher.solve(problems, 'pot', 1);
    const equationPrograms = samples.filter((sample) => sample.text.includes('sympy'));
    expect(equationPrograms.length).toBeGreaterThan(20);
    const results = await Promise.all(samples.map((sample) => sandbox.run(sample.text)));
    results.forEach((result, index) => {
      expect({ id: problems[index].id, error: result.error }).toEqual({
        id: problems[index].id,
        error: null,
      });
      expect(result.answer).toBeCloseTo(problems[index].answer, 6);
    });
  });

  test('the project verifier accepts every strategy (verifySolution with the sandbox as runner)', async () => {
    const sample = problems.filter((_, index) => index % 6 === 0);
    for (const strategy of STRATEGIES) {
      const written = await teacher.solve(sample, strategy, 1);
      const verified = await Promise.all(
        written.map((candidate, index) =>
          verifySolution(candidate, sample[index], { runner: sandbox }),
        ),
      );
      expect(verified.filter((solution) => !solution.correct)).toEqual([]);
    }
  });
});

describe('a teacher with mistakes', () => {
  test('every mistaken sample ends in a wrong answer, and PoT computes what the teacher says', async () => {
    const always = { default: 1 };
    const teacher = new SyntheticTeacher({
      seed: 2,
      errorRates: { cot: always, l2m: always, pot: always },
    });
    const subset = problems.filter((_, index) => index % 3 === 0);
    for (const strategy of STRATEGIES) {
      const written = subset.map((problem) => teacher.write(problem, strategy, 0));
      for (const [index, sample] of written.entries()) {
        expect(sample.mistake).not.toBeNull();
        expect(Math.abs(sample.finalAnswer - subset[index].answer)).toBeGreaterThan(1e-6);
        if (strategy !== 'pot') {
          expect(extractFinalAnswer(sample.text)).toMatchObject({ ok: true });
          const extraction = extractFinalAnswer(sample.text);
          if (extraction.ok) expect(extraction.value).toBeCloseTo(sample.finalAnswer, 6);
        }
      }
      if (strategy === 'pot') {
        const results = await Promise.all(written.map((sample) => sandbox.run(sample.text)));
        results.forEach((result, index) => {
          expect(result.error).toBeNull();
          expect(result.answer).toBeCloseTo(written[index].finalAnswer, 6);
        });
      }
    }
  });

  test('a wrong step propagates: the steps after it build on the wrong value', () => {
    const teacher = new SyntheticTeacher({
      seed: 4,
      errorRates: { cot: { default: 1 }, l2m: { default: 1 }, pot: { default: 0 } },
    });
    const multiStep = problems.filter(
      (problem) => (problem.meta as unknown as SyntheticProblemMeta).steps >= 3,
    );
    let propagated = 0;
    for (const problem of multiStep) {
      const sample = teacher.write(problem, 'cot', 0);
      if (sample.mistake?.kind !== 'arithmetic' || sample.mistake.step === 0) continue;
      // The wrong result of step k is the left operand of a later line.
      const lines = sample.text.split('\n');
      const wrong = lines[sample.mistake.step].match(/= (-?\d+)/)![1];
      if (lines.slice(sample.mistake.step + 1).some((line) => line.includes(`${wrong} `)))
        propagated++;
    }
    expect(propagated).toBeGreaterThan(5);
  });

  test('mistakes occur at the configured rate per strategy and family', () => {
    const teacher = new SyntheticTeacher({
      seed: 5,
      errorRates: {
        cot: { default: 0.1, byFamily: { rates: 0.6 } },
        l2m: { default: 0 },
        pot: { default: 0.3 },
      },
    });
    const rate = (strategy: Strategy, subset: Problem[]) => {
      let mistakes = 0;
      let total = 0;
      for (const problem of subset) {
        for (let index = 0; index < 8; index++) {
          total++;
          if (teacher.write(problem, strategy, index).mistake) mistakes++;
        }
      }
      return mistakes / total;
    };
    const ratesFamily = problems.filter((problem) => family(problem) === 'rates');
    const others = problems.filter((problem) => family(problem) !== 'rates');
    expect(rate('cot', ratesFamily)).toBeGreaterThan(0.5);
    expect(rate('cot', ratesFamily)).toBeLessThan(0.7);
    expect(rate('cot', others)).toBeGreaterThan(0.06);
    expect(rate('cot', others)).toBeLessThan(0.14);
    expect(rate('l2m', problems)).toBe(0);
    expect(rate('pot', problems)).toBeGreaterThan(0.25);
    expect(rate('pot', problems)).toBeLessThan(0.35);
    expect(SYNTHETIC_FAMILIES).toContain('rates');
  });
});

describe('teacher contract', () => {
  test('samples are a pure function of (seed, problem, strategy, index)', async () => {
    const teacher = new SyntheticTeacher({ seed: 9 });
    const forward = await teacher.solve(problems.slice(0, 20), 'cot', 3);
    const reversed = await teacher.solve(problems.slice(0, 20).reverse(), 'cot', 3);
    const byKey = (samples: typeof forward) =>
      new Map(samples.map((sample, index) => [`${sample.problemId}/${index % 3}`, sample.text]));
    expect(byKey(reversed)).toEqual(byKey(forward));
    const otherSeed = await new SyntheticTeacher({ seed: 10 }).solve(
      problems.slice(0, 20),
      'cot',
      3,
    );
    expect(otherSeed).not.toEqual(forward);
  });

  test('bad input is rejected with a clear message', async () => {
    expect(
      () =>
        new SyntheticTeacher({
          errorRates: { cot: { default: 1.5 }, l2m: { default: 0 }, pot: { default: 0 } },
        }),
    ).toThrow(/cot.default must be a number in \[0, 1\]/);
    const teacher = new SyntheticTeacher();
    await expect(teacher.solve(problems.slice(0, 1), 'cot', 0)).rejects.toThrow(
      /samplesPerProblem/,
    );
    const foreign: Problem = {
      id: 'gsm8k-train-1',
      question: 'q',
      answer: 1,
      source: 'gsm8k',
      split: 'train',
    };
    await expect(teacher.solve([foreign], 'pot', 1)).rejects.toThrow(
      /problem gsm8k-train-1: meta.computation is missing/,
    );
  });
});
