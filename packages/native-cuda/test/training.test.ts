// Training invariants without PyTorch: finite differences, accumulation, argument checks.
import { Model, type TrainBatch } from '@siked/native-cuda';
import { logSoftmaxRows, microConfig, sharpenWeights } from './micro';

const V = 16;

function batchOf(rows: number[][], masks: number[][]): TrainBatch {
  return {
    tokens: Int32Array.from(rows.flat()),
    lossMask: Uint8Array.from(masks.flat()),
    batchSize: rows.length,
    seqLen: rows[0].length,
  };
}

const rows = [
  [1, 5, 9, 3, 7, 2],
  [4, 4, 0, 15, 8, 6],
  [11, 2, 13, 6, 1, 9],
  [3, 14, 7, 10, 12, 5],
];
const masks = [
  [0, 0, 1, 1, 1, 1],
  [0, 1, 1, 1, 0, 0],
  [0, 0, 0, 1, 1, 1],
  [0, 1, 1, 1, 1, 1],
];

/** Mean masked cross-entropy from model.logits (float64 in JS), the quantity accumulate trains. */
async function lossFromLogits(model: Model, batch: TrainBatch): Promise<number> {
  const logp = logSoftmaxRows(await model.logits(batch.tokens, batch.batchSize, batch.seqLen), V);
  let sum = 0;
  let count = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    for (let t = 1; t < batch.seqLen; t++) {
      const i = b * batch.seqLen + t;
      if (!batch.lossMask[i]) continue;
      sum -= logp[(i - 1) * V + batch.tokens[i]];
      count++;
    }
  }
  return sum / count;
}

