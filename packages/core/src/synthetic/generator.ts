// The problem generator: seeded, split-aware, and free of repeated questions across splits.
import type { Problem } from '../types';
import { SYNTHETIC_FAMILIES, type SyntheticFamily, type SyntheticProblemMeta } from './computation';
import { FAMILY_GENERATORS } from './families';
import {
  FAMILY_NUMBER_RANGES,
  draw,
  PEOPLE,
  sameRangesForEveryFamily,
  THINGS,
  type FamilyNumberRanges,
  type NumberRange,
  type NumberRanges,
} from './grammar';
import { RandomStream } from './random';

/** How one split of the synthetic world is drawn. */
export interface SplitSpec {
  /** Split name, written to `Problem.split` (e.g. `train`, `ood-numbers`). */
  name: string;
  /** Number of problems. */
  count: number;
  /** One line on what the split tests (shown in reports and docs). */
  description: string;
  /** Families drawn in turn (round robin), so every family gets the same share. */
  families: readonly SyntheticFamily[];
  /** Reasoning steps per problem, drawn uniformly from this range (1-6). */
  steps: NumberRange;
  /** Number ranges per family. */
  numbers: FamilyNumberRanges;
  /** `unseen` uses the phrasings held out of training. */
  phrasing: 'seen' | 'unseen';
  /** Probability that the question comes before the story (a held-out sentence order). */
  questionFirst: number;
  /** Irrelevant sentences with numbers, drawn uniformly from this range. */
  distractors: NumberRange;
}

/** The split names of the synthetic world, test splits first (see {@link generateSyntheticSplits}). */
export const SYNTHETIC_SPLIT_NAMES = [
  'test',
  'ood-phrasing',
  'ood-distractor',
  'ood-numbers',
  'ood-steps',
  'validation',
  'train',
] as const;

/** A split name of the synthetic world. */
export type SyntheticSplitName = (typeof SYNTHETIC_SPLIT_NAMES)[number];

/** Number ranges of the `ood-numbers` split (all families): every role above every training range. */
export const SHIFTED_NUMBER_RANGES: NumberRanges = {
  count: { min: 61, max: 400 },
  small: { min: 21, max: 60 },
  rate: { min: 61, max: 150 },
  factor: { min: 10, max: 19 },
};

/** In-distribution reasoning steps; `ood-steps` uses longer chains. */
export const IN_DISTRIBUTION_STEPS: NumberRange = { min: 1, max: 4 };

/**
 * The split specifications for given sizes. In-distribution splits (train, validation, test) share
 * one distribution; each out-of-distribution split shifts exactly one thing, the way SVAMP, ASDiv
 * and MultiArith shift from GSM8K (docs/SYNTHETIC_WORLD.md).
 */
export function syntheticSplitSpecs(
  counts: Record<SyntheticSplitName, number>,
  numbers: FamilyNumberRanges = FAMILY_NUMBER_RANGES,
): SplitSpec[] {
  const base = {
    families: SYNTHETIC_FAMILIES,
    steps: IN_DISTRIBUTION_STEPS,
    numbers,
    phrasing: 'seen' as const,
    questionFirst: 0,
    distractors: { min: 0, max: 0 },
  };
  const specs: Record<SyntheticSplitName, Omit<SplitSpec, 'name' | 'count'>> = {
    train: { ...base, description: 'training questions (1-4 steps, seen phrasings)' },
    validation: { ...base, description: 'held-out questions from the training distribution' },
    test: { ...base, description: 'in-distribution test (the GSM8K-test analogue)' },
    'ood-phrasing': {
      ...base,
      phrasing: 'unseen',
      questionFirst: 0.5,
      description: 'held-out phrasings and question-first order (SVAMP-style variations)',
    },
    'ood-distractor': {
      ...base,
      distractors: { min: 1, max: 2 },
      description: 'one or two irrelevant sentences with numbers (SVAMP/ASDiv-style)',
    },
    'ood-numbers': {
      ...base,
      numbers: sameRangesForEveryFamily(SHIFTED_NUMBER_RANGES),
      description: 'numbers above every training range (other magnitudes)',
    },
    'ood-steps': {
      ...base,
      steps: { min: 5, max: 6 },
      description: 'longer chains of 5-6 steps (other step counts)',
    },
  };
  return SYNTHETIC_SPLIT_NAMES.map((name) => ({ name, count: counts[name], ...specs[name] }));
}

