import { readFileSync } from 'node:fs';
import {
  loadGsm8k,
  verifyAll,
  verifySolution,
  verifySolutionDetailed,
  type Problem,
  type ProgramRunner,
} from '../../src';
import { describeWithSharedData, sharedData } from '../data/shared-data';
import { ChildProcessPythonRunnerForTests } from './python-test-runner';

const problem: Problem = {
  id: 'p-1',
  question: 'Tom buys 3 notebooks at $4 and a $2 pen and pays with $20. What is his change?',
  answer: 6,
  source: 'unit',
  split: 'test',
};
const runner = new ChildProcessPythonRunnerForTests();
afterAll(() => runner.close());

describe('verifySolution: working checks on a right answer', () => {
  const rates: Problem = {
    id: 'r-1',
    question:
      'A bakery makes 29 loaves per hour. It works for 6 hours on Tuesday. How many loaves?',
    answer: 174,
    source: 'unit',
    split: 'train',
  };

  it('keeps a lucky answer correct unless asked, then calls its working unsound', async () => {
    const lucky = {
      problemId: 'r-1',
      strategy: 'cot' as const,
      text: '29 * 6 = 170\nFinal answer: 174',
    };
    expect((await verifySolutionDetailed(lucky, rates)).outcome).toBe('correct');
    const checked = await verifySolutionDetailed(lucky, rates, { workingChecks: ['arithmetic'] });
    expect(checked).toEqual({
      outcome: 'unsound-working',
      solution: expect.objectContaining({
        predicted: 174,
        correct: false,
        error: '29 * 6 = 170 is false (174)',
      }),
    });
    // A wrong answer stays wrong: the checks only judge answers that are right.
    const wrong = { ...lucky, text: '29 * 6 = 170\nFinal answer: 170' };
    expect(
      (await verifySolutionDetailed(wrong, rates, { workingChecks: ['arithmetic'] })).outcome,
    ).toBe('wrong');
  });

  it('rejects a right program that names a day the question does not mention', async () => {
    const program = {
      problemId: 'r-1',
      strategy: 'pot' as const,
      text: 'saturday = 29 * 6\nanswer = saturday',
    };
    const grounded = { ...program, text: 'tuesday = 29 * 6\nanswer = tuesday' };
    const options = { runner, workingChecks: ['grounded-names'] as const };
    const { solutions, stats } = await verifyAll([program, grounded], [rates], options);
    expect(solutions.map((s) => [s.predicted, s.correct])).toEqual([
      [174, false],
      [174, true],
    ]);
    expect(solutions[0]!.error).toMatch(/'saturday'.*does not mention/);
    expect(stats).toMatchObject({
      correct: 1,
      unsoundWorking: 1,
      byStrategy: { pot: { failed: 1 } },
    });
    expect(stats.failureReasons).toEqual([
      { outcome: 'unsound-working', reason: expect.stringContaining('does not mention'), count: 1 },
    ]);
  });
});

