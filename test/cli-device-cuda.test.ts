// The CLI with --device cuda: logprobs, generate and eval through the CUDA backend agree with
// --device cpu on one checkpoint. Runs on the CUDA emulation build (npm run build:emulate), or
// on a GPU when the normal build sees one; skipped with a note without either, except under CI.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyntheticWorld } from '@siked/core';
import { Model, parseModelConfig } from '@siked/native-cuda';
import { jsonLines, siked, temporaryDirectory } from './helpers/cli';
import { writeStudentFolder } from './helpers/fixture-model';

const emulatedAddon = path.resolve(
  __dirname,
  '../packages/native-cuda/build-emulate/Release/siked_native.node',
);
const runs = existsSync(emulatedAddon) || process.env.CI === 'true';
if (!runs) {
  console.warn(`cli-device-cuda skipped: no emulation build at ${emulatedAddon}`);
}
const describeCuda = runs ? describe : describe.skip;

describeCuda('siked --device cuda (CUDA backend, emulated without a GPU)', () => {
  const { dir, cleanup } = temporaryDirectory('device-cuda');
  const modelDir = path.join(dir, 'model');
  const previous = process.env.SIKED_ADDON_PATH;
  let questions: string[] = [];

  beforeAll(async () => {
    process.env.SIKED_ADDON_PATH = emulatedAddon; // inherited by every `siked` child
    // The synthetic world's tokenizer with a decoder the CUDA kernels support (head_dim 64),
    // weights 8x HF's init so greedy decoding has clear winners under bf16.
    const world = buildSyntheticWorld('tiny', 3);
    const config = parseModelConfig({
      ...world.modelConfig,
      hidden_size: 128,
      intermediate_size: 128,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 64,
    });
    const model = Model.fromConfig(config, { seed: 3, threads: 1 });
    for (const { name } of model.parameterTable()) {
      if (!name.includes('norm'))
        model.setParameter(
          name,
          model.getParameter(name).map((x) => 8 * x),
        );
    }
    await writeStudentFolder(modelDir, model, world);
    questions = world.splits.test.slice(0, 3).map((p) => p.question);
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.SIKED_ADDON_PATH;
    else process.env.SIKED_ADDON_PATH = previous;
    cleanup();
  });

  it('info names the device as usable', () => {
    const result = siked(['info']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/devices usable: cpu, cuda \(--device cuda\)/);
  });

  it('logprobs: same tokens, log-probs within bf16 tolerance of the CPU engine', () => {
    const input = path.join(dir, 'texts.jsonl');
    fs.writeFileSync(input, questions.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const run = (device: string) =>
      siked(['logprobs', '--model', modelDir, '--input', input, '--device', device]);
    const [cpu, cuda] = [run('cpu'), run('cuda')];
    expect([cpu.status, cuda.status]).toEqual([0, 0]);
    type Line = { tokens: number[]; logprobs: Array<number | null> };
    const [a, c] = [jsonLines(cpu.stdout) as Line[], jsonLines(cuda.stdout) as Line[]];
    expect(c.map((l) => l.tokens)).toEqual(a.map((l) => l.tokens));
    let worst = 0;
    a.forEach((line, i) =>
      line.logprobs.forEach((lp, t) => {
        if (lp !== null) worst = Math.max(worst, Math.abs(lp - c[i].logprobs[t]!));
      }),
    );
    expect(worst).toBeGreaterThan(0); // really another backend
    expect(worst).toBeLessThan(0.15);
  });

  it('generate: greedy texts equal to the CPU engine', () => {
    const input = path.join(dir, 'questions.jsonl');
    fs.writeFileSync(
      input,
      questions.map((question, i) => JSON.stringify({ id: `q${i}`, question })).join('\n') + '\n',
    );
    const run = (device: string) =>
      siked([
        'generate',
        ...['--model', modelDir, '--input', input, '--device', device],
        ...['--temperature', '0', '--max-new-tokens', '12'],
      ]);
    const [cpu, cuda] = [run('cpu'), run('cuda')];
    expect([cpu.status, cuda.status]).toEqual([0, 0]);
    const texts = (out: string) => (jsonLines(out) as Array<{ text: string }>).map((l) => l.text);
    expect(texts(cuda.stdout)).toEqual(texts(cpu.stdout));
  });
});
