// Loading the PyTorch golden files (tools/fixtures/make_engine_fixtures.py) and comparing arrays
// with a tolerance relative to the reference's scale, printing the first mismatches side by side.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSafetensors, type Tensor } from '@siked/native-cuda';

export const FIXTURES = path.join(__dirname, 'fixtures', 'engine');
export const MODEL_NAMES = ['llama-gqa-tied', 'qwen2-bias-untied'] as const;

/** golden.json: inputs and scalars recorded by PyTorch. */
export interface GoldenJson {
  format: string;
  version: number;
  tokens: number[][];
  loss_mask: number[][];
  loss: number;
  grad_norm: number;
  adamw: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weight_decay: number;
    max_grad_norm: number;
  };
  lora: { rank: number; alpha: number; targets: string[]; loss: number };
}

export interface Golden {
  dir: string;
  json: GoldenJson;
  tensors: Map<string, Tensor>;
}

/** Reads a model's golden files and checks their format header. */
export function loadGolden(name: string): Golden {
  const dir = path.join(FIXTURES, name);
  const json = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as GoldenJson;
  if (json.format !== 'siked-engine-golden' || json.version !== 1) {
    throw new Error(`${dir}/golden.json: unknown format ${json.format} v${json.version}`);
  }
  const file = path.join(dir, 'golden.safetensors');
  return { dir, json, tensors: parseSafetensors(readFileSync(file), file) };
}

/** The batch of golden.json as the engine's TrainBatch arrays. */
export function goldenBatch(json: GoldenJson) {
  const batchSize = json.tokens.length;
  const seqLen = json.tokens[0].length;
  return {
    tokens: Int32Array.from(json.tokens.flat()),
    lossMask: Uint8Array.from(json.loss_mask.flat()),
    batchSize,
    seqLen,
  };
}

/**
 * Max |actual - expected| / max |expected| (a norm-wise relative error, robust to entries near 0).
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != expected ${expected.length}`);
  }
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? maxDiff : maxDiff / scale;
}

/** Throws with the first mismatching entries side by side when the relative error exceeds tol. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  const err = relativeError(actual, expected);
  if (!(err <= tol)) {
    let scale = 0;
    for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
    const rows: string[] = [];
    for (let i = 0; i < expected.length && rows.length < 5; i++) {
      if (Math.abs(actual[i] - expected[i]) > tol * scale) {
        rows.push(`  [${i}] engine ${actual[i]} vs torch ${expected[i]}`);
      }
    }
    throw new Error(`${what}: relative error ${err.toExponential(2)} > ${tol}\n${rows.join('\n')}`);
  }
}