describe('verifySolution: CoT and L2M', () => {
  it('grades a correct CoT solution and fills the Solution record', async () => {
    const text = '3 * 4 = 12\n12 + 2 = 14\n20 - 14 = 6\nFinal answer: $6';
    expect(await verifySolution({ problemId: 'p-1', strategy: 'cot', text }, problem)).toEqual({
      problemId: 'p-1',
      strategy: 'cot',
      origin: 'teacher',
      iteration: 0,
      text,
      predicted: 6,
      correct: true,
    });
  });

  it('tells a wrong answer from an unreadable one', async () => {
    const wrong = await verifySolutionDetailed(
      {
        problemId: 'p-1',
        strategy: 'cot',
        text: 'Final answer: 8',
        origin: 'student',
        iteration: 2,
      },
      problem,
    );
    expect(wrong).toEqual({
      outcome: 'wrong',
      solution: expect.objectContaining({
        predicted: 8,
        correct: false,
        origin: 'student',
        iteration: 2,
      }),
    });
    expect(wrong.solution.error).toBeUndefined();
    const unreadable = await verifySolutionDetailed(
      { problemId: 'p-1', strategy: 'cot', text: 'He gets 6 back.' },
      problem,
    );
    expect(unreadable.outcome).toBe('parse-failure');
    expect(unreadable.solution).toMatchObject({
      predicted: null,
      correct: false,
      error: expect.stringMatching(/^no answer statement/),
    });
  });

  it('refuses an L2M text without sub-questions even when its answer is right', async () => {
    const verified = await verifySolutionDetailed(
      { problemId: 'p-1', strategy: 'l2m', text: '20 - 14 = 6\nFinal answer: 6' },
      problem,
    );
    expect(verified.outcome).toBe('format-violation');
    expect(verified.solution).toMatchObject({
      predicted: 6,
      correct: false,
      error: 'not L2M: no sub-question (a text without one is not L2M)',
    });
    const l2m =
      'Sub-question 1: What does Tom spend?\nAnswer 1: 3 * 4 + 2 = 14.\nSub-question 2: What is his change?\nAnswer 2: 20 - 14 = 6.\nFinal answer: 6';
    expect(
      await verifySolution({ problemId: 'p-1', strategy: 'l2m', text: l2m }, problem),
    ).toMatchObject({ correct: true });
  });

  it('applies the tolerance to non-integer golds', async () => {
    const third: Problem = { ...problem, id: 'p-3', answer: 1 / 3 };
    const exact = await verifySolution(
      { problemId: 'p-3', strategy: 'cot', text: 'Final answer: 1/3' },
      third,
    );
    const rounded = await verifySolution(
      { problemId: 'p-3', strategy: 'cot', text: 'Final answer: 0.33' },
      third,
    );
    expect([exact.correct, rounded.correct]).toEqual([true, false]);
    const loose = await verifySolution(
      { problemId: 'p-3', strategy: 'cot', text: 'Final answer: 0.33' },
      third,
      {
        tolerance: { relative: 0.02, absolute: 0 },
      },
    );
    expect(loose.correct).toBe(true);
  });

  it('refuses to grade against the wrong problem or a non-finite gold', async () => {
    await expect(
      verifySolution({ problemId: 'p-2', strategy: 'cot', text: 'Final answer: 6' }, problem),
    ).rejects.toThrow('candidate is for problem "p-2" but was verified against "p-1"');
    await expect(
      verifySolution(
        { problemId: 'p-1', strategy: 'cot', text: 'Final answer: 6' },
        { ...problem, answer: Number.NaN },
      ),
    ).rejects.toThrow('has no finite gold answer');
  });
});

describe('verifySolution: PoT through a ProgramRunner (real Python, test-only runner)', () => {
  it('runs the program and reads answer / ans / solution() / solver()', async () => {
    const programs = [
      '```python\ntotal_cost = 3 * 4 + 2\nanswer = 20 - total_cost\n```',
      'ans = 20 - (3 * 4 + 2)\nprint("noise")',
      'def solution():\n    return 20 - 14',
      'def solver():\n    return 6.0000000001',
      'from sympy import Symbol, Eq, solve\nx = Symbol("x")\nanswer = solve(Eq(x + 14, 20), x)[0]',
    ];
    const { solutions, stats } = await verifyAll(
      programs.map((text) => ({ problemId: 'p-1', strategy: 'pot' as const, text })),
      [problem],
      { runner, concurrency: 3 },
    );
    expect(solutions.map((solution) => [solution.predicted, solution.correct])).toEqual([
      [6, true],
      [6, true],
      [6, true],
      [6.0000000001, true],
      [6, true],
    ]);
    expect(solutions[0].text).toBe(programs[0]); // the text is kept as written, fences included
    expect(stats.correct).toBe(5);
  }, 30_000);

  it('keeps execution failures, parse failures and wrong answers apart', async () => {
    const candidates = [
      { text: 'answer = 1 / 0', expected: 'execution-failure' },
      { text: 'answer = "six"', expected: 'execution-failure' },
      { text: 'result = 6', expected: 'parse-failure' },
      { text: 'answer = 7', expected: 'wrong' },
      { text: 'while True:\n    pass\nanswer = 6', expected: 'execution-failure' },
    ];
    const outcomes = [];
    for (const { text } of candidates) {
      outcomes.push(
        await verifySolutionDetailed({ problemId: 'p-1', strategy: 'pot', text }, problem, {
          runner,
          timeoutMs: 1000,
        }),
      );
    }
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(
      candidates.map((candidate) => candidate.expected),
    );
    expect(outcomes.map((outcome) => outcome.solution.error)).toEqual([
      'ZeroDivisionError: division by zero',
      "non-numeric answer: 'six'",
      'the program sets no `answer` or `ans` variable and defines no solution()/solver()',
      undefined,
      'timeout',
    ]);
  }, 30_000);

  it('needs a runner, and lets a runner failure propagate instead of grading it', async () => {
    await expect(
      verifySolution({ problemId: 'p-1', strategy: 'pot', text: 'answer = 6' }, problem),
    ).rejects.toThrow('verifying a PoT solution needs a ProgramRunner');
    const broken: ProgramRunner = {
      run: () => Promise.reject(new Error('sandbox pool is closed')),
      close: async () => undefined,
    };
    await expect(
      verifySolution({ problemId: 'p-1', strategy: 'pot', text: 'answer = 6' }, problem, {
        runner: broken,
      }),
    ).rejects.toThrow('sandbox pool is closed');
  });
});

