// The benchmark's programs are right (checked against real Python) and the benchmark reports sanely.
import {
  benchmarkSandbox,
  formatSandboxBenchmark,
  PythonSandbox,
  realStylePrograms,
} from '../../src/sandbox';

test('generated programs are deterministic, cover every kind, and Python agrees with their answers', async () => {
  const programs = realStylePrograms(300, 7);
  expect(realStylePrograms(300, 7)).toEqual(programs);
  expect(realStylePrograms(300, 8)).not.toEqual(programs);
  expect(new Set(programs.map((program) => program.kind))).toEqual(
    new Set(['straight-line', 'solution-function', 'fractions', 'math', 'sympy']),
  );
  const sandbox = await PythonSandbox.start({ workers: 2 });
  try {
    const results = await Promise.all(programs.map((program) => sandbox.run(program.code)));
    results.forEach((result, i) => {
      expect(result.error).toBeNull();
      expect(result.answer).toBeCloseTo(programs[i].expected, 9);
    });
  } finally {
    await sandbox.close();
  }
});

test('benchmarkSandbox measures the pool and the one-process-per-program baseline', async () => {
  const result = await benchmarkSandbox({
    programs: 300,
    baselinePrograms: 6,
    measureStartup: false,
    sandbox: { workers: 2, sympy: false },
  });
  // sympy programs fail on purpose here (sympy: false), everything else must be right.
  const sympyPrograms = realStylePrograms(300, 1).filter(
    (program) => program.kind === 'sympy',
  ).length;
  expect(result.pool).toMatchObject({ programs: 300, workers: 2, wrongOrFailed: sympyPrograms });
  expect(result.baseline).toMatchObject({ programs: 6, concurrency: 2 });
  expect(result.pool.programsPerSecond).toBeGreaterThan(0);
  expect(result.speedup).toBeCloseTo(
    result.pool.programsPerSecond / result.baseline.programsPerSecond,
    9,
  );
  expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  expect(formatSandboxBenchmark(result)).toMatch(/speedup: \d+\.\dx/);
});
