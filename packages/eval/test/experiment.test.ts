import {
  formatExperimentMarkdown,
  formatMeanStd,
  meanStd,
  summarizeExperiment,
  type ExperimentRun,
  type MethodSpec,
  type RunSummary,
} from '@siked/eval';
import { accuracyOf, sampleSummary } from './summary-fixture';

/** The sample run with its test accuracies replaced (iteration -> correct out of 10). */
function runWith(correctByIteration: number[], best: number): RunSummary {
  const summary = sampleSummary();
  summary.bestIteration = best;
  summary.iterations.forEach((it, i) => {
    it.evaluations = [
      { dataset: 'test', accuracy: accuracyOf(correctByIteration[i], 10, 5, 2), harness: null },
      { dataset: 'ood-a', accuracy: accuracyOf(i, 10), harness: null },
      { dataset: 'ood-b', accuracy: accuracyOf(2 * i, 10), harness: null },
      { dataset: 'validation', accuracy: accuracyOf(9, 10), harness: null },
    ];
  });
  return summary;
}

const methods: MethodSpec[] = [
  { label: 'Combined', arm: 'siked-sparse', iteration: 0, loop: true },
  { label: 'SIKeD, iteration 2', arm: 'siked-sparse', iteration: 2, loop: true },
  { label: 'SIKeD, chosen', arm: 'siked-sparse', iteration: 'best' },
  { label: 'absent', arm: 'nothing', iteration: 0 },
];

describe('meanStd', () => {
  it('gives the mean and the sample standard deviation', () => {
    expect(meanStd([])).toBeNull();
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0, n: 1 });
    const stats = meanStd([1, 2, 3, 4])!;
    expect(stats.mean).toBe(2.5);
    expect(stats.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });

  it('formats as points with the std only when there are several seeds', () => {
    expect(formatMeanStd({ mean: 0.4567, std: 0.0123, n: 3 })).toBe('45.7 ± 1.2');
    expect(formatMeanStd({ mean: 0.4567, std: 0, n: 1 })).toBe('45.7');
    expect(formatMeanStd(null)).toBe('-');
  });
});

describe('summarizeExperiment', () => {
  const runs: ExperimentRun[] = [
    { arm: 'siked-sparse', seed: 0, summary: runWith([3, 5, 6], 2), wallSeconds: 10 },
    { arm: 'siked-sparse', seed: 1, summary: runWith([1, 5, 8], 1), wallSeconds: 20 },
  ];
  const summary = summarizeExperiment(runs, methods);

  it('aggregates each method over seeds and leaves out methods without runs', () => {
    expect(summary.seeds).toEqual([0, 1]);
    expect(summary.outOfDistribution).toEqual(['ood-a', 'ood-b']);
    expect(summary.methods.map((m) => m.method.label)).toEqual([
      'Combined',
      'SIKeD, iteration 2',
      'SIKeD, chosen',
    ]);
    const [combined, last, chosen] = summary.methods;
    expect(combined.accuracy.test.mean).toBeCloseTo(0.2, 12);
    expect(combined.accuracy.test.std).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(last.accuracy.test.mean).toBeCloseTo(0.7, 12);
    // OOD mean per seed is (2/10 + 4/10) / 2 at iteration 2, the same for both seeds.
    expect(last.oodMean).toEqual({ mean: expect.closeTo(0.3, 12), std: 0, n: 2 });
    expect(chosen.chosenIterations).toEqual([2, 1]);
    expect(chosen.accuracy.test.mean).toBeCloseTo((0.6 + 0.5) / 2, 12);
    expect(last.alpha!.mean).toBe(0.25);
    expect(combined.testStrategyShares!.cot).toBeCloseTo(0.5, 12);
    expect(combined.testStrategyAccuracy.cot).toBeCloseTo(0.4, 12);
    expect(summary.wallSeconds['siked-sparse']).toMatchObject({ mean: 15, n: 2 });
    // one teacher data set per seed
    expect(summary.teacherCounts).toEqual({ cot: 20, l2m: 10, pot: 10 });
  });

  it('writes the page with the command, the accuracy table and mixing rows of the loop only', () => {
    const page = formatExperimentMarkdown(summary, {
      command: 'npx siked experiment --seeds 0,1',
      setting: 'synthetic world',
      machine: 'test machine',
      date: '2026-11-28',
    });
    expect(page).toContain('npx siked experiment --seeds 0,1');
    expect(page).toContain('| method | steps | test | ood-a | ood-b | OOD mean |');
    // steps: 20 + 15 + 12 behind iteration 2 (each iteration continues from the last)
    expect(page).toContain(
      '| SIKeD, iteration 2 | 47 | 70.0 ± 14.1 | 20.0 ± 0.0 | 40.0 ± 0.0 | 30.0 ± 0.0 |',
    );
    expect(page).toContain('CoT 20 (50.0%)');
    expect(page).toContain('chosen iterations: siked-sparse 2, 1');
    const mixing = page.slice(page.indexOf('## Mixing rate'));
    // alpha, P_train (n/a in the fixture), P_SM over all samples, over correct ones (n/a), KL
    expect(mixing).toContain(
      '| SIKeD, iteration 2 | 0.250 ± 0.000 | n/a | 60.0 / 20.0 / 20.0 | n/a | 0.100 ± 0.000 |',
    );
    expect(mixing).toContain('| Combined | - | 50.0 / 25.0 / 25.0 | n/a | n/a | n/a |');
    expect(mixing).not.toContain('SIKeD, chosen');
    expect(page).not.toContain('## Right answers with unsound working');
    const withSoundness = formatExperimentMarkdown(summary, {
      command: 'npx siked experiment --seeds 0,1',
      setting: 'synthetic world',
      machine: 'test machine',
      date: '2026-11-28',
      soundness: [
        {
          label: 'SIKeD, chosen',
          correct: 30,
          unsoundShare: { mean: 0.1, std: 0.02, n: 2 },
          falseEquations: 1,
          ungroundedNames: 2,
        },
      ],
    });
    expect(withSoundness).toContain('## Right answers with unsound working (test)');
    expect(withSoundness).toContain('| SIKeD, chosen | 30 | 10.0 ± 2.0 | 1 | 2 |');
  });

  it('states the alpha and KL trends from the loop rows, plainly when a series stays the same', () => {
    const loopRows: MethodSpec[] = [1, 2].map((t) => ({
      label: `SIKeD, iteration ${t}`,
      arm: 'siked-sparse',
      iteration: t,
      loop: true,
    }));
    const page = (summary: RunSummary) =>
      formatExperimentMarkdown(
        summarizeExperiment([{ arm: 'siked-sparse', seed: 0, summary, wallSeconds: 1 }], loopRows),
        { command: 'c', setting: 's', machine: 'm', date: 'd' },
      );
    const falling = page(runWith([3, 5, 6], 2));
    expect(falling).toContain(
      '- alpha, siked-sparse: 0.750 (iteration 1) -> 0.250 (iteration 2): falls at every iteration.',
    );
    expect(falling).toContain(
      '- KL(P_train || P_SM), siked-sparse: 0.300 (iteration 1) -> 0.100 (iteration 2): falls at every iteration.',
    );
    const flat = runWith([3, 5, 6], 2);
    flat.iterations[2].alpha = 0.75;
    expect(page(flat)).toContain('-> 0.750 (iteration 2): stays the same.');
  });
});
