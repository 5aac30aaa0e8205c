// Strict loading names file, line and field of the first bad record; lenient loading skips and
// counts. Fixtures are small files written here, shaped like the real formats.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DataFormatError,
  classifyAsdivAnswer,
  isDatasetFormat,
  loadDataset,
  readProblemsJsonl,
  writeProblemsJsonl,
  type DatasetFormat,
  type LoadDatasetOptions,
  type Problem,
} from '../../src';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'siked-data-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function fixture(name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** The DataFormatError that strict loading throws (fails the test when none is thrown). */
async function strictError(format: DatasetFormat, file: string, options: LoadDatasetOptions = {}) {
  try {
    await loadDataset(format, file, options);
  } catch (error) {
    expect(error).toBeInstanceOf(DataFormatError);
    return error as DataFormatError;
  }
  throw new Error('expected a DataFormatError');
}

const gsm8kLine = (question: string, answer: string) => JSON.stringify({ question, answer });

describe('GSM8K JSONL', () => {
  const lines = [
    gsm8kLine(
      'Ann has 2 apples and buys 1,000 more. How many?',
      'She has 2+1000=<<2+1000=1002>>1002.\n#### 1,002',
    ),
    '',
    gsm8kLine('A debt of 5 grows by 3. What is the balance?', 'It is -5-3=<<-5-3=-8>>-8.\n#### -8'),
    gsm8kLine('No gold here?', 'Some steps.\n#### ten'),
    '{"question": "broken',
    gsm8kLine('No marker?', 'Just prose.'),
    JSON.stringify({ question: 'Missing answer field' }),
  ];

  it('strict: the first bad record is an error naming file, line and field', async () => {
    const file = await fixture('train.jsonl', lines.join('\n'));
    const error = await strictError('gsm8k', file);
    expect(error).toMatchObject({ file, line: 4, field: 'answer' });
    expect(error.message).toBe(
      `${file}:4: field "answer": gold answer "ten" is not a number (no number)`,
    );
  });

  it('lenient: bad records are skipped and counted with line, field and reason', async () => {
    const file = await fixture('train.jsonl', lines.join('\n'));
    const result = await loadDataset('gsm8k', file, { lenient: true });
    expect(result.problems.map((problem) => [problem.id, problem.answer])).toEqual([
      ['gsm8k-train-0', 1002],
      ['gsm8k-train-1', -8],
    ]);
    expect(result.problems[0].meta?.steps).toEqual(['She has 2+1000=1002.']);
    expect(result.skipped).toEqual([
      { line: 4, field: 'answer', reason: 'gold answer "ten" is not a number (no number)' },
      { line: 5, field: '(record)', reason: expect.stringMatching(/^invalid JSON: /) },
      { line: 6, field: 'answer', reason: 'has no "####" line with the final answer' },
      { line: 7, field: 'answer', reason: 'expected a string but found nothing (missing)' },
    ]);
  });

  it('refuses a gold with units or a percent sign (fails closed)', async () => {
    const file = await fixture('g.jsonl', gsm8kLine('q?', 'x\n#### 5 apples'));
    expect((await strictError('gsm8k', file)).reason).toMatch(/is not a plain number/);
    const percent = await fixture('p.jsonl', gsm8kLine('q?', 'x\n#### 5%'));
    expect((await strictError('gsm8k', percent)).reason).toMatch(/is not a plain number/);
  });

  it('names the split after the file and forces the socratic variant when asked', async () => {
    const file = await fixture('test.jsonl', gsm8kLine('How many?', 'How many? ** 1+1=2\n#### 2'));
    const auto = await loadDataset('gsm8k', file);
    expect(auto.problems[0]).toMatchObject({
      id: 'gsm8k-test-0',
      split: 'test',
      meta: { variant: 'socratic' },
    });
    const main = await loadDataset('gsm8k', file, { variant: 'main', split: 'dev' });
    expect(main.problems[0]).toMatchObject({ id: 'gsm8k-dev-0', meta: { variant: 'main' } });
    const plain = await fixture('plain.jsonl', gsm8kLine('How many?', '1+1=2\n#### 2'));
    expect((await strictError('gsm8k', plain, { variant: 'socratic' })).reason).toBe(
      'step 1 has no " ** " between sub-question and step',
    );
  });
});

