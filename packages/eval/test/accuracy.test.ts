import type { Solution } from '@siked/core';
import { summarizeAccuracy } from '@siked/eval';

function prediction(
  strategy: Solution['strategy'],
  correct: boolean,
  predicted: number | null,
): Solution {
  return {
    problemId: 'p',
    strategy,
    origin: 'student',
    iteration: 0,
    text: '',
    predicted,
    correct,
  };
}

describe('summarizeAccuracy', () => {
  it('counts every item in the denominator and splits by strategy', () => {
    const summary = summarizeAccuracy([
      prediction('cot', true, 3),
      prediction('cot', false, null),
      prediction('pot', true, 5),
      prediction('pot', false, 4),
    ]);
    expect(summary.total).toBe(4);
    expect(summary.correct).toBe(2);
    expect(summary.accuracy).toBe(0.5);
    expect(summary.unparsed).toBe(1);
    expect(summary.byStrategy.cot).toEqual({ count: 2, share: 0.5, accuracy: 0.5 });
    expect(summary.byStrategy.l2m).toEqual({ count: 0, share: 0, accuracy: null });
    expect(summary.byStrategy.pot.accuracy).toBe(0.5);
  });

  it('counts an untagged answer as wrong and in no strategy', () => {
    const summary = summarizeAccuracy([
      prediction('cot', true, 3),
      { strategy: null, predicted: null, correct: false },
    ]);
    expect(summary).toMatchObject({
      total: 2,
      correct: 1,
      accuracy: 0.5,
      unparsed: 1,
      untagged: 1,
    });
    expect(summary.byStrategy.cot).toEqual({ count: 1, share: 0.5, accuracy: 1 });
  });

  it('is zero, not NaN, on an empty set', () => {
    expect(summarizeAccuracy([]).accuracy).toBe(0);
  });
});
