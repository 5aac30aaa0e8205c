// The unlabelled text a synthetic base model is pretrained on: word problems (questions only,
// half of them followed by a line printing their numbers), arithmetic facts (many of them
// chained, each line continuing from the last result) and short Python snippets, all in the
// world's vocabulary. Nothing here comes
// from a split's problems: questions are drawn in streams of their own and any that repeats a
// split's question is redrawn, and facts and snippets are drawn at random, so pretraining
// teaches the language, the numbers and the code of the world, never a test (or training) answer.
import {
  SYNTHETIC_FAMILIES,
  formatNumber,
  type Operator,
  type SyntheticFamily,
} from './computation';
import { FAMILY_GENERATORS } from './families';
import { generateSplit, questionKey } from './generator';
import {
  draw,
  PEOPLE,
  THINGS,
  type FamilyNumberRanges,
  type NumberRange,
  type NumberRanges,
} from './grammar';
import type { PretrainingDocumentCounts } from './presets';
import { RandomStream } from './random';
import type { SyntheticWorld } from './world';

/** Options of {@link buildPretrainingCorpus}. */
export interface PretrainingCorpusOptions {
  /** Documents per kind (default: the preset's `pretraining.documents`). */
  documents?: Partial<PretrainingDocumentCounts>;
  /** Names the random streams: a different stream gives different documents (e.g. `heldout`). */
  stream?: string;
  /** Documents that must not be produced (e.g. the training corpus, when drawing held-out text). */
  avoid?: ReadonlySet<string>;
}

/** A pretraining corpus: documents of each kind, in the order they are trained on. */
export interface PretrainingCorpus {
  problems: string[];
  arithmetic: string[];
  code: string[];
}

/** All documents of a corpus, problems first. */
export function corpusDocuments(corpus: PretrainingCorpus): string[] {
  return [...corpus.problems, ...corpus.arithmetic, ...corpus.code];
}

const OPERATORS: readonly Operator[] = ['+', '-', '*', '/'];
/** Redraws of a fact document or snippet that repeats an avoided one before giving up. */
const MAX_REDRAWS = 50;

/**
 * Builds the corpus for a world. Deterministic from (world preset, world seed, options); every
 * document tokenizes without `<unk>` under the world's tokenizer (tested).
 */
export function buildPretrainingCorpus(
  world: SyntheticWorld,
  options: PretrainingCorpusOptions = {},
): PretrainingCorpus {
  const counts = { ...world.preset.pretraining?.documents, ...options.documents };
  const stream = options.stream ?? 'train';
  const avoid = options.avoid ?? new Set<string>();
  const numbers = inDistributionNumbers(world);
  return {
    problems: problemDocuments(world, counts.problems ?? 0, stream, avoid),
    arithmetic: drawDocuments(world, counts.arithmetic ?? 0, avoid, (attempt, index) =>
      arithmeticDocument(
        new RandomStream(world.seed, `pretrain/${stream}/arithmetic/${index}/${attempt}`),
        numbers,
      ),
    ),
    code: drawDocuments(world, counts.code ?? 0, avoid, (attempt, index) =>
      codeDocument(
        new RandomStream(world.seed, `pretrain/${stream}/code/${index}/${attempt}`),
        numbers,
        variableNames(world),
      ),
    ),
  };
}

/** The training split's number ranges (they include any `numbers` override of the world). */
function inDistributionNumbers(world: SyntheticWorld): FamilyNumberRanges {
  const train = world.splitSpecs.find((spec) => spec.name === 'train');
  if (!train) throw new Error('pretraining corpus: the world has no train split spec');
  return train.numbers;
}

/**
 * Questions from the training distribution (seen phrasings, 1-4 steps, no distractors), drawn by
 * the world's generator under a split name of their own, so in streams no split uses; every
 * split's questions (and `avoid`) count as seen, so a repeat is redrawn.
 */
function problemDocuments(
  world: SyntheticWorld,
  count: number,
  stream: string,
  avoid: ReadonlySet<string>,
): string[] {
  if (count === 0) return [];
  const train = world.splitSpecs.find((spec) => spec.name === 'train')!;
  // A small world's vocabulary may lack a rare word: such questions are dropped and more drawn
  // (the generator keys problems by index, so the first ones stay the same).
  for (let drawn = count; ; drawn += Math.max(8, drawn - count)) {
    const seen = new Set<string>();
    for (const problems of Object.values(world.splits))
      for (const problem of problems) seen.add(questionKey(problem.question));
    for (const text of avoid) seen.add(questionKey(text));
    const spec = { ...train, name: `pretrain-${stream}`, count: drawn };
    const questions = generateSplit(spec, world.seed, seen)
      .map((problem) => problem.question)
      .filter((question) => knownText(world, question));
    if (questions.length >= count)
      return questions.slice(0, count).map((question, index) => {
        // As the student's prompt shows a question, so what pretraining teaches is used there.
        const text = world.studentTemplate.prompt.split('{question}')[0] + question;
        return new RandomStream(world.seed, `pretrain/${stream}/transcribe/${index}`).chance(0.5)
          ? withNumbersTranscribed(text)
          : text;
      });
  }
}

