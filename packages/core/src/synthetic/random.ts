// Seeded randomness for the synthetic world. Every random choice is drawn from a stream derived
// from (seed, key), so a problem or a teacher sample depends only on its own key, never on how
// many other problems were generated before it or in which order.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** 32-bit FNV-1a hash of a string: turns a stream key into a generator seed. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A seeded random stream (xoroshiro128+ from pure-rand) with the few draws the world needs. */
export class RandomStream {
  private readonly generator: RandomGenerator;

  /** A stream determined by `seed` and `key` alone (keys name what the stream is for). */
  constructor(seed: number, key: string) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.generator = xoroshiro128plus(hashString(`${seed}\u0000${key}`) ^ (seed | 0));
  }

  /** A uniform integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max)) || min > max) {
      throw new Error(`invalid integer range [${min}, ${max}]`);
    }
    return unsafeUniformIntDistribution(min, max, this.generator);
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.int(0, 999_999) < Math.round(probability * 1_000_000);
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('cannot pick from an empty list');
    return items[this.int(0, items.length - 1)];
  }

  /** `count` distinct elements of `items`, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    if (count > items.length) {
      throw new Error(`cannot draw ${count} distinct items from a list of ${items.length}`);
    }
    return this.shuffle(items).slice(0, count);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let index = copy.length - 1; index > 0; index--) {
      const other = this.int(0, index);
      [copy[index], copy[other]] = [copy[other], copy[index]];
    }
    return copy;
  }
}
