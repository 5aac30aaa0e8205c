import { formatRunTable, progressListener } from '../src/commands/run-siked';
import { createProgress } from '../src/progress';

describe('progressListener', () => {
  it("turns the loop's events into progress lines with running totals", () => {
    const lines: string[] = [];
    const listen = progressListener(
      createProgress('lines', { intervalMs: 0, write: (l) => lines.push(l) }),
    );
    listen({ type: 'stage-start', stage: 'teacher' });
    listen({
      type: 'teacher-progress',
      strategy: 'cot',
      questionsDone: 2,
      questionsTotal: 4,
      kept: 2,
    });
    listen({
      type: 'teacher-progress',
      strategy: 'cot',
      questionsDone: 4,
      questionsTotal: 4,
      kept: 1,
    });
    const step = {
      step: 1,
      totalSteps: 1,
      epoch: 1,
      loss: 1.2346,
      gradNorm: 1,
      learningRate: 0.001,
      tokensPerSecond: 99.6,
      targetTokens: 10,
    };
    listen({ type: 'train-step', iteration: 0, ...step });
    listen({ type: 'eval-result', iteration: 0, dataset: 'test', accuracy: 0.25, total: 8 });
    expect(lines[0]).toBe('stage teacher');
    expect(lines[1]).toMatch(/^teacher cot: 2\/4 \(50%\) .* kept=2$/);
    expect(lines[2]).toMatch(/^teacher cot: 4\/4 \(100%\) .* kept=3$/);
    expect(lines[3]).toMatch(/^train iter-0: 1\/1 \(100%\) .* loss=1\.235 tok\/s=100 lr=1\.0e-3$/);
    expect(lines[4]).toBe('iter-0 test: accuracy 25.0% of 8');
  });
});

describe('formatRunTable', () => {
  it('lists accuracy per data set and iteration, alpha and KL, marking the chosen iteration', () => {
    const accuracy = (correct: number) => ({
      total: 4,
      correct,
      accuracy: correct / 4,
      unparsed: 0,
      byStrategy: {
        cot: { count: 4, share: 1, accuracy: correct / 4 },
        l2m: { count: 0, share: 0, accuracy: null },
        pot: { count: 0, share: 0, accuracy: null },
      },
    });
    const iteration = (t: number, correct: number, alpha: number | null) => ({
      iteration: t,
      alpha,
      trainSteps: 10,
      teacherShares: null,
      trainShares: null,
      samplingShares: null,
      samplingCorrectShares: null,
      klTrainToSampling: t === 0 ? null : 0.5 / (t + 1),
      greedyValidationShares: null,
      evaluations: [{ dataset: 'test', accuracy: accuracy(correct), harness: null }],
    });
    const table = formatRunTable({
      name: 'r',
      status: 'done',
      bestIteration: 1,
      config: {},
      provenance: {
        student: null,
        teacher: null,
        dataFiles: [],
        siked: null,
        commit: null,
        node: null,
        createdAt: null,
        wallSeconds: null,
        sessions: null,
      },
      teacherCounts: null,
      iterations: [iteration(0, 1, null), iteration(1, 3, 0.4)],
      training: [],
    });
    expect(table.split('\n')).toEqual([
      'iter  test  alpha     KL',
      '   0  25.0      -    n/a',
      '  1*  75.0   0.40  0.250',
      'accuracy in %; * = iteration chosen on validation',
    ]);
  });
});
