// Shared pieces of the problem grammar: number ranges, phrasing variants, word lists and a
// step-list builder the family generators use.
import {
  SYNTHETIC_FAMILIES,
  applyOperator,
  type ComputationStep,
  type Operand,
  type Operator,
  type SyntheticComputation,
  type SyntheticFamily,
} from './computation';
import type { RandomStream } from './random';

/** An inclusive integer range. */
export interface NumberRange {
  min: number;
  max: number;
}

/**
 * The number ranges the grammar draws from (the "number range" knob). Families use them by role,
 * so shifting one role shifts every family that uses it.
 */
export interface NumberRanges {
  /** Counts of things in a story (farm animals, stickers at the start). */
  count: NumberRange;
  /** Small changes and differences (found 7 more, 9 fewer than). */
  small: NumberRange;
  /** Per-unit amounts that get multiplied: prices, items per hour. */
  rate: NumberRange;
  /** Multipliers and divisors: hours, how many items, how many friends, "3 times as many". */
  factor: NumberRange;
}

/** Number ranges per family. */
export type FamilyNumberRanges = Record<SyntheticFamily, NumberRanges>;

/**
 * The in-distribution number ranges, per family. They are part of the world's design
 * (docs/SYNTHETIC_WORLD.md, "Which strategy suits which family"): `rates` and `shopping` multiply
 * two-digit amounts, so written-out arithmetic (CoT, L2M) must produce two- and three-digit
 * products digit by digit while a program only copies the factors; the other families keep
 * their numbers small (division facts, one-digit changes), where prose arithmetic is within a
 * small model's reach and the shortest text has the edge.
 */
export const FAMILY_NUMBER_RANGES: FamilyNumberRanges = {
  rates: {
    count: { min: 10, max: 60 },
    small: { min: 2, max: 20 },
    rate: { min: 12, max: 60 },
    factor: { min: 3, max: 9 },
  },
  shopping: {
    count: { min: 10, max: 60 },
    small: { min: 2, max: 20 },
    rate: { min: 12, max: 60 },
    factor: { min: 2, max: 9 },
  },
  sharing: {
    count: { min: 5, max: 30 },
    small: { min: 1, max: 9 },
    rate: { min: 2, max: 9 },
    factor: { min: 2, max: 9 },
  },
  comparison: {
    count: { min: 5, max: 30 },
    small: { min: 2, max: 9 },
    rate: { min: 2, max: 9 },
    factor: { min: 2, max: 5 },
  },
  totals: {
    count: { min: 5, max: 30 },
    small: { min: 2, max: 9 },
    rate: { min: 2, max: 9 },
    factor: { min: 2, max: 9 },
  },
  'unknown-start': {
    count: { min: 5, max: 30 },
    small: { min: 2, max: 9 },
    rate: { min: 2, max: 9 },
    factor: { min: 2, max: 9 },
  },
};

/** The same ranges for every family. */
export function sameRangesForEveryFamily(ranges: NumberRanges): FamilyNumberRanges {
  return Object.fromEntries(
    SYNTHETIC_FAMILIES.map((family) => [family, ranges]),
  ) as FamilyNumberRanges;
}

/** Phrasing variants of one sentence: `seen` ones appear in training, `unseen` ones only in `ood-phrasing`. */
export interface Variants {
  seen: readonly string[];
  unseen: readonly string[];
}

/** What a family generator is asked for. */
export interface FamilyRequest {
  rng: RandomStream;
  /** Number of reasoning steps the problem must take (1-6). */
  steps: number;
  numbers: NumberRanges;
  phrasing: 'seen' | 'unseen';
}

/** What a family generator returns: the story, the question and the computation. */
export interface FamilyDraft {
  /** Context sentences in story order (distractors may be inserted between them). */
  sentences: string[];
  question: string;
  computation: SyntheticComputation;
}

/** Fills `{slot}` placeholders; an unknown slot is a bug in the grammar, so it throws. */
export function fill(template: string, slots: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (match, key: string) => {
    if (key === 'expr') return match; // filled later by the teacher
    const value = slots[key];
    if (value === undefined)
      throw new Error(`grammar template "${template}" has no value for {${key}}`);
    return String(value);
  });
}

/** Picks a variant for the requested phrasing and fills it. */
export function phrase(
  request: FamilyRequest,
  variants: Variants,
  slots: Record<string, string | number>,
): string {
  const pool = request.phrasing === 'unseen' ? variants.unseen : variants.seen;
  return fill(request.rng.pick(pool), slots);
}

/** A uniform draw from a range. */
export function draw(rng: RandomStream, range: NumberRange): number {
  return rng.int(range.min, range.max);
}

/** Names of people in the stories. */
export const PEOPLE = [
  'Ann',
  'Ben',
  'Cara',
  'Dan',
  'Eva',
  'Finn',
  'Gina',
  'Hugo',
  'Ivy',
  'Jack',
  'Kim',
  'Leo',
  'Mia',
  'Noah',
  'Olga',
  'Pete',
  'Rosa',
  'Sam',
  'Tina',
  'Umar',
] as const;

/** Countable things people own, trade or share. */
export const THINGS = [
  'apples',
  'pencils',
  'stickers',
  'marbles',
  'cookies',
  'cards',
  'shells',
  'stamps',
  'coins',
  'beads',
] as const;

/** Builds the step list of a computation and tracks each step's value. */
export class StepList {
  readonly steps: ComputationStep[] = [];

  /** Appends a step and returns an operand that refers to its result. */
  add(
    name: string,
    operator: Operator,
    left: Operand,
    right: Operand,
    statement: string,
    subQuestion: string,
  ): Operand {
    const value = applyOperator(operator, this.value(left), this.value(right));
    this.steps.push({ name, operator, left, right, statement, subQuestion, value });
    return { kind: 'step', index: this.steps.length - 1 };
  }

  /** The value of an operand. */
  value(operand: Operand): number {
    return operand.kind === 'given' ? operand.value : this.steps[operand.index].value;
  }

  /** The finished computation. */
  computation(family: SyntheticFamily): SyntheticComputation {
    if (this.steps.length === 0)
      throw new Error(`${family}: a computation needs at least one step`);
    return { family, steps: this.steps, answer: this.steps[this.steps.length - 1].value };
  }
}

/** An operand for a number stated in the question. */
export function given(value: number): Operand {
  return { kind: 'given', value };
}

/** "a", "a and b", "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