describe('JSON array formats (SVAMP, MultiArith): errors point at the element line', () => {
  it('SVAMP: a non-numeric Answer is reported at its element', async () => {
    const records = [
      {
        ID: 'chal-1',
        Body: 'Dan has 4 apples.',
        Question: 'He eats 1. How many are left?',
        Equation: '( 4.0 - 1.0 )',
        Answer: 3.0,
        Type: 'Subtraction',
      },
      {
        ID: 'chal-2',
        Body: 'Ann has 2 pens.',
        Question: 'How many pens?',
        Equation: '( 2.0 )',
        Answer: 'two',
        Type: 'Addition',
      },
    ];
    const file = await fixture('svamp.json', JSON.stringify(records, null, 4));
    const error = await strictError('svamp', file);
    expect(error).toMatchObject({ line: 10, field: 'Answer' });
    const lenient = await loadDataset('svamp', file, { lenient: true });
    expect(lenient.problems).toEqual([
      {
        id: 'svamp-chal-1',
        question: 'Dan has 4 apples. He eats 1. How many are left?',
        answer: 3,
        source: 'svamp',
        split: 'test',
        meta: { equation: '( 4.0 - 1.0 )', type: 'Subtraction' },
      },
    ]);
    expect(lenient.skipped).toEqual([
      { line: 10, field: 'Answer', reason: 'gold answer "two" is not a number (no number)' },
    ]);
  });

  it('MultiArith: more than one solution is an error, duplicate ids too', async () => {
    const record = (iIndex: number, lSolutions: number[]) => ({
      iIndex,
      sQuestion: ' Tom has 3 cats and 2 dogs. How many pets? ',
      lEquations: ['X=(3.0+2.0)'],
      lSolutions,
    });
    const file = await fixture(
      'ma.json',
      JSON.stringify([record(0, [5]), record(1, [5, 6]), record(0, [5])], null, 2),
    );
    expect(await strictError('multiarith', file)).toMatchObject({
      field: 'lSolutions',
      reason: 'expected a list of exactly one answer but found 2 answers',
    });
    const lenient = await loadDataset('multiarith', file, { lenient: true });
    expect(lenient.problems).toHaveLength(1);
    expect(lenient.problems[0].question).toBe('Tom has 3 cats and 2 dogs. How many pets?');
    expect(lenient.skipped.map((skip) => skip.field)).toEqual(['lSolutions', 'iIndex']);
    expect(lenient.skipped[1].reason).toMatch(
      /^duplicate id "multiarith-0" \(first at line \d+\)$/,
    );
  });

  it('invalid JSON is an error at the line where the syntax breaks', async () => {
    const cases: Array<[string, number]> = [
      ['[\n  {"ID": "x",\n   "Body": oops}\n]', 3],
      ['[\n  {"ID": "x"\n   "Body": "y"}\n]', 3],
      ['[\n  {"ID": "x"},\n  {"ID": "y"},\n', 4],
      ['[\n  {"ID": "tab\there"}\n]', 2],
      ['[1, 2]\n]', 2],
    ];
    for (const [text, line] of cases) {
      const file = await fixture('bad.json', text);
      const error = await strictError('svamp', file);
      expect([error.field, error.line, error.reason.startsWith('invalid JSON: ')]).toEqual([
        '(file)',
        line,
        true,
      ]);
    }
    const notArray = await fixture('obj.json', '{"ID": "x"}');
    expect(await strictError('svamp', notArray)).toMatchObject({
      line: 1,
      reason: 'expected the file to hold one JSON array',
    });
  });
});

