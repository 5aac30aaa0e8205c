// The problem generator: determinism, disjoint splits, the grammar's distributions and the
// consistency of every problem's own computation.
import {
  FAMILY_NUMBER_RANGES,
  IN_DISTRIBUTION_STEPS,
  SHIFTED_NUMBER_RANGES,
  SYNTHETIC_FAMILIES,
  SYNTHETIC_SPLIT_NAMES,
  buildSyntheticWorld,
  generateSyntheticSplits,
  questionKey,
  readSyntheticComputation,
  syntheticSplitSpecs,
  type SyntheticProblemMeta,
} from '../../src/synthetic';
import type { Problem } from '../../src/types';

const meta = (problem: Problem) => problem.meta as unknown as SyntheticProblemMeta;

// 600 training problems: 100 per family, enough for distribution checks, generated in ~0.3 s.
const sizes = {
  train: 600,
  validation: 60,
  test: 120,
  'ood-phrasing': 120,
  'ood-distractor': 120,
  'ood-numbers': 120,
  'ood-steps': 120,
};
const splits = generateSyntheticSplits(syntheticSplitSpecs(sizes), 11);
const all = Object.values(splits).flat();

describe('determinism', () => {
  test('the same seed gives the same world, another seed another one', () => {
    const first = buildSyntheticWorld('tiny', 5);
    const again = buildSyntheticWorld('tiny', 5);
    const other = buildSyntheticWorld('tiny', 6);
    expect(again.splits).toEqual(first.splits);
    expect(again.tokenizerJson).toEqual(first.tokenizerJson);
    expect(again.modelConfig).toEqual(first.modelConfig);
    const questions = (world: typeof first) =>
      world.splits.train.map((problem) => problem.question);
    const shared = questions(other).filter((question) => questions(first).includes(question));
    expect(shared.length).toBeLessThan(3);
  });

  test('test questions do not depend on how many training problems are drawn', () => {
    const bigger = generateSyntheticSplits(syntheticSplitSpecs({ ...sizes, train: 900 }), 11);
    for (const name of SYNTHETIC_SPLIT_NAMES.filter((split) => split !== 'train')) {
      expect(bigger[name]).toEqual(splits[name]);
    }
  });
});

test('splits share no question and ids are unique', () => {
  const keys = all.map((problem) => questionKey(problem.question));
  expect(new Set(keys).size).toBe(all.length);
  expect(new Set(all.map((problem) => problem.id)).size).toBe(all.length);
  for (const name of SYNTHETIC_SPLIT_NAMES) expect(splits[name]).toHaveLength(sizes[name]);
});

test('every problem is a synthetic Problem whose computation reproduces its gold answer', () => {
  for (const problem of all) {
    expect(problem.source).toBe('synthetic');
    expect(SYNTHETIC_SPLIT_NAMES).toContain(problem.split);
    const computation = readSyntheticComputation(problem); // throws on any inconsistency
    expect(computation.steps).toHaveLength(meta(problem).steps);
    // Grade-school answers: whole and positive (divisions are exact, subtractions stay positive).
    expect(Number.isInteger(problem.answer) && problem.answer > 0).toBe(true);
    for (const step of computation.steps) expect(step.value).toBeGreaterThan(0);
  }
});

test('families come in equal shares and every in-distribution step count occurs in every family', () => {
  for (const family of SYNTHETIC_FAMILIES) {
    const ofFamily = splits.train.filter((problem) => meta(problem).family === family);
    expect(ofFamily).toHaveLength(100);
    for (let steps = IN_DISTRIBUTION_STEPS.min; steps <= IN_DISTRIBUTION_STEPS.max; steps++) {
      const share =
        ofFamily.filter((problem) => meta(problem).steps === steps).length / ofFamily.length;
      expect(share).toBeGreaterThan(0.12); // uniform would be 0.25
    }
  }
  for (const name of [
    'train',
    'validation',
    'test',
    'ood-phrasing',
    'ood-distractor',
    'ood-numbers',
  ]) {
    for (const problem of splits[name]) expect(meta(problem).steps).toBeLessThanOrEqual(4);
  }
  // Every family reaches 5 and 6 steps (the grammar covers 1-6 in each).
  for (const family of SYNTHETIC_FAMILIES) {
    const longSteps = splits['ood-steps']
      .filter((problem) => meta(problem).family === family)
      .map((problem) => meta(problem).steps);
    expect(new Set(longSteps)).toEqual(new Set([5, 6]));
  }
});

