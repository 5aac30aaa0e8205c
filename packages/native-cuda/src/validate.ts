// Argument checks for everything that crosses into C++. One helper builds every message, e.g.
// "Expected positive integer for maxNewTokens but received -1".

/** Thrown for a bad argument to the engine's API; the message names the argument. */
export class EngineArgumentError extends TypeError {
  override name = 'EngineArgumentError';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Throws `Expected <expected> for <name> but received <value>`. */
export function fail(expected: string, name: string, value: unknown): never {
  throw new EngineArgumentError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** An integer >= min (default 1: positive). */
export function expectInteger(value: unknown, name: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what =
      min === 1 ? 'positive integer' : min === 0 ? 'non-negative integer' : `integer >= ${min}`;
    fail(what, name, value);
  }
  return value;
}

/** A finite number in [min, max]. */
export function expectNumber(
  value: unknown,
  name: string,
  min = -Infinity,
  max = Infinity,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range =
      min === -Infinity && max === Infinity
        ? 'finite number'
        : max === Infinity
          ? `number >= ${min}`
          : min === -Infinity
            ? `number <= ${max}`
            : `number in [${min}, ${max}]`;
    fail(range, name, value);
  }
  return value;
}

/** A typed array of the named kind (checked by constructor name: jest realms break instanceof). */
export function expectTypedArray<T extends ArrayBufferView>(
  value: unknown,
  name: string,
  kind: 'Int32Array' | 'Uint8Array' | 'Float32Array',
): T {
  if (!ArrayBuffer.isView(value) || value.constructor.name !== kind) fail(kind, name, value);
  return value as T;
}

/** A token-id list: integers in [0, vocabSize). */
export function expectTokenIds(value: unknown, name: string, vocabSize: number): number[] {
  if (!Array.isArray(value)) fail('array of token ids', name, value);
  value.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      fail(`token id in [0, ${vocabSize})`, `${name}[${i}]`, id);
    }
  });
  return value as number[];
}
