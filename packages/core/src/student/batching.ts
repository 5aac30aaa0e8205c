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
  /**
   * Packed rows only: position ids restarting at 0 for each example, so the engine keeps every
   * example's attention to itself (see the engine's TrainBatch.positions).
   */
  positions?: Int32Array;
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

/** One joined example (packExample's result). */
export interface JoinedExample {
  ids: number[];
  mask: number[];
}

/**
 * Lays rows out for the engine, padded to the longest row. Each row is one example, or with
 * `packed` several examples back to back, which get position ids restarting per example.
 */
export function makeMicroBatch(
  rows: ReadonlyArray<ReadonlyArray<JoinedExample>>,
  padId: number,
  packed = false,
): MicroBatch {
  const rowLengths = rows.map((row) => row.reduce((sum, example) => sum + example.ids.length, 0));
  const seqLen = Math.max(...rowLengths);
  const tokens = new Int32Array(rows.length * seqLen).fill(padId);
  const lossMask = new Uint8Array(rows.length * seqLen);
  const positions = packed ? new Int32Array(rows.length * seqLen) : undefined;
  let realTokens = 0;
  let targetTokens = 0;
  rows.forEach((row, r) => {
    let at = r * seqLen;
    for (const example of row) {
      tokens.set(example.ids, at);
      lossMask.set(example.mask, at);
      if (positions) for (let t = 0; t < example.ids.length; t++) positions[at + t] = t;
      at += example.ids.length;
      realTokens += example.ids.length;
      targetTokens += example.mask.reduce((sum, m) => sum + m, 0);
    }
    // Padding keeps position 0: each padding token is a one-token document of its own, so no
    // example's attention grows by the padding after it (the array is already zeros).
  });
  return {
    tokens,
    lossMask,
    batchSize: rows.length,
    seqLen,
    ...(positions ? { positions } : {}),
    realTokens,
    targetTokens,
  };
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

/** How many examples are packed together (best-fit decreasing within a shuffled window). */
const PACKING_WINDOW_EXAMPLES = 2048;

/**
 * One epoch's micro-batches of packed rows: the examples are shuffled (seeded), cut into windows,
 * and each window is packed best-fit decreasing into rows of at most `rowLength` tokens (an
 * example never spans two rows); rows are chunked into micro-batches of `rowsPerBatch` and the
 * batch order is shuffled. Every length must be <= rowLength. Returns, per micro-batch, its rows
 * as indices into `lengths`.
 */
export function packedBatchOrder(
  lengths: readonly number[],
  rowLength: number,
  rowsPerBatch: number,
  seed: number,
): number[][][] {
  const order = shuffledIndices(lengths.length, seed);
  const rows: Array<{ free: number; members: number[] }> = [];
  for (let start = 0; start < order.length; start += PACKING_WINDOW_EXAMPLES) {
    const window = order
      .slice(start, start + PACKING_WINDOW_EXAMPLES)
      .sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    const open: Array<{ free: number; members: number[] }> = [];
    for (const index of window) {
      const length = lengths[index]!;
      if (length > rowLength)
        throw new RangeError(
          `example ${index} has ${length} tokens, more than a row's ${rowLength}`,
        );
      let best: { free: number; members: number[] } | undefined;
      for (const row of open) if (row.free >= length && (!best || row.free < best.free)) best = row;
      if (!best) {
        best = { free: rowLength, members: [] };
        open.push(best);
      }
      best.members.push(index);
      best.free -= length;
    }
    rows.push(...open);
  }
  // Micro-batches are padded to their fullest row: batch rows of similar fill together (the few
  // part-filled rows with each other), then shuffle the batches.
  const rowOrder = shuffledIndices(rows.length, seed ^ 0x27d4eb2f).sort(
    (a, b) => rows[a]!.free - rows[b]!.free,
  );
  const batches: number[][][] = [];
  for (let i = 0; i < rowOrder.length; i += rowsPerBatch)
    batches.push(rowOrder.slice(i, i + rowsPerBatch).map((r) => rows[r]!.members));
  const batchOrder = shuffledIndices(batches.length, seed ^ 0x5bd1e995);
  return batchOrder.map((i) => batches[i]!);
}
