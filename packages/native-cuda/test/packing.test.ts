// Sequence packing on the CPU engine: documents packed into shared rows train exactly as the same
// documents one per row (block-diagonal causal attention, positions restarting per document).
import { Model } from '@siked/native-cuda';
import { microConfig, sharpenWeights } from './micro';
import {
  lossAndGradients,
  packedBatch,
  sampleDocuments,
  unpackedBatch,
  worstGradientGap,
} from './packing-cases';

const documents = sampleDocuments(16, [7, 3, 11, 5, 9, 4], 3);

/** Sharpened weights: attention far from uniform, so a leak across documents shows. */
function scaledModel(seed: number): Model {
  return sharpenWeights(
    Model.fromConfig(microConfig({ max_position_embeddings: 256 }), { seed, threads: 2 }),
  );
}

type Run = Awaited<ReturnType<typeof lossAndGradients>>;

/** Same masked tokens, loss to 1e-5 and every gradient to 1e-4 relative. */
function expectSameTraining(packed: Run, unpacked: Run): void {
  expect(packed.tokens).toBe(unpacked.tokens);
  expect(Math.abs(packed.loss - unpacked.loss)).toBeLessThan(1e-5 * unpacked.loss);
  expect(worstGradientGap(packed.gradients, unpacked.gradients).gap).toBeLessThan(1e-4);
}

describe('sequence packing (CPU engine)', () => {
  it('gives the loss and gradients of the same documents unpacked', async () => {
    const model = scaledModel(11);
    const unpacked = await lossAndGradients(model, unpackedBatch(documents));
    for (const layout of [
      { rows: [[0, 1, 2, 3, 4, 5]], seqLen: 40 }, // everything in one row, padding at the end
      { rows: [[2, 0], [5, 1, 3], [4]], seqLen: 20 }, // three rows, reordered
    ]) {
      const packed = await lossAndGradients(
        model,
        packedBatch(documents, layout.rows, layout.seqLen),
      );
      expectSameTraining(packed, unpacked);
    }
    model.dispose();
  });

  it('matches when documents cross the 64-row attention blocks (skipped key blocks)', async () => {
    const model = scaledModel(16);
    const long = sampleDocuments(16, [37, 50, 29, 45, 70, 20], 5);
    const unpacked = await lossAndGradients(model, unpackedBatch(long));
    // Row 0: 37 + 50 + 29 + 45 = 161 tokens, so blocks 2 and 3 start inside documents 1 and 3.
    const packed = await lossAndGradients(
      model,
      packedBatch(
        long,
        [
          [0, 1, 2, 3],
          [4, 5],
        ],
        170,
      ),
    );
    expectSameTraining(packed, unpacked);
    model.dispose();
  });

  it('matches with LoRA adapters too', async () => {
    const model = scaledModel(12);
    model.enableLora({ rank: 2, alpha: 4, targets: ['q_proj', 'v_proj', 'down_proj'], seed: 2 });
    // B starts at zero: give it values so the adapter path carries signal.
    for (const { name } of model.loraTable()) {
      const w = model.getParameter(name);
      model.setParameter(
        name,
        w.map((_, i) => 0.3 * Math.sin(i + 1)),
      );
    }
    const unpacked = await lossAndGradients(model, unpackedBatch(documents));
    const packed = await lossAndGradients(
      model,
      packedBatch(
        documents,
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        24,
      ),
    );
    expectSameTraining(packed, unpacked);
    model.dispose();
  });

  it('differs when documents are joined without positions (the mask matters)', async () => {
    const model = scaledModel(13);
    const packed = packedBatch(documents, [[0, 1, 2, 3, 4, 5]], 40);
    const apart = await lossAndGradients(model, packed);
    const { positions: _dropped, ...joined } = packed;
    const together = await lossAndGradients(model, joined);
    // Without positions the first token of each document becomes a target and attends backwards.
    expect(together.tokens).toBeGreaterThanOrEqual(apart.tokens);
    expect(Math.abs(together.loss - apart.loss)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('never trains on predicting the next document from the last one', async () => {
    const model = scaledModel(14);
    // Mask every token, document starts included: those cannot be targets of a packed row.
    const all = documents.slice(0, 2).map((d) => ({ ids: d.ids, mask: d.ids.map(() => 1) }));
    const packed = await model.accumulate(packedBatch(all, [[0, 1]], 10));
    expect(packed.tokens).toBe(all[0]!.ids.length - 1 + all[1]!.ids.length - 1);
    await model.step(0);
    model.dispose();
  });

  it('rejects positions that do not count up within a document, naming the entry', async () => {
    const model = scaledModel(15);
    const batch = packedBatch(documents, [[0, 1]], 12);
    const bad = Int32Array.from(batch.positions!);
    bad[4] = 7;
    await expect(model.accumulate({ ...batch, positions: bad })).rejects.toThrow(
      /batch\.positions\[4\]/,
    );
    await expect(model.accumulate({ ...batch, positions: new Int32Array(3) })).rejects.toThrow(
      /batch\.positions/,
    );
    model.dispose();
  });
});
