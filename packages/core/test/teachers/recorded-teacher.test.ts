import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  RecordedTeacher,
  importGsm8kRationalesAsCot,
  importGsm8kSocraticAsL2m,
  normalizeQuestionText,
  rationaleToCot,
  socraticToL2m,
  type Problem,
} from '../../src';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-recorded-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const problems: Problem[] = [
  {
    id: 'gsm8k-train-0',
    question: 'Natalia sold clips to 48 of her friends.  How many?',
    answer: 72,
    source: 'gsm8k',
    split: 'train',
  },
  {
    id: 'gsm8k-train-1',
    question: 'Weng earns $12 an hour. How much?',
    answer: 10,
    source: 'gsm8k',
    split: 'train',
  },
];

describe('RecordedTeacher', () => {
  it('returns up to n recorded solutions per problem for the asked strategy, in file order', async () => {
    const file = path.join(dir, 'recorded.jsonl');
    await fs.writeFile(
      file,
      [
        { problemId: 'gsm8k-train-0', strategy: 'cot', text: 'a' },
        { problemId: 'gsm8k-train-0', strategy: 'pot', text: 'answer = 72' },
        { problemId: 'gsm8k-train-0', strategy: 'cot', text: 'b', origin: 'teacher' },
        { problemId: 'gsm8k-train-1', strategy: 'cot', text: 'c' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const teacher = await RecordedTeacher.fromJsonl(file);
    expect(teacher.countByStrategy()).toEqual({ cot: 3, l2m: 0, pot: 1 });
    expect((await teacher.solve(problems, 'cot', 1)).map((s) => s.text)).toEqual(['a', 'c']);
    expect((await teacher.solve(problems, 'cot', 5)).map((s) => s.text)).toEqual(['a', 'b', 'c']);
    expect(await teacher.solve(problems, 'l2m', 5)).toEqual([]);
  });

  it('names file, line and field of a bad record', async () => {
    const file = path.join(dir, 'bad.jsonl');
    await fs.writeFile(
      file,
      '{"problemId":"x","strategy":"cot","text":"ok"}\n{"problemId":"x","strategy":"tot","text":"t"}\n',
    );
    await expect(RecordedTeacher.fromJsonl(file)).rejects.toThrow(`${file}:2: field "strategy"`);
    await fs.writeFile(file, '{"problemId":"x","strategy":"cot"}\n');
    await expect(RecordedTeacher.fromJsonl(file)).rejects.toThrow(`${file}:1: field "text"`);
  });
});

describe('GSM8K importers', () => {
  it('rewrites "The answer is N" into our CoT final line', () => {
    expect(rationaleToCot('8 * 2 = 16. 16 + 8 * 4 = 48. The answer is 48')).toBe(
      '8 * 2 = 16. 16 + 8 * 4 = 48.\nFinal answer: 48',
    );
    expect(rationaleToCot(' He has $5. The answer is $1,000.')).toBe(
      'He has $5.\nFinal answer: $1,000',
    );
    // The LAST "the answer is" counts (answer-conditioned rationales restate it).
    expect(rationaleToCot('So the answer is 4. But the answer is 5')).toBe(
      'So the answer is 4. But\nFinal answer: 5',
    );
    expect(rationaleToCot('No conclusion here.')).toBe('No conclusion here.');
  });

  it('converts socratic steps into L2M sub-questions', () => {
    const socratic =
      'How many clips did Natalia sell in May? ** Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n' +
      'How many clips did Natalia sell altogether? ** Natalia sold 48+24 = <<48+24=72>>72 clips.\n#### 1,072';
    expect(socraticToL2m(socratic)).toBe(
      'Sub-question 1: How many clips did Natalia sell in May?\nAnswer 1: Natalia sold 48/2 = 24 clips in May.\n' +
        'Sub-question 2: How many clips did Natalia sell altogether?\nAnswer 2: Natalia sold 48+24 = 72 clips.\nFinal answer: 1072',
    );
    expect(() => socraticToL2m('no separator here\n#### 3')).toThrow(/step 1/);
    expect(() => socraticToL2m('a ** b')).toThrow(/####/);
  });

  it('joins by whitespace-normalised question text and reports what did not join', async () => {
    const rationaleFile = path.join(dir, 'rationales.json');
    await fs.writeFile(
      rationaleFile,
      JSON.stringify([
        {
          instruction: 'Natalia sold clips to 48 of her\u00a0friends. How many?',
          output: '48 + 24 = 72. The answer is 72',
        },
        { instruction: 'A question from nowhere', output: 'The answer is 1' },
      ]),
    );
    const cot = await importGsm8kRationalesAsCot(rationaleFile, problems);
    expect(cot.samples).toEqual([
      { problemId: 'gsm8k-train-0', strategy: 'cot', text: '48 + 24 = 72.\nFinal answer: 72' },
    ]);
    expect(cot.report).toEqual({
      records: 2,
      matched: 1,
      unmatched: 1,
      unmatchedExamples: ['A question from nowhere'],
      problemsWithoutRecord: 1,
    });

    const socraticFile = path.join(dir, 'socratic.jsonl');
    await fs.writeFile(
      socraticFile,
      JSON.stringify({
        question: 'Weng earns $12 an hour.   How much?',
        answer: 'How much? ** 10 dollars.\n#### 10',
      }) + '\n',
    );
    const l2m = await importGsm8kSocraticAsL2m(socraticFile, problems);
    expect(l2m.samples).toEqual([
      {
        problemId: 'gsm8k-train-1',
        strategy: 'l2m',
        text: 'Sub-question 1: How much?\nAnswer 1: 10 dollars.\nFinal answer: 10',
      },
    ]);
    expect(normalizeQuestionText('  a \n\t b ')).toBe('a b');

    await fs.writeFile(
      socraticFile,
      JSON.stringify({
        question: 'Weng earns $12 an hour. How much?',
        answer: 'no stars\n#### 10',
      }) + '\n',
    );
    await expect(importGsm8kSocraticAsL2m(socraticFile, problems)).rejects.toThrow(
      `${socraticFile}:1: field "answer"`,
    );
  });
});
