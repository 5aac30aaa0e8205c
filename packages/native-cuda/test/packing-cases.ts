// Packed vs unpacked batches of the same documents, shared by the CPU and CUDA packing tests.
import type { Model, TrainBatch } from '@siked/native-cuda';

/** A document: its ids and its loss mask (1 = a target token). */
export interface Document {
  ids: number[];
  mask: number[];
}

/** Documents of uneven lengths with prompt-then-target masks, ids below `vocab`. */
export function sampleDocuments(vocab: number, lengths: readonly number[], seed = 1): Document[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % vocab;
  };
  return lengths.map((length) => {
    const promptLength = Math.max(1, Math.floor(length / 3));
    return {
      ids: Array.from({ length }, next),
      mask: Array.from({ length }, (_, t) => (t >= promptLength ? 1 : 0)),
    };
  });
}

/** One document per row, right-padded with `pad` to the longest. */
export function unpackedBatch(documents: readonly Document[], pad = 0): TrainBatch {
  const seqLen = Math.max(...documents.map((d) => d.ids.length));
  const tokens = new Int32Array(documents.length * seqLen).fill(pad);
  const lossMask = new Uint8Array(documents.length * seqLen);
  documents.forEach((d, r) => {
    tokens.set(d.ids, r * seqLen);
    lossMask.set(d.mask, r * seqLen);
  });
  return { tokens, lossMask, batchSize: documents.length, seqLen };
}

/** `rows` lists document indices per row; rows are padded to seqLen with positions going on. */
export function packedBatch(
  documents: readonly Document[],
  rows: readonly number[][],
  seqLen: number,
  pad = 0,
): TrainBatch {
  const tokens = new Int32Array(rows.length * seqLen).fill(pad);
  const lossMask = new Uint8Array(rows.length * seqLen);
  const positions = new Int32Array(rows.length * seqLen);
  rows.forEach((row, r) => {
    let at = r * seqLen;
    let position = 0;
    for (const index of row) {
      const d = documents[index]!;
      tokens.set(d.ids, at);
      lossMask.set(d.mask, at);
      for (let t = 0; t < d.ids.length; t++) positions[at + t] = t;
      at += d.ids.length;
      position = d.ids.length;
    }
    // Padding continues the last document's positions: it comes after every real token.
    for (; at < (r + 1) * seqLen; at++) positions[at] = position++;
  });
  return { tokens, lossMask, batchSize: rows.length, seqLen, positions };
}

/** Loss, masked-token count and every gradient of one accumulate on a fresh step. */
export async function lossAndGradients(
  model: Model,
  batch: TrainBatch,
): Promise<{ loss: number; tokens: number; gradients: Map<string, Float32Array> }> {
  const { loss, tokens } = await model.accumulate(batch);
  const gradients = new Map<string, Float32Array>();
  const table = model.loraTable().length > 0 ? model.loraTable() : model.parameterTable();
  for (const { name } of table) gradients.set(name, model.getGradient(name));
  await model.step(0); // clears the accumulated gradients (learning rate 0 leaves the weights)
  return { loss, tokens, gradients };
}

/** Largest |a - b| / (atol + max |b|) over every gradient: the relative gap of two runs. */
export function worstGradientGap(
  a: Map<string, Float32Array>,
  b: Map<string, Float32Array>,
  atol = 1e-6,
): { name: string; gap: number } {
  let worst = { name: '', gap: 0 };
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(y[i]!));
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    }
    const gap = diff / (atol + scale);
    if (gap > worst.gap) worst = { name, gap };
  }
  return worst;
}
