// logprobs, generate and eval on a tiny real (untrained) checkpoint of the synthetic world.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonLines, siked, temporaryDirectory } from './helpers/cli';
import { writeTinyModel, type TinyModelFixture } from './helpers/fixture-model';

describe('siked logprobs | generate | eval (built CLI, tiny model)', () => {
  const { dir, cleanup } = temporaryDirectory('model');
  let fixture: TinyModelFixture;
  beforeAll(async () => {
    fixture = await writeTinyModel(dir);
  });
  afterAll(cleanup);

  it('logprobs: one line per text, tokens as the tokenizer encodes them, null first', () => {
    const input = path.join(dir, 'texts.jsonl');
    const texts = fixture.problems.slice(0, 3).map((p) => p.question);
    fs.writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const result = siked([
      'logprobs',
      '--model',
      fixture.modelDir,
      '--input',
      input,
      '--threads',
      '1',
    ]);
    expect(result.status).toBe(0);
    const lines = jsonLines(result.stdout) as Array<{
      text: string;
      tokens: number[];
      logprobs: Array<number | null>;
    }>;
    expect(lines.map((l) => l.text)).toEqual(texts);
    const vocab = JSON.parse(fs.readFileSync(path.join(fixture.modelDir, 'tokenizer.json'), 'utf8'))
      .model.vocab;
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['logprobs', 'text', 'tokens']);
      // Exactly the ids the tokenizer.json encodes (checked against the world's own encoder).
      expect(line.tokens).toEqual(fixture.encode(line.text));
      expect(line.tokens.length).toBeGreaterThan(3);
      expect(line.logprobs).toHaveLength(line.tokens.length);
      expect(line.logprobs[0]).toBeNull();
      for (const value of line.logprobs.slice(1)) {
        expect(value).toBeLessThanOrEqual(0);
        // An untrained model is near uniform over its vocabulary.
        expect(value!).toBeGreaterThan(-3 * Math.log(Object.keys(vocab).length));
      }
    }
  });

  it('logprobs: exits 2 naming the file, line and field of a bad record', () => {
    const input = path.join(dir, 'bad-texts.jsonl');
    fs.writeFileSync(input, '{"text":"ok"}\n{"txt":"typo"}\n');
    const result = siked(['logprobs', '--model', fixture.modelDir, '--input', input]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${input}:2: field "text": missing`);
  });

  it('generate: k samples per prompt with the student format read back', () => {
    const input = path.join(dir, 'questions.jsonl');
    fs.writeFileSync(
      input,
      fixture.problems
        .slice(0, 2)
        .map((p) => JSON.stringify({ id: p.id, question: p.question }))
        .join('\n') + '\n',
    );
    const args = ['generate', '--model', fixture.modelDir, '--input', input, '--num-samples', '2'];
    const result = siked([...args, '--temperature', '0.7', '--max-new-tokens', '8', '--seed', '5']);
    expect(result.status).toBe(0);
    const lines = jsonLines(result.stdout) as Array<Record<string, unknown>>;
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => [l.id, l.sampleIndex])).toEqual([
      [fixture.problems[0].id, 0],
      [fixture.problems[0].id, 1],
      [fixture.problems[1].id, 0],
      [fixture.problems[1].id, 1],
    ]);
    for (const line of lines) {
      expect(typeof line.text).toBe('string');
      expect(['stop', 'length']).toContain(line.finishReason);
      expect(line.tokenCount as number).toBeLessThanOrEqual(8);
      expect('strategy' in line).toBe(true);
    }
    // Same seed, same texts.
    const again = siked([...args, '--temperature', '0.7', '--max-new-tokens', '8', '--seed', '5']);
    expect(again.stdout).toBe(result.stdout);
  });

  it('eval: accuracy, per-strategy figures and a predictions file for every problem', () => {
    const predictions = path.join(dir, 'predictions.jsonl');
    const result = siked([
      'eval',
      '--model',
      fixture.modelDir,
      '--data',
      fixture.problemsFile,
      '--format',
      'problems',
      '--strategy',
      'pot',
      '--max-new-tokens',
      '16',
      '--out',
      predictions,
      '--json',
      '--sandbox-workers',
      '1',
      '--no-sandbox-sympy',
    ]);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.accuracy.total).toBe(fixture.problems.length);
    expect(report.accuracy.byStrategy.pot.count).toBe(fixture.problems.length);
    expect(report.accuracy.byStrategy.cot.count).toBe(0);
    expect(report.accuracy).toMatchObject({
      strictAccuracy: expect.any(Number),
      flexibleAccuracy: expect.any(Number),
    });
    const lines = jsonLines(fs.readFileSync(predictions, 'utf8')) as Array<Record<string, unknown>>;
    expect(lines.map((l) => l.problemId)).toEqual(fixture.problems.map((p) => p.id));
    for (const line of lines) {
      expect(line.strategy).toBe('pot');
      expect(typeof line.correct).toBe('boolean');
      expect(line.correct === false ? typeof line.error : 'ok').toMatch(/string|ok/);
    }
  });

  it('eval: exits 2 when the model folder is not a checkpoint', () => {
    const result = siked(['eval', '--model', dir, '--data', fixture.problemsFile]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no config.json in the folder');
  });
});
