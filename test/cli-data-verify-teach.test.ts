// data, verify and teach: the commands over loaders, verification, the sandbox and teachers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyntheticWorld } from '@siked/core';
import { jsonLines, siked, temporaryDirectory } from './helpers/cli';

const SHARED_DATA = path.resolve(__dirname, '../../shared/data');
const describeIfData = fs.existsSync(SHARED_DATA) ? describe : describe.skip;
if (!fs.existsSync(SHARED_DATA))
  console.warn(`skipping real-data CLI tests: ${SHARED_DATA} is absent`);

const SANDBOX_ONE = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

describe('siked data / verify / teach (built CLI)', () => {
  const { dir, cleanup } = temporaryDirectory('dvt');
  afterAll(cleanup);

  describeIfData('data on the real data sets', () => {
    it('inspect --json reports counts and exclusions', () => {
      const result = siked([
        'data',
        'inspect',
        '--format',
        'asdiv',
        path.join(SHARED_DATA, 'asdiv/ASDiv.xml'),
        '--json',
      ]);
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.format).toBe('asdiv');
      expect(
        report.problems +
          Object.values(report.excluded as Record<string, number>).reduce((a, b) => a + b, 0),
      ).toBe(2305);
      expect(report.skipped).toBe(0);
    });

    it('convert writes Problem JSONL that reads back as the problems format', () => {
      const out = path.join(dir, 'svamp.jsonl');
      const result = siked([
        'data',
        'convert',
        '--format',
        'svamp',
        path.join(SHARED_DATA, 'svamp/SVAMP.json'),
        '--out',
        out,
        '--json',
      ]);
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ out, problems: 1000, skipped: 0 });
      const first = jsonLines(fs.readFileSync(out, 'utf8'))[0] as Record<string, unknown>;
      expect(Object.keys(first)).toEqual(
        expect.arrayContaining(['id', 'question', 'answer', 'source', 'split']),
      );
      const back = siked(['data', 'inspect', '--format', 'problems', out, '--json']);
      expect(JSON.parse(back.stdout).problems).toBe(1000);
    });
  });

  it('data: exits 2 naming file, line and field of a malformed record; --lenient counts it', () => {
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, '{"question":"q1","answer":3}\n{"question":"q2","answer":"many"}\n');
    const strict = siked(['data', 'convert', '--format', 'jsonl', file]);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toContain(`${file}:2: field "answer"`);
    const lenient = siked(['data', 'inspect', '--format', 'jsonl', file, '--lenient', '--json']);
    expect(lenient.status).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ problems: 1, skipped: 1 });
  });

  it('verify: one line per record in input order; hostile programs are wrong answers, not crashes', () => {
    const input = path.join(dir, 'solutions.jsonl');
    const records = [
      { strategy: 'cot', text: 'It is 2 + 2 = 4.\nFinal answer: 4', gold: 4 },
      { strategy: 'pot', text: 'answer = 6 * 7', gold: '42' },
      { strategy: 'pot', text: "import os\nanswer = len(os.listdir('/'))", gold: 3 },
      { strategy: 'pot', text: 'answer = 1\nwhile True:\n    answer += 1', gold: 3 },
      { strategy: 'l2m', text: 'Final answer: 5', gold: 5 },
      { strategy: 'cot', text: 'no statement', gold: 1, problemId: 'p7' },
    ];
    fs.writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const result = siked([
      'verify',
      '--input',
      input,
      '--sandbox-timeout-ms',
      '1500',
      '--sandbox-workers',
      '1',
      '--no-sandbox-sympy',
    ]);
    expect(result.status).toBe(0);
    const lines = jsonLines(result.stdout) as Array<Record<string, unknown>>;
    expect(lines.map((l) => [l.predicted, l.correct])).toEqual([
      [4, true],
      [42, true],
      [null, false],
      [null, false],
      [5, false],
      [null, false],
    ]);
    expect(lines[0].error).toBeNull();
    expect(lines[2].error).toMatch(/os/);
    expect(lines[3].error).toMatch(/time/i);
    expect(lines[4].error).toMatch(/sub-question/);
    expect(lines[5].problemId).toBe('p7');
  });

  it('verify --working-checks: a right answer with unsound working is not correct', () => {
    const input = path.join(dir, 'lucky.jsonl');
    const question = 'It works for 6 hours on Tuesday at 29 loaves per hour. How many loaves?';
    const records = [
      { strategy: 'cot', text: '29 * 6 = 170\nFinal answer: 174', gold: 174 },
      { strategy: 'pot', text: 'saturday = 29 * 6\nanswer = saturday', gold: 174, question },
      { strategy: 'pot', text: 'tuesday = 29 * 6\nanswer = tuesday', gold: 174, question },
    ];
    fs.writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const checks = ['--working-checks', 'arithmetic,grounded-names', ...SANDBOX_ONE];
    const result = siked(['verify', '--input', input, ...checks]);
    expect(result.status).toBe(0);
    const lines = jsonLines(result.stdout) as Array<Record<string, unknown>>;
    expect(lines.map((l) => [l.predicted, l.correct])).toEqual([
      [174, false],
      [174, false],
      [174, true],
    ]);
    expect(lines[0]!.error).toBe('29 * 6 = 170 is false (174)');
    expect(lines[1]!.error).toMatch(/'saturday'/);
    expect(result.stderr).toContain('2 right but with unsound working');
    // Without the checks both lucky answers count, as in the reference.
    const plain = siked(['verify', '--input', input, ...SANDBOX_ONE]);
    expect((jsonLines(plain.stdout) as Array<{ correct: boolean }>).every((l) => l.correct)).toBe(
      true,
    );
    // grounded-names needs each PoT record's question.
    fs.writeFileSync(input, JSON.stringify({ ...records[1], question: undefined }) + '\n');
    const missing = siked(['verify', '--input', input, ...checks]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`${input}:1: field "question"`);
  });

  it('verify: exits 2 naming the line and field of a bad record', () => {
    const input = path.join(dir, 'bad-solutions.jsonl');
    fs.writeFileSync(
      input,
      '{"strategy":"cot","text":"Final answer: 1","gold":1}\n{"strategy":"cot","text":"x","gold":"lots"}\n',
    );
    const result = siked(['verify', '--input', input]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${input}:2: field "gold"`);
  });

  it('teach: the synthetic teacher, verified, one kept per question and strategy', () => {
    const problems = buildSyntheticWorld('tiny', 3).splits.train.slice(0, 12);
    const data = path.join(dir, 'train.jsonl');
    fs.writeFileSync(data, problems.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const out = path.join(dir, 'teach');
    const result = siked([
      'teach',
      '--teacher',
      'synthetic',
      '--data',
      data,
      '--samples',
      '2',
      '--out',
      out,
      '--json',
      '--sandbox-workers',
      '1',
    ]);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.problems).toBe(12);
    const kept = jsonLines(fs.readFileSync(summary.teacherFile, 'utf8')) as Array<
      Record<string, unknown>
    >;
    expect(kept.length).toBe(summary.kept);
    expect(kept.every((s) => s.correct === true)).toBe(true);
    const keys = kept.map((s) => `${s.problemId}/${s.strategy}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const strategy of ['cot', 'l2m', 'pot']) {
      expect(summary.perStrategy[strategy].samples).toBe(24);
      expect(summary.perStrategy[strategy].kept).toBeLessThanOrEqual(12);
    }
    expect(
      jsonLines(fs.readFileSync(path.join(out, 'teacher-samples.jsonl'), 'utf8')),
    ).toHaveLength(72);
  });

  it('teach: exits 2 on an unknown teacher or strategy', () => {
    const data = path.join(dir, 'train.jsonl');
    expect(siked(['teach', '--teacher', 'ftp://x', '--data', data, '--out', dir]).status).toBe(2);
    const bad = siked([
      'teach',
      '--teacher',
      'synthetic',
      '--data',
      data,
      '--out',
      dir,
      '--strategies',
      'cot,tot',
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('option --strategies');
  });
});