describe('training', () => {
  it('has gradients that match central finite differences of the loss', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 7, threads: 1 });
    // Weights 10x HF's init so every path carries signal (norm weights stay at 1).
    sharpenWeights(model);
    const batch = batchOf(rows.slice(0, 2), masks.slice(0, 2));
    await model.accumulate(batch);
    const h = 3e-3;
    let checked = 0;
    for (const { name } of model.parameterTable()) {
      const analytic = model.getGradient(name);
      const base = model.getParameter(name);
      for (const index of [0, Math.floor(base.length / 2), base.length - 1]) {
        const plus = base.slice();
        plus[index] += h;
        model.setParameter(name, plus);
        const lossPlus = await lossFromLogits(model, batch);
        const minus = base.slice();
        minus[index] -= h;
        model.setParameter(name, minus);
        const lossMinus = await lossFromLogits(model, batch);
        model.setParameter(name, base);
        const numeric = (lossPlus - lossMinus) / (2 * h);
        const tolerance = 2e-4 + 2e-2 * Math.abs(numeric);
        if (!(Math.abs(numeric - analytic[index]) <= tolerance)) {
          throw new Error(`${name}[${index}]: analytic ${analytic[index]} vs numeric ${numeric}`);
        }
        checked++;
      }
    }
    expect(checked).toBe(3 * model.parameterTable().length);
    model.dispose();
  });

  it('keeps loss and attention gradients right past one 64-row attention block', async () => {
    const model = Model.fromConfig(microConfig({ max_position_embeddings: 160 }), {
      seed: 4,
      threads: 2,
    });
    sharpenWeights(model);
    const T = 150;
    const tokens = Int32Array.from({ length: 2 * T }, (_, i) => (i * 7 + (i >> 3)) % V);
    const lossMask = Uint8Array.from({ length: 2 * T }, (_, i) => (i % T > 20 ? 1 : 0));
    const batch = { tokens, lossMask, batchSize: 2, seqLen: T };
    const { loss } = await model.accumulate(batch);
    // The training forward and the KV-cached forward are separate code paths.
    expect(Math.abs(loss - (await lossFromLogits(model, batch)))).toBeLessThan(1e-5);
    const h = 3e-3;
    for (const name of ['q_proj', 'k_proj', 'v_proj'].map(
      (p) => `model.layers.0.self_attn.${p}.weight`,
    )) {
      const analytic = model.getGradient(name);
      const base = model.getParameter(name);
      for (const index of [1, base.length - 2]) {
        const shifted = (delta: number) => {
          const w = base.slice();
          w[index] += delta;
          model.setParameter(name, w);
          return lossFromLogits(model, batch);
        };
        const numeric = ((await shifted(h)) - (await shifted(-h))) / (2 * h);
        model.setParameter(name, base);
        expect(Math.abs(numeric - analytic[index])).toBeLessThan(2e-4 + 2e-2 * Math.abs(numeric));
      }
    }
    model.dispose();
  });

  it('gives the same step for one batch of 4 and four micro-batches of 1', async () => {
    const whole = Model.fromConfig(microConfig(), { seed: 3, threads: 2 });
    const split = Model.fromConfig(microConfig(), { seed: 3, threads: 1 });
    for (const m of [whole, split]) m.configureOptimizer({ weightDecay: 0.1, maxGradNorm: 0.05 });
    const a = await whole.trainStep([batchOf(rows, masks)], 1e-2);
    const b = await split.trainStep(
      rows.map((r, i) => batchOf([r], [masks[i]])),
      1e-2,
    );
    expect(b.tokens).toBe(a.tokens);
    expect(b.loss).toBeCloseTo(a.loss, 6);
    expect(b.gradNorm).toBeCloseTo(a.gradNorm, 6);
    expect(a.gradNorm).toBeGreaterThan(0.05); // the clip was active
    for (const { name } of whole.parameterTable()) {
      const x = whole.getParameter(name);
      const y = split.getParameter(name);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-6);
    }
    whole.dispose();
    split.dispose();
  });

  it('lowers the loss when it trains on one batch', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 5 });
    const batch = batchOf(rows, masks);
    const first = await model.trainStep([batch], 3e-2);
    let last = first;
    for (let i = 0; i < 30; i++) last = await model.trainStep([batch], 3e-2);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    model.dispose();
  });

  it('rejects bad batches with messages naming the argument', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 1 });
    const good = batchOf(rows, masks);
    await expect(model.accumulate({ ...good, batchSize: 0 })).rejects.toThrow(
      'Expected positive integer for batch.batchSize but received 0',
    );
    await expect(
      model.accumulate({ ...good, tokens: Int32Array.from([...good.tokens.slice(1), 99]) }),
    ).rejects.toThrow(/batch\.tokens\[23\] but received 99/);
    await expect(model.accumulate({ ...good, lossMask: new Uint8Array(3) })).rejects.toThrow(
      /batch\.lossMask/,
    );
    await expect(model.step(1e-3)).rejects.toThrow(/no masked tokens were accumulated/);
    await expect(model.step(-1)).rejects.toThrow(
      'Expected number >= 0 for learningRate but received -1',
    );
    model.dispose();
    expect(() => model.getParameter('model.norm.weight')).toThrow(/disposed/);
  });

  it('trains only the LoRA adapters and keeps the base frozen', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 9 });
    const before = model.getParameter('model.layers.0.self_attn.q_proj.weight');
    model.enableLora({ rank: 2, alpha: 4, targets: ['q_proj', 'up_proj'], seed: 1 });
    const names = model.loraTable().map((t) => t.name);
    expect(names).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(names).toContain('base_model.model.model.layers.1.mlp.up_proj.lora_B.weight');
    const batch = batchOf(rows, masks);
    const first = await model.trainStep([batch], 1e-2);
    let last = first;
    for (let i = 0; i < 10; i++) last = await model.trainStep([batch], 1e-2);
    expect(last.loss).toBeLessThan(first.loss);
    expect(model.getParameter('model.layers.0.self_attn.q_proj.weight')).toEqual(before);
    expect(() => model.enableLora({ rank: 2, alpha: 4, targets: ['q_proj'], seed: 1 })).toThrow(
      /already enabled/,
    );
    expect(() => model.mergeLora()).not.toThrow();
    expect(model.getParameter('model.layers.0.self_attn.q_proj.weight')).not.toEqual(before);
    model.dispose();
  });
});
