import { strategyDynamics } from '../../src';

const items = (...strategies: Array<'cot' | 'l2m' | 'pot'>) =>
  strategies.map((strategy) => ({ strategy }));

describe("strategyDynamics (the paper's Figure 2)", () => {
  it('measures P_SM over every tagged sample and over the correct ones, and KL against it', () => {
    const dynamics = strategyDynamics({
      teacher: items('cot', 'l2m', 'pot', 'pot'),
      train: items('cot', 'pot', 'pot', 'pot'),
      samples: [
        { strategy: 'pot', correct: true },
        { strategy: 'pot', correct: false },
        { strategy: 'cot', correct: false },
        { strategy: null, correct: false }, // untagged: not a strategy choice
      ],
    });
    expect(dynamics.teacherShares).toEqual({ cot: 0.25, l2m: 0.25, pot: 0.5 });
    expect(dynamics.trainShares).toEqual({ cot: 0.25, l2m: 0, pot: 0.75 });
    expect(dynamics.samplingShares).toEqual({ cot: 1 / 3, l2m: 0, pot: 2 / 3 });
    expect(dynamics.samplingCorrectShares).toEqual({ cot: 0, l2m: 0, pot: 1 });
    expect(dynamics.samplingCounts).toEqual({ samples: 4, tagged: 3, correct: 1 });
    // Smoothed with 0.5: train {1.5, 0.5, 3.5}/5.5, sampling {1.5, 0.5, 2.5}/4.5
    const p = [1.5 / 5.5, 0.5 / 5.5, 3.5 / 5.5];
    const q = [1.5 / 4.5, 0.5 / 4.5, 2.5 / 4.5];
    const expected = p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
    expect(dynamics.klTrainToSampling).toBeCloseTo(expected, 12);
  });

  it('is n/a (null) where a distribution is empty', () => {
    const iteration0 = strategyDynamics({
      teacher: items('cot'),
      train: items('cot'),
      samples: null,
    });
    expect(iteration0.samplingShares).toBeNull();
    expect(iteration0.klTrainToSampling).toBeNull();
    const untagged = strategyDynamics({
      teacher: [],
      train: items('cot'),
      samples: [{ strategy: null, correct: false }],
    });
    expect(untagged.teacherShares).toBeNull();
    expect(untagged.samplingShares).toBeNull();
    expect(untagged.samplingCorrectShares).toBeNull();
    expect(untagged.klTrainToSampling).toBeNull();
  });
});
