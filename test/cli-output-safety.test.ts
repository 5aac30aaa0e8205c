// Outputs are atomic (issue 16, item 6): `--out` of generate/logprobs/verify/eval appears only
// complete, a failing run leaves an older file of that name as it was, `--out` equal to the input
// is refused before any work, and `data convert` leaves no temporary behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTinyModel, type TinyModelFixture } from './helpers/fixture-model';
import { siked, temporaryDirectory } from './helpers/cli';

describe('siked --out is written atomically and never over an input', () => {
  const { dir, cleanup } = temporaryDirectory('output-safety');
  let fixture: TinyModelFixture;
  beforeAll(async () => {
    fixture = await writeTinyModel(dir);
  });
  afterAll(cleanup);
  const temporaries = () => fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));

  it('logprobs failing half-way leaves the previous --out untouched and no temporary', () => {
    const texts = path.join(dir, 'texts.jsonl');
    // The second text is longer than the tiny model's context: the engine refuses it after the
    // first batch has been written.
    const tooLong = Array.from({ length: 3000 }, () => 'apples').join(' ');
    fs.writeFileSync(
      texts,
      `${JSON.stringify({ text: 'Tom has 3 apples.' })}\n${JSON.stringify({ text: tooLong })}\n`,
    );
    const out = path.join(dir, 'scores.jsonl');
    fs.writeFileSync(out, 'previous results\n');
    const result = siked([
      'logprobs',
      '--model',
      fixture.modelDir,
      '--input',
      texts,
      '--out',
      out,
      '--batch-size',
      '1',
      '--threads',
      '1',
    ]);
    expect(result.status).not.toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('previous results\n');
    expect(temporaries()).toEqual([]);
    // The same command on good input replaces the file whole.
    fs.writeFileSync(texts, `${JSON.stringify({ text: 'Tom has 3 apples.' })}\n`);
    const ok = siked([
      'logprobs',
      '--model',
      fixture.modelDir,
      '--input',
      texts,
      '--out',
      out,
      '--threads',
      '1',
    ]);
    expect(ok.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(temporaries()).toEqual([]);
  });

  it('refuses --out equal to the input (also through another spelling of the path) and --out a folder', () => {
    const prompts = path.join(dir, 'prompts.jsonl');
    const content = `${JSON.stringify({ question: fixture.problems[0]!.question })}\n`;
    fs.writeFileSync(prompts, content);
    const cases = [
      ['generate', '--model', fixture.modelDir, '--input', prompts, '--out', prompts],
      [
        'logprobs',
        '--model',
        fixture.modelDir,
        '--input',
        prompts,
        '--out',
        path.join(dir, '.', 'prompts.jsonl'),
      ],
      ['verify', '--input', prompts, '--out', prompts],
      [
        'eval',
        '--model',
        fixture.modelDir,
        '--data',
        fixture.problemsFile,
        '--out',
        fixture.problemsFile,
      ],
      ['data', 'convert', fixture.problemsFile, '--out', fixture.problemsFile],
    ];
    const problemsBefore = fs.readFileSync(fixture.problemsFile, 'utf8');
    for (const args of cases) {
      const result = siked(args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toContain('that is the input file; writing it would destroy it');
    }
    expect(fs.readFileSync(prompts, 'utf8')).toBe(content);
    expect(fs.readFileSync(fixture.problemsFile, 'utf8')).toBe(problemsBefore);
    for (const args of [
      ['verify', '--input', prompts, '--out', dir],
      ['data', 'convert', fixture.problemsFile, '--out', dir],
    ]) {
      const result = siked(args);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`--out ${dir}: a folder, expected a file name`);
    }
    expect(temporaries()).toEqual([]);
  });
});
