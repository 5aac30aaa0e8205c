import {
  bucketedBatchOrder,
  packedBatchOrder,
  learningRateAt,
  makeMicroBatch,
  packExample,
  shuffledIndices,
  validateSchedule,
  type TrainingSchedule,
} from '../../src';

const schedule: TrainingSchedule = {
  epochs: 1,
  learningRate: 1e-3,
  warmupRatio: 0.2,
  minLearningRateRatio: 0.1,
  microBatchSize: 2,
  gradientAccumulation: 1,
  maxSequenceLength: 8,
  seed: 1,
};

describe('learning-rate schedule', () => {
  it('warms up linearly then decays by cosine to the floor (hand-computed)', () => {
    // 11 steps: warmup round(2.2) = 2 steps; decay over steps 2..10 (8 intervals).
    expect(learningRateAt(0, 11, schedule)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt(1, 11, schedule)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(2, 11, schedule)).toBeCloseTo(1e-3, 15);
    // progress 4/8 = 0.5: floor + (peak - floor) * 0.5 = 1e-4 + 4.5e-4
    expect(learningRateAt(6, 11, schedule)).toBeCloseTo(5.5e-4, 15);
    // progress 2/8: 1e-4 + 9e-4 * 0.5 * (1 + cos(pi/4))
    expect(learningRateAt(4, 11, schedule)).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.SQRT1_2), 15);
    expect(learningRateAt(10, 11, schedule)).toBeCloseTo(1e-4, 15);
    // no warmup, one step: the peak
    expect(learningRateAt(0, 1, { ...schedule, warmupRatio: 0 })).toBe(1e-3);
  });

  it('warms up for warmupSteps when given, then decays linearly or holds the peak', () => {
    // 11 steps, 3 of warmup (overriding the ratio's 2); linear decay over steps 3..10 (7 intervals).
    const linear = { ...schedule, warmupSteps: 3, lrScheduler: 'linear' as const };
    expect(learningRateAt(0, 11, linear)).toBeCloseTo(1e-3 / 3, 15);
    expect(learningRateAt(2, 11, linear)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(3, 11, linear)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(5, 11, linear)).toBeCloseTo(1e-4 + 9e-4 * (5 / 7), 15);
    expect(learningRateAt(10, 11, linear)).toBeCloseTo(1e-4, 15);
    const constant = { ...schedule, warmupSteps: 0, lrScheduler: 'constant' as const };
    expect([0, 5, 10].map((s) => learningRateAt(s, 11, constant))).toEqual([1e-3, 1e-3, 1e-3]);
    // More warmup steps than steps: all warmup, never past the peak.
    expect(learningRateAt(1, 2, { ...schedule, warmupSteps: 5 })).toBeCloseTo(1e-3, 15);
  });

  it('rejects out-of-range settings by name', () => {
    expect(() => validateSchedule({ ...schedule, warmupSteps: -1 })).toThrow(
      /schedule\.warmupSteps/,
    );
    expect(() => validateSchedule({ ...schedule, weightDecay: -0.1 })).toThrow(
      /schedule\.weightDecay/,
    );
    expect(() => validateSchedule({ ...schedule, microBatchSize: 0 })).toThrow(
      /schedule\.microBatchSize/,
    );
    expect(() => validateSchedule({ ...schedule, warmupRatio: 1 })).toThrow(
      /schedule\.warmupRatio/,
    );
    expect(() => validateSchedule({ ...schedule, learningRate: -1 })).toThrow(
      /schedule\.learningRate/,
    );
  });
});