/**
 * The question followed by a line of code that prints its numbers in the order they appear
 * (`print(49, 3, 8)`): a transcription, not a solution (nothing is computed). It teaches what a
 * from-scratch student otherwise needs thousands of fine-tuning steps for: finding the
 * question's numbers and copying them, in order, into what it writes.
 */
function withNumbersTranscribed(question: string): string {
  const numbers = question.match(/\d+/g) ?? [];
  return numbers.length === 0 ? question : `${question}\nprint(${numbers.join(', ')})`;
}

function knownText(world: SyntheticWorld, text: string): boolean {
  return world.tokenizer.unknownPieces(text).length === 0;
}

/** `count` documents from `make`, each redrawn while it is avoided or has unknown pieces. */
function drawDocuments(
  world: SyntheticWorld,
  count: number,
  avoid: ReadonlySet<string>,
  make: (attempt: number, index: number) => string,
): string[] {
  const documents: string[] = [];
  for (let index = 0; index < count; index++) {
    let attempt = 0;
    let document = make(attempt, index);
    while (avoid.has(document) || !knownText(world, document)) {
      if (++attempt === MAX_REDRAWS)
        throw new Error(`pretraining corpus: no new document ${index} in ${MAX_REDRAWS} draws`);
      document = make(attempt, index);
    }
    documents.push(document);
  }
  return documents;
}

/** The amount each multiplying family multiplies by a factor (rates 29 * 6, shopping 6 * 39...). */
const MULTIPLIED: ReadonlyArray<[SyntheticFamily, keyof NumberRanges]> = [
  ['rates', 'rate'],
  ['shopping', 'rate'],
  ['comparison', 'count'],
  ['sharing', 'factor'],
];

/**
 * One fact `left op right = result` with operands as the families draw them: products of an
 * amount and a factor, exact divisions as in `sharing` (factor * factor / factor), sums of an
 * amount (or a product, as running sums have) and a change or count, non-negative differences.
 */
function arithmeticFact(rng: RandomStream, numbers: FamilyNumberRanges): string {
  const operator = rng.pick(OPERATORS);
  const ranges = numbers[rng.pick(SYNTHETIC_FAMILIES)];
  let left: number;
  let right: number;
  switch (operator) {
    case '*': {
      const [family, role] = rng.pick(MULTIPLIED);
      [left, right] = [draw(rng, numbers[family][role]), draw(rng, numbers[family].factor)];
      if (rng.chance(0.5)) [left, right] = [right, left];
      break;
    }
    case '/':
      right = draw(rng, numbers.sharing.factor);
      left = draw(rng, numbers.sharing.factor) * right;
      break;
    case '+':
      left = rng.chance(0.3)
        ? draw(rng, ranges.rate) * draw(rng, ranges.factor)
        : draw(rng, rng.pick([ranges.count, ranges.rate]));
      right = draw(rng, rng.pick([ranges.small, ranges.count]));
      break;
    case '-':
      left = draw(rng, ranges.count);
      right = draw(rng, ranges.small);
      if (right > left) [left, right] = [right, left];
      break;
  }
  const result = { '+': left + right, '-': left - right, '*': left * right, '/': left / right }[
    operator
  ];
  return `${formatNumber(left)} ${operator} ${formatNumber(right)} = ${formatNumber(result)}`;
}

/**
 * A fact that continues from `previous` (the last line's result), as a running computation
 * does: `previous + n`, `previous - n` (never below 0) or, for small values, `previous * factor`.
 * Reading the result back from the line before is in-context copying, the skill a student needs
 * to move the question's numbers into its solution.
 */
function chainedFact(rng: RandomStream, numbers: FamilyNumberRanges, previous: number): string {
  const ranges = numbers[rng.pick(SYNTHETIC_FAMILIES)];
  let operator = rng.pick<Operator>(previous <= 60 ? ['+', '-', '*'] : ['+', '-']);
  const right =
    operator === '*' ? draw(rng, ranges.factor) : draw(rng, rng.pick([ranges.small, ranges.count]));
  if (operator === '-' && right > previous) operator = '+';
  const value =
    operator === '+' ? previous + right : operator === '-' ? previous - right : previous * right;
  return `${formatNumber(previous)} ${operator} ${formatNumber(right)} = ${formatNumber(value)}`;
}

