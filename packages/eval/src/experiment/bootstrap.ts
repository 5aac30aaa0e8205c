// Paired bootstrap confidence intervals for "method A minus method B" over seeds and problems.
// Both methods were evaluated on the same problems of each seed's world, so one resample of
// problem indices is applied to both (paired); seeds are resampled too, so the interval holds
// the seed-to-seed spread (initialisation, data order, sampling) as well as the test-set noise.

/** Per seed, the 0/1 correctness of both methods on the same problems, in the same order. */
export interface PairedSeedOutcomes {
  seed: number;
  a: readonly boolean[];
  b: readonly boolean[];
}

/** A difference of accuracies (A - B, 0..1 scale) with its percentile interval. */
export interface BootstrapInterval {
  /** Mean over seeds of accuracy(A) - accuracy(B) on the full test set. */
  difference: number;
  /** 2.5th and 97.5th percentiles of the bootstrap distribution (for level 0.95). */
  low: number;
  high: number;
  seeds: number;
  /** Problems per seed (the smallest, when they differ). */
  problems: number;
  resamples: number;
}

/** mulberry32: a small seeded generator, so an interval is the same on every rerun. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function meanDifference(a: readonly boolean[], b: readonly boolean[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Number(a[i]) - Number(b[i]);
  return a.length === 0 ? 0 : sum / a.length;
}

function percentile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/**
 * The paired two-level bootstrap: each resample draws seeds with replacement, then within each
 * drawn seed its problems with replacement (the same draw for A and B), and records the mean
 * over drawn seeds of the accuracy difference. Returns null when there is no seed with problems.
 */
export function pairedBootstrap(
  outcomes: readonly PairedSeedOutcomes[],
  options: { resamples?: number; level?: number; seed?: number } = {},
): BootstrapInterval | null {
  const seeds = outcomes.filter((o) => o.a.length > 0);
  for (const o of seeds) {
    if (o.a.length !== o.b.length) {
      throw new RangeError(
        `seed ${o.seed}: ${o.a.length} outcomes for A but ${o.b.length} for B (they must be paired)`,
      );
    }
  }
  if (seeds.length === 0) return null;
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const random = seededRandom(options.seed ?? 12345);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r += 1) {
    let total = 0;
    for (let s = 0; s < seeds.length; s += 1) {
      const { a, b } = seeds[Math.floor(random() * seeds.length)]!;
      let sum = 0;
      for (let i = 0; i < a.length; i += 1) {
        const j = Math.floor(random() * a.length);
        sum += Number(a[j]) - Number(b[j]);
      }
      total += sum / a.length;
    }
    draws.push(total / seeds.length);
  }
  draws.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    difference: seeds.reduce((sum, o) => sum + meanDifference(o.a, o.b), 0) / seeds.length,
    low: percentile(draws, tail),
    high: percentile(draws, 1 - tail),
    seeds: seeds.length,
    problems: Math.min(...seeds.map((o) => o.a.length)),
    resamples,
  };
}