describe('batching', () => {
  it('masks the target only and truncates at maxLength', () => {
    expect(packExample({ promptIds: [5, 6, 7], targetIds: [8, 9, 1] }, 8)).toEqual({
      ids: [5, 6, 7, 8, 9, 1],
      mask: [0, 0, 0, 1, 1, 1],
      truncated: false,
    });
    expect(packExample({ promptIds: [5, 6, 7], targetIds: [8, 9, 1] }, 4)).toEqual({
      ids: [5, 6, 7, 8],
      mask: [0, 0, 0, 1],
      truncated: true,
    });
  });

  it('pads rows to the longest and lays them out row-major', () => {
    const batch = makeMicroBatch(
      [[{ ids: [5, 6, 8], mask: [0, 0, 1] }], [{ ids: [5, 8, 9, 1], mask: [0, 1, 1, 1] }]],
      0,
    );
    expect(batch.seqLen).toBe(4);
    expect(Array.from(batch.tokens)).toEqual([5, 6, 8, 0, 5, 8, 9, 1]);
    expect(Array.from(batch.lossMask)).toEqual([0, 0, 1, 0, 0, 1, 1, 1]);
    expect(batch.realTokens).toBe(7);
    expect(batch.targetTokens).toBe(4);
    expect(batch.positions).toBeUndefined();
  });

  it('packs several examples per row with positions restarting per example', () => {
    const a = { ids: [5, 6, 8], mask: [0, 0, 1] };
    const b = { ids: [5, 8, 1], mask: [0, 1, 1] };
    const c = { ids: [7, 2], mask: [0, 1] };
    const batch = makeMicroBatch([[a, b], [c]], 0, true);
    expect(batch.seqLen).toBe(6);
    expect(Array.from(batch.tokens)).toEqual([5, 6, 8, 5, 8, 1, 7, 2, 0, 0, 0, 0]);
    expect(Array.from(batch.lossMask)).toEqual([0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0]);
    // Positions restart per example; each padding token is a one-token document of its own.
    expect(Array.from(batch.positions!)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 0, 0, 0, 0]);
    expect([batch.realTokens, batch.targetTokens]).toEqual([8, 4]);
  });

  it('packs best-fit into rows: every example once, no row over its length, rows nearly full', () => {
    const lengths = Array.from({ length: 500 }, (_, i) => 20 + ((i * 37) % 180));
    const rowLength = 512;
    const batches = packedBatchOrder(lengths, rowLength, 4, 7);
    const rows = batches.flat();
    expect(rows.flat().sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    const fill = rows.map((row) => row.reduce((sum, i) => sum + lengths[i]!, 0));
    expect(Math.max(...fill)).toBeLessThanOrEqual(rowLength);
    const total = lengths.reduce((x, y) => x + y, 0);
    // Best-fit decreasing leaves under 3% of the rows empty on these lengths.
    expect(total / (rows.length * rowLength)).toBeGreaterThan(0.97);
    expect(batches.slice(0, -1).every((batch) => batch.length === 4)).toBe(true);
    expect(packedBatchOrder(lengths, rowLength, 4, 7)).toEqual(batches);
    expect(packedBatchOrder(lengths, rowLength, 4, 8)).not.toEqual(batches);
    expect(() => packedBatchOrder([10, 600], rowLength, 4, 7)).toThrow(/example 1 has 600 tokens/);
  });

  it('shuffles reproducibly by seed', () => {
    expect(shuffledIndices(10, 3)).toEqual(shuffledIndices(10, 3));
    expect(shuffledIndices(10, 3)).not.toEqual(shuffledIndices(10, 4));
    expect([...shuffledIndices(10, 3)].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('buckets by length: every example once, similar lengths per batch', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 10 + ((i * 37) % 90));
    const batches = bucketedBatchOrder(lengths, 4, 7);
    expect(batches).toHaveLength(50);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    // With 200 examples in 2 windows of 128, the padding waste is small compared with random batches.
    const waste = (order: number[][]) =>
      order.reduce(
        (sum, b) =>
          sum +
          b.length * Math.max(...b.map((i) => lengths[i]!)) -
          b.reduce((s, i) => s + lengths[i]!, 0),
        0,
      );
    const random = shuffledIndices(200, 7);
    const randomBatches = Array.from({ length: 50 }, (_, i) => random.slice(4 * i, 4 * i + 4));
    expect(waste(batches)).toBeLessThan(waste(randomBatches) / 5);
    expect(bucketedBatchOrder(lengths, 4, 7)).toEqual(batches);
  });
});
