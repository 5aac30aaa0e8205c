// Checkpoints: HF layout round trips, fp16/bf16 weights, PEFT adapters, and clear errors for bad
// files and configs.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Model,
  ModelConfigError,
  parseModelConfig,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
} from '@siked/native-cuda';
import { expectClose, FIXTURES, goldenBatch, loadGolden } from './golden';
import { microConfig } from './micro';

const llamaDir = path.join(FIXTURES, 'llama-gqa-tied');
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'siked-engine-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the llama fixture's config with `weights` as its model.safetensors. */
function checkpointWith(name: string, weights: Buffer | string): string {
  const dir = path.join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  require('node:fs').mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(llamaDir, 'config.json'), path.join(dir, 'config.json'));
  const bytes = typeof weights === 'string' ? readFileSync(weights) : weights;
  writeFileSync(path.join(dir, 'model.safetensors'), bytes);
  return dir;
}

describe('safetensors', () => {
  it('decodes F16 and BF16 bit patterns exactly', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
    });
    const bytes = Buffer.alloc(8 + header.length + 14);
    bytes.writeBigUInt64LE(BigInt(header.length), 0);
    bytes.write(header, 8);
    const data = 8 + header.length;
    [0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00].forEach((h, i) =>
      bytes.writeUInt16LE(h, data + 2 * i),
    );
    [0x3f80, 0xc0a0].forEach((b, i) => bytes.writeUInt16LE(b, data + 10 + 2 * i));
    const tensors = parseSafetensors(bytes, 'hand.safetensors');
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, 65504, 2 ** -24, -Infinity]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -5]);
  });

  it('round-trips float32 tensors through its writer', () => {
    const data = Float32Array.from([1.5, -2.25, 3e-8, 7]);
    const bytes = serializeSafetensors([['x', { shape: [2, 2], data }]]);
    expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
    const back = parseSafetensors(bytes, 'x.safetensors').get('x')!;
    expect(back.shape).toEqual([2, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('names the file and the problem for truncated and corrupt files', () => {
    const whole = readFileSync(path.join(llamaDir, 'model.safetensors'));
    expect(() => parseSafetensors(whole.subarray(0, 4), 'a.safetensors')).toThrow(
      /a\.safetensors: truncated/,
    );
    expect(() => parseSafetensors(whole.subarray(0, whole.length - 100), 'b.safetensors')).toThrow(
      /b\.safetensors: truncated: tensor .* ends at byte/,
    );
    const corrupt = Buffer.from(whole);
    corrupt.write('{{{{', 8);
    expect(() => parseSafetensors(corrupt, 'c.safetensors')).toThrow(
      /c\.safetensors: corrupt header/,
    );
    const huge = Buffer.from(whole);
    huge.writeBigUInt64LE(1n << 60n, 0);
    expect(() => parseSafetensors(huge, 'd.safetensors')).toThrow(
      /d\.safetensors: corrupt: header length/,
    );
  });
});

describe('checkpoints', () => {
  const golden = loadGolden('llama-gqa-tied');
  const batch = goldenBatch(golden.json);

  it.each([
    ['model.f16.safetensors', 1e-3],
    ['model.bf16.safetensors', 8e-3],
  ])('loads %s weights (converted to fp32)', async (file, tolerance) => {
    const reference = await Model.fromPretrained(llamaDir);
    const half = await Model.fromPretrained(checkpointWith(file, path.join(llamaDir, file)));
    for (const { name } of reference.parameterTable()) {
      expectClose(half.getParameter(name), reference.getParameter(name), tolerance, name);
    }
    reference.dispose();
    half.dispose();
  });

  it('saves an HF checkpoint that loads back with identical logits (tied: no lm_head)', async () => {
    const model = await Model.fromPretrained(path.join(FIXTURES, 'qwen2-bias-untied'));
    const dir = path.join(scratch, 'saved-qwen2');
    await model.save(dir);
    const names = [
      ...parseSafetensors(readFileSync(path.join(dir, 'model.safetensors')), 'saved').keys(),
    ];
    expect(names).toContain('lm_head.weight');
    expect(names).toContain('model.layers.1.self_attn.k_proj.bias');
    const again = await Model.fromPretrained(dir);
    expect(again.config.model_type).toBe('qwen2');
    const tokens = Int32Array.from([1, 2, 3, 4, 5]);
    expect(await again.logits(tokens, 1, 5)).toEqual(await model.logits(tokens, 1, 5));
    model.dispose();
    again.dispose();

    const tied = Model.fromConfig(microConfig({ tie_word_embeddings: true }), { seed: 2 });
    await tied.save(path.join(scratch, 'saved-tied'));
    const tiedNames = parseSafetensors(
      readFileSync(path.join(scratch, 'saved-tied', 'model.safetensors')),
      't',
    );
    expect(tiedNames.has('lm_head.weight')).toBe(false);
    tied.dispose();
  });

  it('saves LoRA adapters in the PEFT layout and merges them into a saved checkpoint', async () => {
    const model = await Model.fromPretrained(llamaDir);
    await model.loadLora(path.join(llamaDir, 'lora'));
    const withLora = await model.logits(batch.tokens, batch.batchSize, batch.seqLen);
    const adapterDir = path.join(scratch, 'adapter');
    await model.saveLora(adapterDir);
    const adapterConfig = JSON.parse(
      readFileSync(path.join(adapterDir, 'adapter_config.json'), 'utf8'),
    );
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });
    const adapters = parseSafetensors(
      readFileSync(path.join(adapterDir, 'adapter_model.safetensors')),
      'a',
    );
    expect(
      adapters.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape,
    ).toEqual([4, 32]);
    await model.save(path.join(scratch, 'merged'));
    const merged = await Model.fromPretrained(path.join(scratch, 'merged'));
    expectClose(
      await merged.logits(batch.tokens, batch.batchSize, batch.seqLen),
      withLora,
      1e-5,
      'merged',
    );
    const reloaded = await Model.fromPretrained(llamaDir);
    await reloaded.loadLora(adapterDir);
    expect(await reloaded.logits(batch.tokens, batch.batchSize, batch.seqLen)).toEqual(withLora);
    for (const m of [model, merged, reloaded]) m.dispose();
  });

  it('rejects weights that do not match config.json, naming the tensor', async () => {
    const dir = checkpointWith('mismatch', path.join(llamaDir, 'model.safetensors'));
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...config, intermediate_size: 40 }),
    );
    await expect(Model.fromPretrained(dir)).rejects.toThrow(
      /model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48, 32\] but config\.json implies \[40, 32\]/,
    );
    const tensors = parseSafetensors(readFileSync(path.join(llamaDir, 'model.safetensors')), 'm');
    tensors.delete('model.norm.weight');
    const missing = checkpointWith('missing', serializeSafetensors(tensors));
    await expect(Model.fromPretrained(missing)).rejects.toThrow(
      /missing 1 tensor\(s\): model\.norm\.weight/,
    );
    const truncated = checkpointWith(
      'truncated',
      readFileSync(path.join(llamaDir, 'model.safetensors')).subarray(0, 5000),
    );
    await expect(Model.fromPretrained(truncated)).rejects.toThrow(SafetensorsError);
  });

  it('rejects unknown architectures and bad config fields with the file and field named', async () => {
    expect(() =>
      parseModelConfig({ ...microConfig(), architectures: ['GPT2LMHeadModel'] }, 'x/config.json'),
    ).toThrow(/x\/config\.json: unsupported architecture \["GPT2LMHeadModel"\]/);
    expect(() => parseModelConfig({ ...microConfig(), num_key_value_heads: 3 }, 'y.json')).toThrow(
      /y\.json: field "num_key_value_heads" must be a divisor/,
    );
    expect(() => Model.fromConfig({ ...microConfig(), hidden_size: -8 }, { seed: 1 })).toThrow(
      ModelConfigError,
    );
    const dir = checkpointWith('gpt2', path.join(llamaDir, 'model.safetensors'));
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ architectures: ['GPT2LMHeadModel'] }),
    );
    await expect(Model.fromPretrained(dir)).rejects.toThrow(
      /config\.json: unsupported architecture/,
    );
    await expect(Model.fromPretrained(path.join(scratch, 'nowhere'))).rejects.toThrow(
      /nowhere\/config\.json: cannot read/,
    );
  });
});