/** Irrelevant sentences: they carry numbers but change nothing in the computation. */
const DISTRACTOR_TEMPLATES = [
  (rng: RandomStream, numbers: NumberRanges) =>
    `${rng.pick(PEOPLE)} has ${draw(rng, numbers.count)} ${rng.pick(THINGS)}.`,
  (rng: RandomStream, numbers: NumberRanges) =>
    `${rng.pick(PEOPLE)} is ${draw(rng, numbers.count)} years old.`,
  (rng: RandomStream, numbers: NumberRanges) =>
    `It is ${draw(rng, numbers.small)} degrees outside.`,
  (rng: RandomStream, numbers: NumberRanges) =>
    `The shop opened ${draw(rng, numbers.small)} years ago.`,
];

/** Normalised question text used to keep splits disjoint. */
export function questionKey(question: string): string {
  return question.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Attempts per problem before the generator gives up on finding an unseen question. */
const MAX_ATTEMPTS = 200;

/**
 * Generates one split. `seenQuestions` holds the normalised questions of splits generated
 * before; new questions are added to it, and a repeat is redrawn, so splits never share a question.
 */
export function generateSplit(
  spec: SplitSpec,
  seed: number,
  seenQuestions: Set<string>,
): Problem[] {
  if (spec.steps.min < 1 || spec.steps.max > 6 || spec.steps.min > spec.steps.max) {
    throw new Error(
      `split ${spec.name}: steps must lie in 1-6, got ${spec.steps.min}-${spec.steps.max}`,
    );
  }
  if (spec.families.length === 0) throw new Error(`split ${spec.name}: no families`);
  const problems: Problem[] = [];
  for (let index = 0; index < spec.count; index++) {
    const family = spec.families[index % spec.families.length];
    let problem: Problem | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && problem === undefined; attempt++) {
      const rng = new RandomStream(seed, `problem/${spec.name}/${index}/${attempt}`);
      const candidate = drawProblem(spec, family, rng, `synthetic-${spec.name}-${index}`);
      const key = questionKey(candidate.question);
      if (seenQuestions.has(key)) continue;
      seenQuestions.add(key);
      problem = candidate;
    }
    if (problem === undefined) {
      throw new Error(
        `split ${spec.name}: no new ${family} question after ${MAX_ATTEMPTS} attempts; the grammar is too small for ${spec.count} problems at these number ranges`,
      );
    }
    problems.push(problem);
  }
  return problems;
}

function drawProblem(
  spec: SplitSpec,
  family: SyntheticFamily,
  rng: RandomStream,
  id: string,
): Problem {
  const steps = draw(rng, spec.steps);
  const draft = FAMILY_GENERATORS[family]({
    rng,
    steps,
    numbers: spec.numbers[family],
    phrasing: spec.phrasing,
  });
  const sentences = draft.sentences.slice();
  const distractors = draw(rng, spec.distractors);
  for (let count = 0; count < distractors; count++) {
    // Never before the first sentence: it introduces the story's subject.
    const position = rng.int(1, sentences.length);
    sentences.splice(position, 0, rng.pick(DISTRACTOR_TEMPLATES)(rng, spec.numbers[family]));
  }
  const questionFirst = rng.chance(spec.questionFirst);
  const question = questionFirst
    ? [draft.question, ...sentences].join(' ')
    : [...sentences, draft.question].join(' ');
  const meta: SyntheticProblemMeta = {
    family,
    steps: draft.computation.steps.length,
    phrasing: spec.phrasing,
    distractors,
    computation: draft.computation,
  };
  if (meta.steps !== steps)
    throw new Error(`${family}: asked for ${steps} steps, grammar built ${meta.steps}`);
  return {
    id,
    question,
    answer: draft.computation.answer,
    source: 'synthetic',
    split: spec.name,
    meta: meta as unknown as Record<string, unknown>,
  };
}

/**
 * Generates every split, test splits first: a test question never depends on how many training
 * problems were asked for, and training problems that would repeat a test question are redrawn.
 */
export function generateSyntheticSplits(
  specs: readonly SplitSpec[],
  seed: number,
): Record<string, Problem[]> {
  const seenQuestions = new Set<string>();
  const splits: Record<string, Problem[]> = {};
  for (const spec of specs) {
    if (splits[spec.name]) throw new Error(`split ${spec.name} is specified twice`);
    splits[spec.name] = generateSplit(spec, seed, seenQuestions);
  }
  return splits;
}
