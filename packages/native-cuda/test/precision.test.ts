// Mixed-precision training on the CPU engine (LoadOptions.precision 'bf16'): what runs, how close
// it stays to float32, and that it really rounds (the kernels themselves are checked against
// their plain reference in tools/kernels-lab/gemm_check, test/kernels/gemm.test.ts).
import { Model, type TrainBatch } from '@siked/native-cuda';
import { microConfig, relativeL2Error } from './micro';

// Big enough for the packed GEMM path (more than 32 rows) on every projection and the head.
const config = microConfig({
  vocab_size: 96,
  hidden_size: 64,
  intermediate_size: 160,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
});

function batch(seed: number): TrainBatch {
  const B = 3;
  const T = 40;
  const tokens = new Int32Array(B * T);
  let s = seed;
  for (let i = 0; i < tokens.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    tokens[i] = s % config.vocab_size;
  }
  return { tokens, lossMask: new Uint8Array(B * T).fill(1), batchSize: B, seqLen: T };
}

const BF16_KERNELS = ['amx', 'avx512bf16'];
const FP32_KERNELS = ['avx512', 'avx2', 'scalar'];

describe('mixed precision (LoadOptions.precision)', () => {
  it('says which kernel runs: float32 by default, a bf16 one when asked (or the float32 fallback)', () => {
    const fp32 = Model.fromConfig(config, { seed: 1 });
    const bf16 = Model.fromConfig(config, { seed: 1, precision: 'bf16' });
    expect(fp32.precision).toBe('fp32');
    expect(FP32_KERNELS).toContain(fp32.matmulKernel);
    expect(bf16.precision).toBe('bf16');
    expect([...BF16_KERNELS, ...FP32_KERNELS]).toContain(bf16.matmulKernel);
    fp32.dispose();
    bf16.dispose();
  });

  it('rejects an unknown precision, naming the option', () => {
    expect(() =>
      Model.fromConfig(config, { seed: 1, precision: 'fp16' as unknown as 'bf16' }),
    ).toThrow(/precision/);
  });

  it('keeps loss and gradients within bf16 rounding of float32, and does round', async () => {
    const fp32 = Model.fromConfig(config, { seed: 2 });
    const bf16 = Model.fromConfig(config, { seed: 2, precision: 'bf16' });
    const b = batch(7);
    const lossFp32 = (await fp32.accumulate(b)).loss;
    const lossBf16 = (await bf16.accumulate(b)).loss;
    expect(Math.abs(lossBf16 - lossFp32) / lossFp32).toBeLessThan(1e-2);
    for (const name of [
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.1.mlp.down_proj.weight',
      'lm_head.weight',
    ]) {
      const gFp32 = fp32.getGradient(name);
      const gBf16 = bf16.getGradient(name);
      const rel = relativeL2Error(gBf16, gFp32);
      expect(rel).toBeLessThan(5e-2);
      // bf16 operands carry 8 significant bits: a real bf16 kernel cannot match float32 to 1e-4.
      if (BF16_KERNELS.includes(bf16.matmulKernel)) expect(rel).toBeGreaterThan(1e-4);
      else expect(rel).toBeLessThan(1e-5);
    }
    fp32.dispose();
    bf16.dispose();
  });

  it('keeps LoRA adapter gradients within bf16 rounding of float32', async () => {
    const models = (['fp32', 'bf16'] as const).map((precision) => {
      const model = Model.fromConfig(config, { seed: 4, precision });
      model.enableLora({ rank: 4, alpha: 8, targets: ['q_proj', 'down_proj'], seed: 5 });
      // B starts at 0 (PEFT); give it values so the A gradients are not 0 too.
      for (const { name } of model.loraTable()) {
        if (name.includes('lora_B')) {
          model.setParameter(
            name,
            model.getParameter(name).map((_, i) => 0.02 * Math.sin(i + 1)),
          );
        }
      }
      return model;
    });
    const b = batch(11);
    for (const model of models) await model.accumulate(b);
    const [fp32, bf16] = models;
    for (const { name } of fp32.loraTable()) {
      const rel = relativeL2Error(bf16.getGradient(name), fp32.getGradient(name));
      expect(rel).toBeLessThan(5e-2);
      if (BF16_KERNELS.includes(bf16.matmulKernel)) expect(rel).toBeGreaterThan(1e-5);
    }
    for (const model of models) model.dispose();
  });

  it('trains down the same loss curve as float32', async () => {
    const curves: number[][] = [];
    for (const precision of ['fp32', 'bf16'] as const) {
      const model = Model.fromConfig(config, { seed: 3, precision });
      model.configureOptimizer({ maxGradNorm: 1 });
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        losses.push((await model.trainStep([batch(100 + (step % 3))], 3e-3)).loss);
      }
      curves.push(losses);
      model.dispose();
    }
    const [fp32, bf16] = curves;
    expect(fp32[29]).toBeLessThan(0.8 * fp32[0]);
    for (let step = 0; step < 30; step++) {
      expect(Math.abs(bf16[step] - fp32[step]) / fp32[step]).toBeLessThan(3e-2);
    }
  });
});
