// Small, real-style program-of-thought programs with known answers, for the sandbox benchmark.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** One generated program and the answer it must produce. */
export interface BenchmarkProgram {
  /** Which shape of program: see {@link BENCHMARK_PROGRAM_MIX}. */
  kind: 'straight-line' | 'solution-function' | 'fractions' | 'math' | 'sympy';
  code: string;
  expected: number;
}

/**
 * Shares of each kind, modelled on real PoT output: mostly straight-line assignments with
 * descriptive names ending in `answer = ...` (the LEVER/GSM8K exemplars), some `def solution()`
 * programs (common in model output), a few using fractions/math, and 1% solving with sympy.
 */
export const BENCHMARK_PROGRAM_MIX: Readonly<Record<BenchmarkProgram['kind'], number>> = {
  'straight-line': 0.7,
  'solution-function': 0.17,
  fractions: 0.06,
  math: 0.06,
  sympy: 0.01,
};

const NOUNS = ['apples', 'cookies', 'photos', 'tickets', 'marbles', 'books', 'dollars', 'minutes'];
const PEOPLE = ['james', 'katy', 'wendi', 'kyle', 'sarah', 'john', 'maria', 'tom'];

/**
 * Generates `count` programs deterministically from `seed`.
 * @throws RangeError when count is not a non-negative integer.
 */
export function realStylePrograms(count: number, seed = 1): BenchmarkProgram[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Expected non-negative integer for count but received ${count}`);
  }
  const rng = xoroshiro128plus(seed);
  const kinds = Object.entries(BENCHMARK_PROGRAM_MIX) as [BenchmarkProgram['kind'], number][];
  return Array.from({ length: count }, () => {
    let draw = int(rng, 0, 9_999) / 10_000;
    for (const [kind, share] of kinds) {
      if (draw < share) return generate(kind, rng);
      draw -= share;
    }
    return generate('straight-line', rng);
  });
}

function int(rng: RandomGenerator, from: number, to: number): number {
  return unsafeUniformIntDistribution(from, to, rng);
}

function pick<T>(rng: RandomGenerator, items: readonly T[]): T {
  return items[int(rng, 0, items.length - 1)];
}

// Straight-line assignments: quantities, then a few steps combining them (+, -, *, / like GSM8K).
function straightLine(rng: RandomGenerator): { lines: string[]; value: number; last: string } {
  const noun = pick(rng, NOUNS);
  const names: string[] = [];
  const values: number[] = [];
  const lines: string[] = [];
  const quantities = int(rng, 2, 4);
  for (let i = 0; i < quantities; i++) {
    const name = `n_${noun}_${pick(rng, PEOPLE)}_${i}`;
    const value = int(rng, 1, 500);
    lines.push(`${name} = ${value}`);
    names.push(name);
    values.push(value);
  }
  const steps = int(rng, 2, 4);
  for (let step = 0; step < steps; step++) {
    const a = int(rng, 0, names.length - 1);
    const b = int(rng, 0, names.length - 1);
    const drawn = pick(rng, ['+', '-', '*', '/'] as const);
    const op = drawn === '/' && values[b] === 0 ? '*' : drawn; // models do not divide by zero either
    const value = apply(values[a], op, values[b]);
    const name = `${noun}_step_${step}`;
    lines.push(`${name} = ${names[a]} ${op} ${names[b]}`);
    names.push(name);
    values.push(value);
  }
  return { lines, value: values[values.length - 1], last: names[names.length - 1] };
}

function apply(a: number, op: '+' | '-' | '*' | '/', b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

function generate(kind: BenchmarkProgram['kind'], rng: RandomGenerator): BenchmarkProgram {
  switch (kind) {
    case 'straight-line': {
      const { lines, value, last } = straightLine(rng);
      return { kind, code: [...lines, `answer = ${last}`].join('\n'), expected: value };
    }
    case 'solution-function': {
      const { lines, value, last } = straightLine(rng);
      const body = [...lines, `return ${last}`].map((line) => `    ${line}`);
      return { kind, code: ['def solution():', ...body].join('\n'), expected: value };
    }
    case 'fractions': {
      const [a, b, c, d] = [int(rng, 1, 9), int(rng, 2, 12), int(rng, 1, 9), int(rng, 2, 12)];
      const code = [
        'from fractions import Fraction',
        `share_first = Fraction(${a}, ${b})`,
        `share_second = Fraction(${c}, ${d})`,
        `total_cakes = ${b * d}`,
        'answer = (share_first + share_second) * total_cakes',
      ].join('\n');
      return { kind, code, expected: a * d + c * b };
    }
    case 'math': {
      const [people, perBox] = [int(rng, 10, 400), int(rng, 3, 24)];
      const code = [
        'import math',
        `n_people = ${people}`,
        `cookies_per_box = ${perBox}`,
        'answer = math.ceil(n_people / cookies_per_box)',
      ].join('\n');
      return { kind, code, expected: Math.ceil(people / perBox) };
    }
    case 'sympy': {
      const [price, count, total] = [int(rng, 2, 30), int(rng, 2, 9), int(rng, 100, 900)];
      const code = [
        'from sympy import Symbol, Eq, solve',
        "x = Symbol('x')",
        `answer = solve(Eq(${count} * x + ${price}, ${total}), x)[0]`,
      ].join('\n');
      return { kind, code, expected: (total - price) / count };
    }
  }
}
