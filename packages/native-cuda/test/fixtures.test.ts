// The engine against PyTorch golden files: logits, loss, every gradient, one AdamW step, LoRA.
import * as path from 'node:path';
import { Model } from '@siked/native-cuda';
import { expectClose, goldenBatch, loadGolden, MODEL_NAMES } from './golden';

// fp32 engine vs float64 reference: accumulated rounding stays well below 1e-4 of each tensor's
// scale on these tiny models.
const TOLERANCE = 1e-4;

describe.each(MODEL_NAMES)('%s against PyTorch', (name) => {
  const golden = loadGolden(name);
  const batch = goldenBatch(golden.json);
  let model: Model;

  beforeEach(async () => {
    model = await Model.fromPretrained(golden.dir, { threads: 2 });
  });
  afterEach(() => model.dispose());

  it('computes the same logits', async () => {
    const logits = await model.logits(batch.tokens, batch.batchSize, batch.seqLen);
    expectClose(logits, golden.tensors.get('logits')!.data, TOLERANCE, 'logits');
  });

  it('computes the same masked loss and the gradient of every parameter', async () => {
    const { loss, tokens } = await model.accumulate(batch);
    expect(tokens).toBe(
      golden.json.loss_mask.flatMap((row) => row.slice(1)).filter((m) => m).length,
    );
    expect(Math.abs(loss - golden.json.loss) / golden.json.loss).toBeLessThan(TOLERANCE);
    const table = model.parameterTable();
    expect(table.length).toBeGreaterThan(10);
    for (const { name: tensor } of table) {
      expectClose(
        model.getGradient(tensor),
        golden.tensors.get(`grad.${tensor}`)!.data,
        TOLERANCE,
        `grad ${tensor}`,
      );
    }
  });

  it('takes the same clipped AdamW step as torch.optim.AdamW', async () => {
    const o = golden.json.adamw;
    model.configureOptimizer({
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weight_decay,
      maxGradNorm: o.max_grad_norm,
    });
    const result = await model.trainStep([batch], o.lr);
    expect(Math.abs(result.gradNorm - golden.json.grad_norm) / golden.json.grad_norm).toBeLessThan(
      TOLERANCE,
    );
    for (const { name: tensor } of model.parameterTable()) {
      expectClose(
        model.getParameter(tensor),
        golden.tensors.get(`after_step.${tensor}`)!.data,
        TOLERANCE,
        `after step ${tensor}`,
      );
    }
  });

  it('computes the same LoRA logits and adapter gradients, with the base frozen', async () => {
    await model.loadLora(path.join(golden.dir, 'lora'));
    const logits = await model.logits(batch.tokens, batch.batchSize, batch.seqLen);
    expectClose(logits, golden.tensors.get('lora.logits')!.data, TOLERANCE, 'LoRA logits');
    const { loss } = await model.accumulate(batch);
    expect(Math.abs(loss - golden.json.lora.loss) / golden.json.lora.loss).toBeLessThan(TOLERANCE);
    const adapters = model.loraTable();
    expect(adapters.length).toBe(2 * golden.json.lora.targets.length * 2);
    for (const { name: tensor } of adapters) {
      expectClose(
        model.getGradient(tensor),
        golden.tensors.get(`lora.grad.${tensor}`)!.data,
        TOLERANCE,
        `grad ${tensor}`,
      );
    }
    expect(() => model.getGradient('model.norm.weight')).toThrow(/frozen/);
  });

  it('gives merged LoRA logits equal to the unmerged ones', async () => {
    await model.loadLora(path.join(golden.dir, 'lora'));
    const unmerged = await model.logits(batch.tokens, batch.batchSize, batch.seqLen);
    model.mergeLora();
    expect(model.loraTable()).toEqual([]);
    const merged = await model.logits(batch.tokens, batch.batchSize, batch.seqLen);
    expectClose(merged, unmerged, 1e-5, 'merged vs unmerged logits');
  });
});