/** 3-8 facts, one per line; after the first, 60% of lines continue from the line before. */
function arithmeticDocument(rng: RandomStream, numbers: FamilyNumberRanges): string {
  const lines: string[] = [];
  let previous: number | null = null;
  for (let count = rng.int(3, 8); count > 0; count--) {
    const line: string =
      previous !== null && rng.chance(0.6)
        ? chainedFact(rng, numbers, previous)
        : arithmeticFact(rng, numbers);
    lines.push(line);
    previous = Number(line.slice(line.lastIndexOf('= ') + 2));
  }
  return lines.join('\n');
}

const variableNamesCache = new WeakMap<SyntheticWorld, string[]>();

/**
 * Python names from the world's words: the variables PoT programs assign (read off freshly
 * drawn computations, never a split's), the things and the people, kept when the tokenizer
 * knows them.
 */
function variableNames(world: SyntheticWorld): string[] {
  const cached = variableNamesCache.get(world);
  if (cached) return cached;
  const names = new Set<string>([...THINGS, ...PEOPLE.map((person) => person.toLowerCase())]);
  const numbers = inDistributionNumbers(world);
  for (const family of SYNTHETIC_FAMILIES) {
    for (let draws = 0; draws < 40; draws++) {
      const rng = new RandomStream(world.seed, `pretrain/names/${family}/${draws}`);
      const steps = 1 + (draws % 4);
      const draft = FAMILY_GENERATORS[family]({
        rng,
        steps,
        numbers: numbers[family],
        phrasing: 'seen',
      });
      for (const step of draft.computation.steps) names.add(step.name);
    }
  }
  const usable = [...names]
    .filter((name) => /^[a-z][a-z_]*$/.test(name) && name !== 'answer' && name !== 'x')
    .filter((name) => world.tokenizer.unknownPieces(`${name} = ${name} + 1`).length === 0)
    .sort();
  if (usable.length < 4) throw new Error('pretraining corpus: fewer than 4 usable variable names');
  variableNamesCache.set(world, usable);
  return usable;
}

/** Factors in `range` that divide `value` with a quotient of at least 2. */
function exactDivisors(value: number, range: NumberRange): number[] {
  const divisors: number[] = [];
  for (let d = range.min; d <= range.max; d++)
    if (value % d === 0 && value / d >= 2) divisors.push(d);
  return divisors;
}

/**
 * 2-4 straight-line assignments like `toys = 6 * 39` / `cups = toys + 12`: each line combines a
 * fresh number or an earlier variable with a number (or another variable); divisions are exact
 * and differences non-negative, so every snippet runs to a whole number.
 */
function codeDocument(
  rng: RandomStream,
  numbers: FamilyNumberRanges,
  pool: readonly string[],
): string {
  const count = rng.int(2, 4);
  const names = rng.sample(pool, count);
  const values: number[] = [];
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    const ranges = numbers[rng.pick(SYNTHETIC_FAMILIES)];
    const earlier = index > 0 && rng.chance(0.75) ? rng.int(0, index - 1) : -1;
    const leftValue =
      earlier >= 0 ? values[earlier] : draw(rng, rng.pick([ranges.count, ranges.rate]));
    const leftText = earlier >= 0 ? names[earlier] : formatNumber(leftValue);
    let operator = rng.pick(OPERATORS);
    if (operator === '*' && leftValue > 400) operator = '+';
    const divisors = exactDivisors(leftValue, ranges.factor);
    if (operator === '/' && divisors.length === 0) operator = '-';
    if (operator === '-' && leftValue < ranges.small.min + 1) operator = '+';
    let rightValue: number;
    let rightText: string;
    if (operator === '+' && index > 0 && rng.chance(0.3)) {
      const other = rng.int(0, index - 1);
      [rightValue, rightText] = [values[other], names[other]];
    } else {
      switch (operator) {
        case '*':
          rightValue = draw(rng, ranges.factor);
          break;
        case '/':
          rightValue = rng.pick(divisors);
          break;
        case '-':
          rightValue = rng.int(ranges.small.min, Math.min(ranges.small.max, leftValue - 1));
          break;
        case '+':
          rightValue = draw(rng, rng.pick([ranges.small, ranges.count]));
          break;
      }
      rightText = formatNumber(rightValue);
    }
    const value = {
      '+': leftValue + rightValue,
      '-': leftValue - rightValue,
      '*': leftValue * rightValue,
      '/': leftValue / rightValue,
    }[operator];
    values.push(value);
    lines.push(`${names[index]} = ${leftText} ${operator} ${rightText}`);
  }
  return lines.join('\n');
}
