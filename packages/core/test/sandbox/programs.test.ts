// Ordinary program-of-thought code runs as real Python and yields the expected answers.
import { readFileSync } from 'node:fs';
import { PythonSandbox, resolveSandboxOptions } from '../../src/sandbox';

const DATA = '/work/shared/data';

let sandbox: PythonSandbox;

beforeAll(async () => {
  sandbox = await PythonSandbox.start({ workers: 2 });
});

afterAll(async () => {
  await sandbox.close();
});

describe('answers come from answer, ans, solution() or solver()', () => {
  test.each([
    ['answer = 12 * 3 + 7 / 2', 39.5],
    ['ans = 2 ** 10', 1024],
    ['def solution():\n    apples = 5\n    eaten = 2\n    return apples - eaten\n', 3],
    ['def solver():\n    return 7 // 2', 3],
    ['answer = 1\nans = 2', 1], // `answer` wins over `ans`
    ['def solution():\n    return 1\nanswer = 9', 9], // a variable wins over a function
    ['answer = -4.25', -4.25],
  ])('%j', async (code, expected) => {
    expect(await sandbox.run(code)).toMatchObject({ answer: expected, error: null });
  });
});

describe('the allowed modules work', () => {
  test.each([
    ['from fractions import Fraction\nanswer = Fraction(3, 4) + Fraction(1, 4) * 3', 1.5],
    ["from decimal import Decimal\nanswer = Decimal('0.1') * 3", 0.3],
    ['import math\nanswer = math.floor(math.sqrt(50)) + math.comb(5, 2)', 17],
    ['import statistics\nanswer = statistics.mean([3, 4, 8])', 5],
    ['import itertools\nanswer = len(list(itertools.combinations(range(5), 2)))', 10],
    [
      "from sympy import Symbol, Eq, solve\nx = Symbol('x')\nanswer = solve(Eq(3 * x + 2, 11), x)[0]",
      3,
    ],
    [
      "import sympy as sp\nx, y = sp.symbols('x y')\ns = sp.solve([sp.Eq(x + y, 10), sp.Eq(x - y, 2)], [x, y])\nanswer = s[x] * s[y]",
      24,
    ],
    ['from sympy import Rational\nanswer = Rational(7, 2) * 2', 7],
    // sympy submodules not loaded at warm-up are imported lazily, from read-only sources
    ['from sympy.combinatorics import Permutation\nanswer = Permutation([1, 0, 2]).order()', 2],
    ['import sympy.abc\nanswer = (sympy.abc.x**2).subs(sympy.abc.x, 3)', 9],
    ["import sympy\nanswer = sympy.nsimplify('0.125') * 8", 1],
  ])('%j', async (code, expected) => {
    const result = await sandbox.run(code);
    expect(result.error).toBeNull();
    expect(result.answer).toBeCloseTo(expected, 12);
  });
});

test.each([
  [
    "import sympy\nanswer = sympy.Symbol('x') + 1",
    /^answer is a symbolic sympy expression \(x \+ 1\)/,
  ],
  ['import sympy\nanswer = sympy.sqrt(-4)', /^answer is not a real number \(2\*I\)$/],
  [
    "from sympy import solve, Symbol\nx = Symbol('x')\nanswer = solve(x**2 - 4, x)",
    /^answer is a list/,
  ],
])('a sympy value that is not a real number fails with a reason: %j', async (code, reason) => {
  const result = await sandbox.run(code);
  expect(result.answer).toBeNull();
  expect(result.error).toMatch(reason);
});

test('the real LEVER PoT exemplars execute to their GSM8K gold answers', async () => {
  const shots = readFileSync(`${DATA}/exemplars/pot_gsm8k_lever_prompt.txt`, 'utf8').split('\n\n');
  const goldByQuestion = new Map<string, number>();
  for (const line of readFileSync(`${DATA}/gsm8k/train.jsonl`, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as { question: string; answer: string };
    const gold = record.answer.split('####')[1].trim().replace(/,/g, '');
    goldByQuestion.set(record.question.trim(), Number(gold));
  }
  expect(shots).toHaveLength(8);
  const results = await Promise.all(
    shots.map(async (shot) => {
      const [header, ...program] = shot.split('\n');
      const gold = goldByQuestion.get(header.replace(/^## /, '').trim());
      return { gold, result: await sandbox.run(program.join('\n')) };
    }),
  );
  for (const { gold, result } of results) {
    expect(gold).toEqual(expect.any(Number));
    expect(result).toMatchObject({ answer: gold, error: null });
  }
});

test('many programs at once are all answered, each with its own answer', async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => sandbox.run(`base = ${i}\nanswer = base * 3 + 1`)),
  );
  expect(results.map((result) => result.answer)).toEqual(
    Array.from({ length: 200 }, (_, i) => i * 3 + 1),
  );
  expect(results.every((result) => result.elapsedMs > 0)).toBe(true);
});

test('a program over maxCodeChars is refused without running', async () => {
  const small = await PythonSandbox.start({ workers: 1, sympy: false, maxCodeChars: 24 });
  try {
    expect(await small.run('answer = 1 + 1 + 1 + 1 + 1')).toMatchObject({
      answer: null,
      error: 'program too long (26 characters; the limit is 24)',
    });
    expect(await small.run('import sympy\nanswer = 1')).toMatchObject({
      answer: null,
      error: 'ImportError: sympy not available: sympy disabled by configuration (line 1)',
    });
    expect(small.sympyAvailable).toBe(false);
  } finally {
    await small.close();
  }
});

test('programsPerWorker: 1 gives every program a fresh interpreter', async () => {
  const strict = await PythonSandbox.start({ workers: 1, sympy: false, programsPerWorker: 1 });
  try {
    // Through an escape a program can stash state in a module no snapshot watches (here: re);
    // with a fresh worker per program the next one cannot see it.
    const stash =
      "re = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['sys'].modules['re']\n";
    expect(await strict.run(`${stash}re.leftover = 41\nanswer = re.leftover`)).toMatchObject({
      answer: 41,
    });
    expect((await strict.run(`${stash}answer = re.leftover + 1`)).error).toMatch(
      /AttributeError: module 're' has no attribute 'leftover'/,
    );
    expect(strict.stats.workerRestarts).toBe(2);
  } finally {
    await strict.close();
  }
});

describe('bad arguments are clear errors', () => {
  test('options are validated with the field named', () => {
    expect(() => resolveSandboxOptions({ timeoutMs: -1 })).toThrow(
      /Invalid sandbox option timeoutMs: Too small/,
    );
    expect(() => resolveSandboxOptions({ isolation: 'docker' as never })).toThrow(
      /Invalid sandbox option isolation/,
    );
    expect(() => resolveSandboxOptions({ wrokers: 2 } as never)).toThrow(
      /Unrecognized key: "wrokers"/,
    );
    expect(resolveSandboxOptions({}).timeoutMs).toBe(10_000);
  });

  test('run() rejects a non-string program and a bad per-run timeout', async () => {
    await expect(sandbox.run(42 as never)).rejects.toThrow(
      'Expected a string of Python code but received number',
    );
    await expect(sandbox.run('answer = 1', { timeoutMs: 0 })).rejects.toThrow(
      'Expected positive integer for timeoutMs but received 0',
    );
  });

  test('a missing interpreter is named', async () => {
    await expect(PythonSandbox.start({ pythonPath: '/nonexistent/python3' })).rejects.toThrow(
      /Cannot run the sandbox interpreter \/nonexistent\/python3/,
    );
  });
});