describe('ASDiv XML', () => {
  const problem = (id: string, answer: string, type = 'Addition') =>
    `\t<Problem ID="${id}" Grade="1" Source="x">\r\n\t\t<Body>Ann has 2 pens.</Body>\r\n\t\t<Question>How many?</Question>\r\n` +
    `\t\t<Solution-Type Subtype-1="a">${type}</Solution-Type>\r\n\t\t<Answer>${answer}</Answer>\r\n\t\t<Formula>1+1=2</Formula>\r\n\t</Problem>\r\n`;
  const xml = (problems: string) =>
    `<?xml version="1.0" encoding="UTF-8" ?>\r\n<Machine-Reading-Corpus-File>\r\n<ProblemSet>\r\n${problems}</ProblemSet>\r\n</Machine-Reading-Corpus-File>\r\n`;

  it('keeps numbers with units, excludes by rule, and reports a missing Answer at its line', async () => {
    const file = await fixture(
      'asdiv.xml',
      xml(
        problem('n-1', '2 (pens)') +
          problem('n-2', '3:4', 'Ratio') +
          problem('n-3', '').replace('<Answer></Answer>', ''),
      ),
    );
    const error = await strictError('asdiv', file);
    expect(error).toMatchObject({
      line: 18,
      field: 'Answer',
      reason: 'expected text but found nothing (missing)',
    });
    const lenient = await loadDataset('asdiv', file, { lenient: true });
    expect(
      lenient.problems.map((p) => [p.id, p.answer, p.meta?.unit, p.meta?.solutionType]),
    ).toEqual([['asdiv-n-1', 2, 'pens', 'Addition']]);
    expect(lenient.excluded).toEqual([
      { recordId: 'n-2', line: 11, reason: 'ratio', answer: '3:4' },
    ]);
    expect(lenient.skipped).toEqual([
      { line: 18, field: 'Answer', reason: 'expected text but found nothing (missing)' },
    ]);
  });

  it('classifies answers by the documented rule', () => {
    expect(classifyAsdivAnswer('9 (apples)', 'Addition')).toEqual({
      kind: 'number',
      value: 9,
      unit: 'apples',
    });
    expect(classifyAsdivAnswer('0.46 (dollars)', 'Sum')).toEqual({
      kind: 'number',
      value: 0.46,
      unit: 'dollars',
    });
    expect(classifyAsdivAnswer('5/2', 'Ratio')).toEqual({ kind: 'number', value: 2.5, unit: null });
    expect(classifyAsdivAnswer('45', 'Addition')).toEqual({
      kind: 'number',
      value: 45,
      unit: null,
    });
    expect(classifyAsdivAnswer('6 (years old); 9 (years old)', 'Age')).toEqual({
      kind: 'excluded',
      reason: 'multi-value',
    });
    expect(classifyAsdivAnswer('3:4', 'Ratio')).toEqual({ kind: 'excluded', reason: 'ratio' });
    expect(classifyAsdivAnswer('14:55', 'Addition')).toEqual({
      kind: 'excluded',
      reason: 'clock-time',
    });
    expect(classifyAsdivAnswer('3:30 p.m.', 'Sum')).toEqual({
      kind: 'excluded',
      reason: 'clock-time',
    });
    expect(classifyAsdivAnswer('6th', 'Comparison')).toEqual({
      kind: 'excluded',
      reason: 'ordinal',
    });
    expect(classifyAsdivAnswer('John', 'Comparison')).toEqual({
      kind: 'excluded',
      reason: 'non-numeric',
    });
    expect(classifyAsdivAnswer('February 3rd', 'Date')).toEqual({
      kind: 'excluded',
      reason: 'non-numeric',
    });
  });
});