describe('verifyAll', () => {
  it('keeps input order, reports progress and tallies outcomes per strategy and reason', async () => {
    const problems = [problem, { ...problem, id: 'p-2', answer: 10 }];
    const candidates = [
      { problemId: 'p-1', strategy: 'cot' as const, text: 'Final answer: 6' },
      { problemId: 'p-2', strategy: 'cot' as const, text: 'Final answer: 11' },
      { problemId: 'p-2', strategy: 'cot' as const, text: 'ten, I think' },
      { problemId: 'p-2', strategy: 'cot' as const, text: 'so, 12' },
      { problemId: 'p-2', strategy: 'cot' as const, text: 'Final answer: 3:30' },
      { problemId: 'p-2', strategy: 'cot' as const, text: 'Final answer: 4:15' },
      { problemId: 'p-1', strategy: 'l2m' as const, text: 'Final answer: 6' },
      { problemId: 'p-2', strategy: 'pot' as const, text: 'answer = 5 * 2' },
    ];
    const progress: number[] = [];
    const { solutions, stats } = await verifyAll(
      candidates,
      new Map(problems.map((p) => [p.id, p])),
      {
        runner,
        concurrency: 2,
        onProgress: (done) => progress.push(done),
      },
    );
    expect(solutions.map((solution) => solution.problemId)).toEqual(
      candidates.map((candidate) => candidate.problemId),
    );
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(stats).toEqual({
      total: 8,
      correct: 2,
      wrong: 1,
      parseFailures: 4,
      executionFailures: 0,
      formatViolations: 1,
      unsoundWorking: 0,
      byStrategy: {
        cot: { total: 6, correct: 1, wrong: 1, failed: 4 },
        l2m: { total: 1, correct: 0, wrong: 0, failed: 1 },
        pot: { total: 1, correct: 1, wrong: 0, failed: 0 },
      },
      failureReasons: [
        {
          outcome: 'parse-failure',
          reason: 'no answer statement (looked for "Final answer:", "####", "The answer is")',
          count: 2,
        },
        {
          outcome: 'parse-failure',
          reason: '"Final answer:" is followed by "..." (clock time or ratio)',
          count: 2,
        },
        {
          outcome: 'format-violation',
          reason: 'not L2M: no sub-question (a text without one is not L2M)',
          count: 1,
        },
      ],
    });
  }, 30_000);

  it('rejects unknown problem ids and a bad concurrency before verifying anything', async () => {
    await expect(
      verifyAll([{ problemId: 'nope', strategy: 'cot', text: 'Final answer: 1' }], [problem]),
    ).rejects.toThrow('no problem with id "nope"');
    await expect(verifyAll([], [problem], { concurrency: 0 })).rejects.toThrow(
      'Expected a positive integer for concurrency but received 0',
    );
  });
});

describeWithSharedData(
  'real model-style PoT programs (LEVER GSM8K exemplars) on their train problems',
  () => {
    it('all 8 programs execute to the gold answer of their GSM8K train problem', async () => {
      const text = readFileSync(sharedData('exemplars/pot_gsm8k_lever_prompt.txt'), 'utf8');
      const shots = text.split(/\n\s*\n/).map((block) => {
        const [header, ...code] = block.trim().split('\n');
        return { question: header.replace(/^## /, '').trim(), code: code.join('\n') };
      });
      expect(shots).toHaveLength(8);
      // README: the shots are these 0-based train.jsonl lines.
      const lines = [7271, 4757, 2140, 6047, 4534, 4049, 1534, 810];
      const train = (await loadGsm8k(sharedData('gsm8k/train.jsonl'))).problems;
      const normalise = (question: string) => question.replace(/\s+/g, ' ').trim();
      const problems = lines.map((line) => train[line]);
      expect(shots.map((shot) => normalise(shot.question))).toEqual(
        problems.map((p) => normalise(p.question)),
      );
      const { solutions, stats } = await verifyAll(
        shots.map((shot, i) => ({
          problemId: problems[i].id,
          strategy: 'pot' as const,
          text: shot.code,
        })),
        problems,
        { runner, concurrency: 4 },
      );
      expect(solutions.filter((solution) => !solution.correct)).toEqual([]);
      expect(stats.correct).toBe(8);
    }, 30_000);
  },
);
