// siked data import-teacher: recorded teacher files -> a verified teacher.jsonl that
// `--teacher recorded:` reads, with every record accounted for. On small files made here, and on
// the real GSM8K teacher files when ../shared/data is present.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordedTeacher } from '@siked/core';
import { jsonLines, siked, temporaryDirectory } from './helpers/cli';

const natalia =
  'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?';
const weng =
  'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?';

describe('siked data import-teacher', () => {
  const { dir, cleanup } = temporaryDirectory('import-teacher');
  afterAll(cleanup);

  it('keeps verified solutions, drops the rest by reason, and writes what recorded: reads', async () => {
    const problems = path.join(dir, 'train.jsonl');
    fs.writeFileSync(
      problems,
      [
        { question: natalia, answer: 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72' },
        { question: weng, answer: 'Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\n#### 10' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const rationales = path.join(dir, 'rationales.json');
    fs.writeFileSync(
      rationales,
      JSON.stringify([
        {
          instruction: natalia,
          output: 'In May she sold 48 / 2 = 24. In all 48 + 24 = 72. The answer is 72.',
        },
        {
          instruction: `  ${weng.replace(/ /g, '  ')} `,
          output: 'She earned 12 * 50 = 600. The answer is 600.',
        },
        { instruction: 'A question no problem has?', output: 'The answer is 1.' },
        { instruction: weng, output: 'Weng babysat for a while and earned some money.' },
      ]),
    );
    const socratic = path.join(dir, 'train_socratic.jsonl');
    fs.writeFileSync(
      socratic,
      JSON.stringify({
        question: natalia,
        answer:
          'How many clips did Natalia sell in May? ** Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n' +
          'How many clips did Natalia sell altogether in April and May? ** Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72',
      }) + '\n',
    );
    const out = path.join(dir, 'teacher.jsonl');
    const result = siked([
      ...['data', 'import-teacher', '--format', 'gsm8k', problems],
      ...['--rationales', rationales, '--socratic', socratic, '--out', out, '--json'],
    ]);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      kept: number;
      problems: number;
      problemsCovered: Record<string, number>;
      sources: Array<Record<string, unknown>>;
    };
    expect(report.sources).toEqual([
      expect.objectContaining({
        strategy: 'cot',
        records: 4,
        unmatched: 1,
        kept: 1,
        wrong: 1,
        unparsed: 1,
      }),
      expect.objectContaining({
        strategy: 'l2m',
        records: 1,
        unmatched: 0,
        kept: 1,
        notOfStrategy: 0,
      }),
    ]);
    expect(report.kept).toBe(2);
    expect(report.problemsCovered).toEqual({ cot: 1, l2m: 1 });
    const lines = jsonLines(fs.readFileSync(out, 'utf8')) as Array<{
      strategy: string;
      text: string;
    }>;
    expect(lines.map((l) => l.strategy)).toEqual(['cot', 'l2m']);
    expect(lines[0]!.text).toMatch(/Final answer: 72$/);
    // The teacher a distill run would use serves exactly these solutions.
    const teacher = await RecordedTeacher.fromJsonl(out);
    expect(teacher.name).toBe(`recorded:${out}`);
  });

  it('refuses a call with no teacher file, and an --out that is an input', () => {
    const problems = path.join(dir, 'train.jsonl');
    expect(
      siked(['data', 'import-teacher', '--format', 'gsm8k', problems, '--out', 'x.jsonl']).status,
    ).toBe(2);
    const result = siked([
      ...['data', 'import-teacher', '--format', 'gsm8k', problems],
      ...['--socratic', path.join(dir, 'train_socratic.jsonl'), '--out', problems],
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('that is the input file');
  });
});

const shared = path.resolve(__dirname, '../../shared/data/gsm8k');
const haveShared = fs.existsSync(path.join(shared, 'train.jsonl'));
if (!haveShared) console.warn(`skipping the real GSM8K teacher import: ${shared} is absent`);
(haveShared ? describe : describe.skip)('siked data import-teacher on the real GSM8K files', () => {
  const { dir, cleanup } = temporaryDirectory('import-teacher-real');
  afterAll(cleanup);

  it('imports the LLaMA level-1 rationales and the socratic split for all 7,473 problems', () => {
    const out = path.join(dir, 'teacher.jsonl');
    const result = siked(
      [
        ...['data', 'import-teacher', '--format', 'gsm8k', path.join(shared, 'train.jsonl')],
        ...['--rationales', path.join(shared, 'teacher/gsm8k_llama_level1_ranked.json')],
        ...['--socratic', path.join(shared, 'train_socratic.jsonl'), '--out', out, '--json'],
      ],
      { timeoutMs: 300_000 },
    );
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      kept: number;
      problems: number;
      sources: Array<{ records: number; kept: number; unmatched: number }>;
    };
    // Measured: 7,398 of the 7,439 joined CoT rationales verify; 7,469 of 7,473 socratic records
    // are L2M with the right answer (the importers' own test lists the 4 that are not).
    expect(report.problems).toBe(7473);
    expect(report.sources.map((s) => [s.records, s.unmatched, s.kept])).toEqual([
      [7442, 3, 7398],
      [7473, 0, 7469],
    ]);
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(report.kept);
  });
});