describe('plain JSONL with a field mapping', () => {
  it('reads nested fields, numeric or GSM8K-style answers, and ids', async () => {
    const file = await fixture(
      'mine.jsonl',
      [
        JSON.stringify({ uid: 'a', body: { text: 'What is 2+2?' }, gold: 4 }),
        JSON.stringify({
          uid: 7,
          body: { text: 'What is 10*100?' },
          gold: 'It is 1000.\n#### 1,000',
        }),
        JSON.stringify({ uid: 'c', body: { text: 'Half of 1?' }, gold: '1/2' }),
      ].join('\n'),
    );
    const result = await loadDataset('jsonl', file, {
      fields: { question: 'body.text', answer: 'gold', id: 'uid' },
      source: 'mine',
      split: 'dev',
    });
    expect(result.problems).toEqual([
      { id: 'a', question: 'What is 2+2?', answer: 4, source: 'mine', split: 'dev' },
      { id: '7', question: 'What is 10*100?', answer: 1000, source: 'mine', split: 'dev' },
      { id: 'c', question: 'Half of 1?', answer: 0.5, source: 'mine', split: 'dev' },
    ]);
  });

  it('defaults to question/answer fields, generated ids and the file name as source', async () => {
    const file = await fixture(
      'extra.jsonl',
      JSON.stringify({ question: 'What is 1+1?', answer: '2' }),
    );
    expect((await loadDataset('jsonl', file)).problems).toEqual([
      { id: 'extra-train-0', question: 'What is 1+1?', answer: 2, source: 'extra', split: 'train' },
    ]);
    const wrongField = await strictError('jsonl', file, { fields: { question: 'prompt' } });
    expect(wrongField).toMatchObject({ line: 1, field: 'prompt' });
  });
});

describe('our own Problem JSONL', () => {
  const problems: Problem[] = [
    { id: 'p-1', question: 'What is 2+2?', answer: 4, source: 'unit', split: 'train' },
    {
      id: 'p-2',
      question: 'What is 1/4?',
      answer: 0.25,
      source: 'unit',
      split: 'test',
      meta: { family: 'fractions' },
    },
  ];

  it('round-trips through write and read, leaving no temporary file', async () => {
    const file = path.join(dir, 'problems.jsonl');
    await writeProblemsJsonl(file, problems);
    expect(await readdir(dir)).toEqual(['problems.jsonl']);
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(3);
    const read = await readProblemsJsonl(file);
    expect(read.problems).toEqual(problems);
    expect((await loadDataset('problems', file)).problems).toEqual(problems);
  });

  it('refuses to write an invalid problem and writes nothing', async () => {
    const file = path.join(dir, 'problems.jsonl');
    const bad = [{ ...problems[0] }, { ...problems[1], answer: Number.NaN }];
    await expect(writeProblemsJsonl(file, bad)).rejects.toThrow(
      /^problem 1 \("p-2"\): field "answer": .*NaN/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('strict reading names the line and field; lenient skips', async () => {
    const file = await fixture(
      'p.jsonl',
      [
        JSON.stringify(problems[0]),
        JSON.stringify({ ...problems[1], answer: '0.25' }),
        JSON.stringify(problems[0]),
      ].join('\n'),
    );
    expect(await strictError('problems', file)).toMatchObject({ line: 2, field: 'answer' });
    const lenient = await readProblemsJsonl(file, { lenient: true });
    expect(lenient.problems).toEqual([problems[0]]);
    expect(lenient.skipped.map((skip) => [skip.line, skip.field])).toEqual([
      [2, 'answer'],
      [3, 'id'],
    ]);
  });
});

describe('loadDataset', () => {
  it('knows its formats and rejects others', async () => {
    expect(isDatasetFormat('asdiv')).toBe(true);
    expect(isDatasetFormat('csv')).toBe(false);
    await expect(loadDataset('csv' as DatasetFormat, 'x')).rejects.toThrow(
      'unknown data set format "csv"; expected one of gsm8k, svamp, asdiv, multiarith, jsonl, problems',
    );
  });
});
