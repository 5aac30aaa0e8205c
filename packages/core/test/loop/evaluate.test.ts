import {
  PythonSandbox,
  StudentFormat,
  evaluateOnProblems,
  summarizeEvaluation,
  type EvaluationRecord,
  type Problem,
  type ProgramRunner,
} from '../../src';

const problems: Problem[] = [
  { id: 'a', question: 'What is 2 + 2?', answer: 4, source: 't', split: 'test' },
  { id: 'b', question: 'What is 3 + 3?', answer: 6, source: 't', split: 'test' },
  { id: 'c', question: 'What is 5 + 5?', answer: 10, source: 't', split: 'test' },
  { id: 'd', question: 'What is 1 + 1?', answer: 2, source: 't', split: 'test' },
];

describe('summarizeEvaluation (hand-computed)', () => {
  it('puts every item in the denominator and reports usage, strict and flexible matches', () => {
    const records: EvaluationRecord[] = [
      {
        problemId: 'a',
        strategy: 'cot',
        text: '2 + 2 = 4\nFinal answer: 4',
        predicted: 4,
        correct: true,
        strict: null,
        flexible: 4,
      },
      {
        problemId: 'b',
        strategy: 'cot',
        text: '#### 6',
        predicted: 7,
        correct: false,
        strict: 6,
        flexible: 6,
      },
      {
        problemId: 'c',
        strategy: 'pot',
        text: 'answer = 5 + 5',
        predicted: 10,
        correct: true,
        strict: null,
        flexible: 5,
      },
      {
        problemId: 'd',
        strategy: null,
        text: 'no tag',
        predicted: null,
        correct: false,
        strict: null,
        flexible: null,
      },
    ];
    expect(summarizeEvaluation(records, problems)).toEqual({
      total: 4,
      correct: 2,
      accuracy: 0.5,
      unparsed: 1,
      untagged: 1,
      byStrategy: {
        cot: { count: 2, share: 0.5, accuracy: 0.5 },
        l2m: { count: 0, share: 0, accuracy: null },
        pot: { count: 1, share: 0.25, accuracy: 1 },
      },
      strictAccuracy: 0.25, // only b's "#### 6"
      flexibleAccuracy: 0.5, // a (4) and b (6); c's last number is 5
    });
  });
});

describe('evaluateOnProblems', () => {
  it('generates greedily, executes PoT through the runner and grades every item', async () => {
    const format = StudentFormat.fromObject({
      name: 'test',
      prompt: 'Q: {question}\nA: ',
      tags: { cot: '[cot]: ', l2m: '[l2m]: ', pot: '[pot]: ' },
    });
    const replies: Record<string, string> = {
      'Q: What is 2 + 2?\nA: ': '[cot]: 2 + 2 = 4\nFinal answer: 4',
      'Q: What is 3 + 3?\nA: ': '[pot]: answer = 3 + 3',
      'Q: What is 5 + 5?\nA: ': '[l2m]: 5 + 5 = 10\nFinal answer: 10', // no sub-question: not L2M
      'Q: What is 1 + 1?\nA: ': 'two',
    };
    const seen: Array<{ temperature: number; numSamples: number }> = [];
    const sampler = {
      generate(prompts: readonly string[], options: { temperature: number; numSamples: number }) {
        seen.push({ temperature: options.temperature, numSamples: options.numSamples });
        return Promise.resolve(
          prompts.map((prompt, promptIndex) => ({
            promptIndex,
            sampleIndex: 0,
            text: replies[prompt]!,
            finishReason: 'stop' as const,
            tokenCount: null,
          })),
        );
      },
    };
    // The real sandbox runs the PoT answer; its `run` is wrapped only to see what reached it.
    const sandbox = await PythonSandbox.start({ workers: 1 });
    const programs: string[] = [];
    const runner: ProgramRunner = {
      run: (code, options) => {
        programs.push(code);
        return sandbox.run(code, options);
      },
      close: () => sandbox.close(),
    };
    const { records, summary } = await evaluateOnProblems(sampler, format, problems, {
      runner,
      maxNewTokens: 32,
      chunkSize: 3,
    });
    expect(seen).toEqual([
      { temperature: 0, numSamples: 1 },
      { temperature: 0, numSamples: 1 },
    ]);
    expect(programs.map((code) => code.trim())).toEqual(['answer = 3 + 3']);
    expect(records.map((r) => [r.problemId, r.strategy, r.predicted, r.correct])).toEqual([
      ['a', 'cot', 4, true],
      ['b', 'pot', 6, true],
      ['c', 'l2m', 10, false],
      ['d', null, null, false],
    ]);
    expect(records[2]!.error).toMatch(/not L2M/);
    expect(summary.accuracy).toBe(0.5);
    expect(summary.untagged).toBe(1);
    await runner.close();
  });
});
