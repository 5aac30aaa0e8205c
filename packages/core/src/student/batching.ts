import prand from 'pure-rand';

/** A tokenized training example: prompt tokens are context only, target tokens are learned. */
export interface TokenizedExample {
  promptIds: number[];
  /** Target ids including the final end-of-sequence id. */
  targetIds: number[];
}

/** A padded micro-batch in the engine's layout (row-major [batchSize, seqLen]). */
export interface MicroBatch {
  tokens: Int32Array;
  /** 1 where the token is a target token (its prediction is trained), 0 for prompt and padding. */
  lossMask: Uint8Array;
  batchSize: number;
  seqLen: number;
  /** Non-padding tokens. */
  realTokens: number;
  /** Target tokens (sum of the mask). */
  targetTokens: number;
}

/** Joins prompt and target into one sequence with the target-only loss mask, cut to maxLength. */
export function packExample(
  example: TokenizedExample,
  maxLength: number,
): { ids: number[]; mask: number[]; truncated: boolean } {
  const ids = [...example.promptIds, ...example.targetIds];
  const mask = [...example.promptIds.map(() => 0), ...example.targetIds.map(() => 1)];
  const truncated = ids.length > maxLength;
  return { ids: ids.slice(0, maxLength), mask: mask.slice(0, maxLength), truncated };
}

/** Pads packed rows to their longest one and lays them out for the engine. */
export function makeMicroBatch(
  rows: ReadonlyArray<{ ids: number[]; mask: number[] }>,
  padId: number,
): MicroBatch {
  const seqLen = Math.max(...rows.map((row) => row.ids.length));
  const tokens = new Int32Array(rows.length * seqLen).fill(padId);
  const lossMask = new Uint8Array(rows.length * seqLen);
  let realTokens = 0;
  let targetTokens = 0;
  rows.forEach((row, r) => {
    tokens.set(row.ids, r * seqLen);
    lossMask.set(row.mask, r * seqLen);
    realTokens += row.ids.length;
    targetTokens += row.mask.reduce((sum, m) => sum + m, 0);
  });
  return { tokens, lossMask, batchSize: rows.length, seqLen, realTokens, targetTokens };
}

/** Seeded Fisher-Yates shuffle of 0..n-1 (pure-rand xoroshiro128+). */
export function shuffledIndices(n: number, seed: number): number[] {
  const rng = prand.xoroshiro128plus(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = prand.unsafeUniformIntDistribution(0, i, rng);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** How many consecutive micro-batches' worth of examples are length-sorted together. */
const BUCKET_WINDOW_BATCHES = 32;

/**
 * One epoch's micro-batches, bucketed by length: the examples are shuffled (seeded), cut into
 * windows of BUCKET_WINDOW_BATCHES * microBatchSize, each window is sorted by length and chunked
 * into micro-batches (so rows of a batch have similar lengths and padding stays small), and the
 * batch order is shuffled again so lengths do not drift through the epoch. Returns indices into
 * `lengths`.
 */
export function bucketedBatchOrder(
  lengths: readonly number[],
  microBatchSize: number,
  seed: number,
): number[][] {
  const order = shuffledIndices(lengths.length, seed);
  const windowSize = BUCKET_WINDOW_BATCHES * microBatchSize;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += windowSize) {
    const window = order
      .slice(start, start + windowSize)
      .sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    for (let i = 0; i < window.length; i += microBatchSize)
      batches.push(window.slice(i, i + microBatchSize));
  }
  const batchOrder = shuffledIndices(batches.length, seed ^ 0x5bd1e995);
  return batchOrder.map((i) => batches[i]!);
}
