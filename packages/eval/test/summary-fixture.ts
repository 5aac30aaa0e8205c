import type { AccuracySummary, RunSummary } from '@siked/eval';

/** An accuracy summary with every strategy used; `cot` gets `cotCorrect` of `cotCount`. */
export function accuracyOf(
  correct: number,
  total: number,
  cotCount = 0,
  cotCorrect = 0,
): AccuracySummary {
  return {
    total,
    correct,
    accuracy: correct / total,
    unparsed: 0,
    byStrategy: {
      cot: {
        count: cotCount,
        share: cotCount / total,
        accuracy: cotCount ? cotCorrect / cotCount : null,
      },
      l2m: { count: 0, share: 0, accuracy: null },
      pot: {
        count: total - cotCount,
        share: (total - cotCount) / total,
        accuracy: total - cotCount ? (correct - cotCorrect) / (total - cotCount) : null,
      },
    },
  };
}

/** A three-iteration run summary with hand-picked numbers. */
export function sampleSummary(): RunSummary {
  return {
    name: 'sample',
    status: 'done',
    bestIteration: 2,
    config: { preset: 'tiny', note: '<b>not html</b>' },
    provenance: {
      student: 'runs/base-model',
      teacher: 'openai-compatible:llama-3-70b',
      dataFiles: [
        { role: 'train', file: '/data/gsm8k/train.jsonl' },
        { role: 'eval-set test', file: '/data/gsm8k/test.jsonl' },
      ],
      siked: '0.1.0',
      commit: '0123456789abcdef0123456789abcdef01234567',
      node: 'v22.0.0',
      createdAt: '2026-12-03T08:00:00.000Z',
      wallSeconds: 3725,
      sessions: 2,
    },
    teacherCounts: { cot: 10, l2m: 5, pot: 5 },
    iterations: [
      {
        iteration: 0,
        alpha: null,
        trainSteps: 20,
        teacherShares: { cot: 0.5, l2m: 0.25, pot: 0.25 },
        trainShares: { cot: 0.5, l2m: 0.25, pot: 0.25 },
        samplingShares: null,
        samplingCorrectShares: null,
        klTrainToSampling: null,
        greedyValidationShares: { cot: 0.8, l2m: 0.1, pot: 0.1 },
        evaluations: [{ dataset: 'test', accuracy: accuracyOf(3, 10, 8, 2), harness: null }],
      },
      {
        iteration: 1,
        alpha: 0.75,
        trainSteps: 15,
        teacherShares: { cot: 0.5, l2m: 0.25, pot: 0.25 },
        trainShares: { cot: 0.6, l2m: 0.2, pot: 0.2 },
        samplingShares: { cot: 0.7, l2m: 0.2, pot: 0.1 },
        samplingCorrectShares: { cot: 0.75, l2m: 0.15, pot: 0.1 },
        klTrainToSampling: 0.3,
        greedyValidationShares: { cot: 0.6, l2m: 0.2, pot: 0.2 },
        evaluations: [{ dataset: 'test', accuracy: accuracyOf(5, 10, 6, 3), harness: null }],
      },
      {
        iteration: 2,
        alpha: 0.25,
        trainSteps: 12,
        teacherShares: { cot: 0.5, l2m: 0.25, pot: 0.25 },
        trainShares: null,
        samplingShares: { cot: 0.6, l2m: 0.2, pot: 0.2 },
        samplingCorrectShares: null,
        klTrainToSampling: 0.1,
        greedyValidationShares: { cot: 0.5, l2m: 0.25, pot: 0.25 },
        evaluations: [
          {
            dataset: 'test',
            accuracy: accuracyOf(6, 10, 5, 3),
            harness: { strict: 0.5, flexible: 0.7 },
          },
          { dataset: 'ood|pipe', accuracy: accuracyOf(2, 4, 2, 1), harness: null },
        ],
      },
    ],
    training: [
      { iteration: 0, step: 1, loss: 3, tokensPerSecond: null, learningRate: null },
      { iteration: 0, step: 2, loss: 2, tokensPerSecond: null, learningRate: null },
      { iteration: 1, step: 1, loss: 1.5, tokensPerSecond: 100, learningRate: 0.001 },
    ],
  };
}
