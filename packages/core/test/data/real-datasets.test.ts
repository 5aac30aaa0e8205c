// Every loader on the real public files in ../shared/data; counts from that folder's README.
import {
  DATASET_FORMATS,
  loadAsdiv,
  loadDataset,
  readAsdivFoldIds,
  type LoadResult,
  type Problem,
} from '../../src';
import { describeWithSharedData, sharedData } from './shared-data';

/** Checks every problem in plain code and asserts once (37k jest assertions would be slow). */
function expectWellFormed(result: LoadResult, source: string, split: string): void {
  expect(result.skipped).toEqual([]);
  expect(new Set(result.problems.map((problem) => problem.id)).size).toBe(result.problems.length);
  const malformed = result.problems.filter(
    (problem) =>
      !Number.isFinite(problem.answer) ||
      problem.question.trim() !== problem.question ||
      problem.question.length <= 10 ||
      problem.source !== source ||
      problem.split !== split,
  );
  expect(malformed).toEqual([]);
}

const byId = (problems: Problem[], id: string) => problems.find((problem) => problem.id === id);

describeWithSharedData('loaders on the real data sets', () => {
  let main: LoadResult;
  let socratic: LoadResult;
  let asdiv: LoadResult;
  beforeAll(async () => {
    [main, socratic, asdiv] = await Promise.all([
      loadDataset('gsm8k', sharedData('gsm8k/train.jsonl')),
      loadDataset('gsm8k', sharedData('gsm8k/train_socratic.jsonl')),
      loadDataset('asdiv', sharedData('asdiv/ASDiv.xml')),
    ]);
  });

  it('GSM8K train: 7473 problems, commas and negatives in golds, annotations stripped', () => {
    expect(main.problems).toHaveLength(7473);
    expectWellFormed(main, 'gsm8k', 'train');
    expect(main.problems[0]).toEqual({
      id: 'gsm8k-train-0',
      question:
        'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?',
      answer: 72,
      source: 'gsm8k',
      split: 'train',
      meta: {
        variant: 'main',
        steps: [
          'Natalia sold 48/2 = 24 clips in May.',
          'Natalia sold 48+24 = 72 clips altogether in April and May.',
        ],
      },
    });
    // README: 3 negative golds, none with a decimal point, 79 written with thousands separators.
    expect(main.problems.filter((problem) => problem.answer < 0)).toHaveLength(3);
    expect(main.problems.every((problem) => Number.isInteger(problem.answer))).toBe(true);
    expect(main.problems.filter((problem) => problem.answer >= 1000).length).toBeGreaterThanOrEqual(
      79,
    );
    const steps = main.problems.flatMap((problem) => problem.meta?.steps as string[]);
    expect(steps.some((step) => step.includes('<<') || step.includes('>>'))).toBe(false);
    const stepCounts = main.problems.map((problem) => (problem.meta?.steps as string[]).length);
    expect(Math.min(...stepCounts)).toBe(2);
    expect(Math.max(...stepCounts)).toBe(9);
  });

  it('GSM8K socratic: same 7473 problems and golds, sub-questions kept in meta', () => {
    expectWellFormed(socratic, 'gsm8k', 'train');
    expect(socratic.problems).toHaveLength(main.problems.length);
    const differing = socratic.problems.filter((problem, i) => {
      const other = main.problems[i];
      const sameSteps =
        (problem.meta?.steps as string[]).join('\n') === (other.meta?.steps as string[]).join('\n');
      return problem.id !== other.id || problem.answer !== other.answer || !sameSteps;
    });
    // Same ids, golds and human steps as the main file.
    expect(differing.map((problem) => problem.id)).toEqual([]);
    const first = socratic.problems[0];
    expect(first.meta?.variant).toBe('socratic');
    expect(first.meta?.subQuestions).toEqual([
      {
        question: 'How many clips did Natalia sell in May?',
        answer: 'Natalia sold 48/2 = 24 clips in May.',
      },
      {
        question: 'How many clips did Natalia sell altogether in April and May?',
        answer: 'Natalia sold 48+24 = 72 clips altogether in April and May.',
      },
    ]);
  });

  it('SVAMP: 1000 problems, Body + " " + Question, integral golds', async () => {
    const result = await loadDataset('svamp', sharedData('svamp/SVAMP.json'));
    expect(result.problems).toHaveLength(1000);
    expectWellFormed(result, 'svamp', 'test');
    expect(byId(result.problems, 'svamp-chal-1')).toMatchObject({
      question:
        'Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack How much do you have to pay to buy each pack?',
      answer: 51,
      meta: { equation: '( 76.0 - 25.0 )', type: 'Subtraction' },
    });
    expect(
      result.problems.every((problem) => Number.isInteger(problem.answer) && problem.answer >= 0),
    ).toBe(true);
    expect(byId(result.problems, 'svamp-chal-680')?.answer).toBe(1); // kept as published (README)
  });

  it('ASDiv: 2305 records = 2093 problems + 212 excluded by the documented rule', () => {
    const result = asdiv;
    expectWellFormed(result, 'asdiv', 'test');
    expect(result.problems.length + result.excluded.length).toBe(2305);
    const reasons: Record<string, number> = {};
    for (const excluded of result.excluded)
      reasons[excluded.reason] = (reasons[excluded.reason] ?? 0) + 1;
    // README: 90 multi-value answers and 147 answers that are not "number (unit)" or a bare
    // number; those 147 are our 122 other exclusions, the 9 fractions we keep ("5/2",
    // "-(1/3)", ...) and 16 multi-value answers without units ("9; 11; 13").
    expect(reasons).toEqual({
      'multi-value': 90,
      ratio: 43,
      'clock-time': 18,
      ordinal: 2,
      'non-numeric': 59,
    });
    expect(result.problems).toHaveLength(2093);
    expect(byId(result.problems, 'asdiv-nluds-0001')).toMatchObject({
      question:
        'Seven red apples and two green apples are in the basket. How many apples are in the basket?',
      answer: 9,
      meta: {
        grade: 1,
        solutionType: 'Addition',
        unit: 'apples',
        answerText: '9 (apples)',
        formula: '7+2=9',
      },
    });
    const fractions = result.problems.filter((problem) =>
      /\//.test(String(problem.meta?.answerText)),
    );
    expect(fractions.map((problem) => problem.meta?.answerText).sort()).toEqual(
      ['-(1/3)', '1/6', '25/3', '3/7', '4/7', '5/13', '5/2', '5/2', '7/9'].sort(),
    );
    expect(fractions.find((problem) => problem.meta?.answerText === '-(1/3)')?.answer).toBeCloseTo(
      -1 / 3,
      12,
    );
    // README: 48 answers have no unit; with the 9 unit-less fractions, 57 problems have none.
    expect(result.problems.filter((problem) => problem.meta?.unit === null)).toHaveLength(48 + 9);
    const twoSpaces = result.problems.find((problem) => problem.meta?.answerText === '14  (seats)');
    expect(twoSpaces).toMatchObject({ answer: 14, meta: { unit: 'seats' } });
    const excludedLine = result.excluded.find((excluded) => excluded.answer === 'John');
    expect(excludedLine).toMatchObject({ reason: 'non-numeric' });
    expect(excludedLine!.line).toBeGreaterThan(1);
  });

  it('ASDiv-A (ids from the nfolds folder): 1218 problems, none excluded', async () => {
    const ids = await readAsdivFoldIds(sharedData('asdiv/nfolds/asdiv-a'));
    expect(ids.size).toBe(1218);
    const result = await loadAsdiv(sharedData('asdiv/ASDiv.xml'), { ids });
    expect(result.problems).toHaveLength(1218);
    expect(result.excluded).toEqual([]);
  });

  it('MultiArith: 600 problems, trimmed questions, duplicates kept', async () => {
    const result = await loadDataset('multiarith', sharedData('multiarith/MultiArith.json'));
    expect(result.problems).toHaveLength(600);
    expectWellFormed(result, 'multiarith', 'test');
    expect(result.problems[0]).toMatchObject({ id: 'multiarith-0', answer: 39 });
    expect(result.problems[0].question.startsWith('For Halloween Debby')).toBe(true);
    const questions = new Set(result.problems.map((problem) => problem.question));
    expect(questions.size).toBe(580); // README: 20 questions occur twice
  });

  it('every format name is one the dispatcher knows', () => {
    expect([...DATASET_FORMATS]).toEqual([
      'gsm8k',
      'svamp',
      'asdiv',
      'multiarith',
      'jsonl',
      'problems',
    ]);
  });
});