test('each out-of-distribution split shifts what it says it shifts', () => {
  // Phrasings held out of training never appear in the in-distribution splits.
  const heldOut = [
    'can produce',
    'switched on',
    'get sold',
    'What number of',
    'divide',
    'owns',
    'picks up',
    'hands over',
    'one can count',
    'unknown number',
    'handed',
    'was given',
    'in the beginning',
    'What is',
    'uses up',
    'extra',
  ];
  for (const name of ['train', 'validation', 'test']) {
    for (const problem of splits[name]) {
      for (const phrase of heldOut) expect(problem.question).not.toContain(phrase);
      expect(meta(problem).distractors).toBe(0);
    }
  }
  const phrasing = splits['ood-phrasing'];
  expect(phrasing.every((problem) => meta(problem).phrasing === 'unseen')).toBe(true);
  const withHeldOut = phrasing.filter((problem) =>
    heldOut.some((phrase) => problem.question.includes(phrase)),
  );
  expect(withHeldOut.length / phrasing.length).toBeGreaterThan(0.9);
  const questionFirst = phrasing.filter((problem) => /^(How|What)\b/.test(problem.question)).length;
  expect(questionFirst / phrasing.length).toBeGreaterThan(0.3);

  // A distractor states a number the computation never uses (unless it repeats one by chance).
  const distracted = splits['ood-distractor'].filter((problem) => {
    expect([1, 2]).toContain(meta(problem).distractors);
    const used = new Set(
      readSyntheticComputation(problem).steps.flatMap((step) =>
        [step.left, step.right].flatMap((operand) =>
          operand.kind === 'given' ? [operand.value] : [],
        ),
      ),
    );
    const stated = (problem.question.match(/\d+/g) ?? []).map(Number);
    return stated.some((value) => !used.has(value));
  });
  expect(distracted.length / splits['ood-distractor'].length).toBeGreaterThan(0.9);

  // Shifted numbers: every story's counts, amounts and prices lie above every training range.
  const trainingMaximum = Math.max(
    ...Object.values(FAMILY_NUMBER_RANGES).flatMap((ranges) =>
      Object.values(ranges).map((range) => range.max),
    ),
  );
  expect(SHIFTED_NUMBER_RANGES.count.min).toBeGreaterThan(trainingMaximum);
  for (const problem of splits['ood-numbers']) {
    const stated = (problem.question.match(/\d+/g) ?? []).map(Number);
    expect(Math.max(...stated)).toBeGreaterThanOrEqual(SHIFTED_NUMBER_RANGES.factor.min);
  }
  const meanOf = (problems: Problem[]) =>
    problems.reduce((sum, problem) => sum + problem.answer, 0) / problems.length;
  expect(meanOf(splits['ood-numbers'])).toBeGreaterThan(3 * meanOf(splits.test));
});

test('a problem with a tampered computation is rejected with its id and field', () => {
  const problem = structuredClone(splits.test[0]);
  (problem.meta as unknown as SyntheticProblemMeta).computation.steps[0].value += 1;
  expect(() => readSyntheticComputation(problem)).toThrow(
    new RegExp(`problem ${problem.id}: meta.computation.steps.0.value`),
  );
  const missing = { ...problem, meta: {} };
  expect(() => readSyntheticComputation(missing)).toThrow(/meta.computation is missing/);
  const malformed = structuredClone(splits.test[0]);
  (
    malformed.meta as { computation: { steps: Array<{ operator: string }> } }
  ).computation.steps[0].operator = '^';
  expect(() => readSyntheticComputation(malformed)).toThrow(/meta.computation.steps.0.operator/);
});
