// The difficulty profile: hand-checked on one problem, then the design's intended contrasts.
import {
  SyntheticTeacher,
  PERFECT_TEACHER_ERROR_RATES,
  buildSyntheticWorld,
  difficultyProfile,
  generateSyntheticSplits,
  syntheticSplitSpecs,
  type SyntheticProblemMeta,
} from '../../src/synthetic';

const world = buildSyntheticWorld('tiny', 2);
const teacher = new SyntheticTeacher({ errorRates: PERFECT_TEACHER_ERROR_RATES });
const tags = world.studentTemplate.tags;

test('one problem, counted by hand', () => {
  const problem = world.splits.train.find(
    (candidate) => (candidate.meta as unknown as SyntheticProblemMeta).family === 'rates',
  )!;
  const computation = (problem.meta as unknown as SyntheticProblemMeta).computation;
  const digits = computation.steps
    .map((step) => String(step.value).length)
    .reduce((a, b) => a + b, 0);
  const products = computation.steps.filter(
    (step) => step.operator === '*' && step.value >= 100,
  ).length;
  const profile = difficultyProfile([problem], teacher, world.tokenizer, tags).rates!;
  expect(profile.cot.meanComputedDigits).toBe(digits);
  expect(profile.l2m.meanComputedDigits).toBe(digits);
  expect(profile.pot.meanComputedDigits).toBe(0);
  expect(profile.cot.meanLargeProducts).toBe(products);
  const cot = teacher.write(problem, 'cot', 0).text;
  expect(profile.cot.meanTargetTokens).toBe(world.tokenizer.encode(`${tags.cot}${cot}`).length);
});

test('the intended contrasts hold: big products only in rates/shopping prose, PoT computes nothing', () => {
  // 100 problems per family (the tiny world has too few for stable means).
  const sizes = {
    train: 600,
    validation: 0,
    test: 0,
    'ood-phrasing': 0,
    'ood-distractor': 0,
    'ood-numbers': 0,
    'ood-steps': 0,
  };
  const { train } = generateSyntheticSplits(syntheticSplitSpecs(sizes), 2);
  const profile = difficultyProfile(train, teacher, world.tokenizer, tags);
  for (const family of ['rates', 'shopping'] as const) {
    expect(profile[family]!.cot.meanLargeProducts).toBeGreaterThan(0.5);
  }
  for (const family of ['sharing', 'comparison', 'totals', 'unknown-start'] as const) {
    // Only the occasional "3 times as many" or "together" step reaches 100 here.
    expect(profile[family]!.cot.meanLargeProducts).toBeLessThan(0.2);
    expect(profile[family]!.pot.meanComputedDigits).toBe(0);
  }
});
