// Outputs are atomic (issue 16, item 6): `--out` of generate/logprobs/verify/eval appears only
// complete, a failing or killed run leaves an older file of that name as it was, `--out` equal to the input
// is refused before any work, and `data convert` leaves no temporary behind.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTinyModel, type TinyModelFixture } from './helpers/fixture-model';
import { SIKED, siked, temporaryDirectory } from './helpers/cli';

describe('siked --out is written atomically and never over an input', () => {
  const { dir, cleanup } = temporaryDirectory('output-safety');
  let fixture: TinyModelFixture;
  beforeAll(async () => {
    fixture = await writeTinyModel(dir);
  });
  afterAll(cleanup);
  const temporaries = () => fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));

  it('logprobs killed half-way leaves the previous --out untouched', async () => {
    const texts = path.join(dir, 'texts.jsonl');
    const line = `${JSON.stringify({ text: fixture.problems[0]!.question })}\n`;
    fs.writeFileSync(texts, line.repeat(3000));
    const out = path.join(dir, 'scores.jsonl');
    fs.writeFileSync(out, 'previous results\n');
    const temporary = path.join(dir, '.scores.jsonl.tmp');
    const args = ['logprobs', '--model', fixture.modelDir, '--input', texts, '--out', out];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [SIKED, ...args, '--batch-size', '1', '--threads', '1'],
        {
          stdio: 'ignore',
        },
      );
      // Kill it once scores are being written.
      const poll = setInterval(() => {
        if (fs.existsSync(temporary) && fs.statSync(temporary).size > 0) child.kill('SIGKILL');
      }, 5);
      child.on('exit', (code, signal) => {
        clearInterval(poll);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`finished before it was killed (exit ${code})`));
      });
    });
    expect(fs.readFileSync(out, 'utf8')).toBe('previous results\n');
    // The next run overwrites the killed run's temporary and replaces the file whole.
    fs.writeFileSync(texts, line.repeat(3));
    expect(siked([...args, '--threads', '1']).status).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(temporaries()).toEqual([]);
  });

  it('inputs longer than the context are refused by file and line; a default --max-new-tokens is capped', () => {
    const tooLong = Array.from({ length: 3000 }, () => 'apples').join(' ');
    const texts = path.join(dir, 'long-texts.jsonl');
    fs.writeFileSync(
      texts,
      `${JSON.stringify({ text: 'Tom has 3 apples.' })}\n${JSON.stringify({ text: tooLong })}\n`,
    );
    const scored = siked(['logprobs', '--model', fixture.modelDir, '--input', texts]);
    expect(scored.status).toBe(2);
    expect(scored.stderr).toMatch(
      new RegExp(
        `${texts}:2: field "text": \\d+ tokens, longer than the model's \\d+-position context`,
      ),
    );
    const prompts = path.join(dir, 'long-prompts.jsonl');
    fs.writeFileSync(
      prompts,
      `${JSON.stringify({ question: 'Tom has 3 apples.' })}\n${JSON.stringify({ question: tooLong })}\n`,
    );
    const generated = siked(['generate', '--model', fixture.modelDir, '--input', prompts]);
    expect(generated.status).toBe(2);
    expect(generated.stderr).toContain(`${prompts}:2: the prompt takes`);
    expect(generated.stderr).not.toMatch(/prompts\[/);
    // The README's examples, with the default --max-new-tokens (512) on a 384-position model.
    // (with a byte-order mark and CRLF, as a Windows editor saves it)
    fs.writeFileSync(
      prompts,
      `\uFEFF${JSON.stringify({ question: fixture.problems[0]!.question })}\r\n`,
    );
    const capped = siked([
      'generate',
      '--model',
      fixture.modelDir,
      '--input',
      prompts,
      '--threads',
      '1',
    ]);
    expect(capped.status).toBe(0);
    expect(capped.stderr).toMatch(
      /--max-new-tokens 512 capped to \d+: the model's context is \d+ positions/,
    );
    const evaluated = siked([
      'eval',
      '--model',
      fixture.modelDir,
      '--data',
      fixture.problemsFile,
      '--limit',
      '2',
      '--out',
      path.join(dir, 'predictions.jsonl'),
      '--threads',
      '1',
      '--sandbox-workers',
      '1',
      '--no-sandbox-sympy',
    ]);
    expect(evaluated.status).toBe(0);
    expect(evaluated.stderr).toMatch(/--max-new-tokens 512 capped to \d+/);
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
