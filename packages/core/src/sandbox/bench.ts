// The sandbox benchmark (`siked bench sandbox`, tools/bench/sandbox.mjs): pool vs one process each.
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { BENCHMARK_PROGRAM_MIX, realStylePrograms, type BenchmarkProgram } from './bench-programs';
import type { SandboxOptions } from './options';
import { PythonSandbox } from './python-sandbox';

const execFileAsync = promisify(execFile);

/** What to measure. */
export interface SandboxBenchmarkOptions {
  /** Programs sent through the pool (default 10,000). */
  programs?: number;
  /** Programs run as one `python3` process each, for the baseline (default 200). */
  baselinePrograms?: number;
  /** Seed of the generated programs (default 1). */
  seed?: number;
  /** Options of the pool under test (defaults: see {@link PythonSandbox.start}). */
  sandbox?: SandboxOptions;
  /** Also time a one-worker start with and without sympy preloaded (default true). */
  measureStartup?: boolean;
}

/** One measured way of running programs. */
export interface ThroughputMeasurement {
  programs: number;
  seconds: number;
  programsPerSecond: number;
  /** Programs whose answer was missing or differed from the expected one. */
  wrongOrFailed: number;
}

/** The benchmark's findings; plain data, safe to JSON.stringify. */
export interface SandboxBenchmarkResult {
  pool: ThroughputMeasurement & {
    workers: number;
    isolation: string;
    /** Time to start the whole pool (not included in `seconds`). */
    startupMs: number;
  };
  /** One unsandboxed `python -I -c` process per program, as many at a time as the pool has workers. */
  baseline: ThroughputMeasurement & { pythonPath: string; concurrency: number };
  /** pool.programsPerSecond / baseline.programsPerSecond. */
  speedup: number;
  /** Start of a one-worker pool, with sympy preloaded and without (when measured). */
  workerStartupMs: { withSympy: number; withoutSympy: number } | null;
  programMix: Record<string, number>;
  machine: { cores: number; loadAverage1m: number };
}

/**
 * Measures programs/s through a {@link PythonSandbox} pool against one `python3` process per
 * program, on the same generated real-style programs, in one run.
 */
export async function benchmarkSandbox(
  options: SandboxBenchmarkOptions = {},
): Promise<SandboxBenchmarkResult> {
  const programs = realStylePrograms(options.programs ?? 10_000, options.seed ?? 1);
  const baselineSample = programs.slice(0, options.baselinePrograms ?? 200);
  const workerStartupMs =
    (options.measureStartup ?? true) ? await measureStartup(options.sandbox) : null;

  const startBegan = performance.now();
  const sandbox = await PythonSandbox.start(options.sandbox);
  const startupMs = performance.now() - startBegan;
  let pool: ThroughputMeasurement;
  try {
    pool = await measure(programs, async (program) => (await sandbox.run(program.code)).answer);
  } finally {
    await sandbox.close();
  }

  const pythonPath = sandbox.options.pythonPath;
  const concurrency = sandbox.workerCount;
  const baseline = await measure(
    baselineSample,
    (program) => runAsOwnProcess(pythonPath, program),
    concurrency,
  );
  return {
    pool: { ...pool, workers: sandbox.workerCount, isolation: sandbox.isolation, startupMs },
    baseline: { ...baseline, pythonPath, concurrency },
    speedup: pool.programsPerSecond / baseline.programsPerSecond,
    workerStartupMs,
    programMix: { ...BENCHMARK_PROGRAM_MIX },
    machine: { cores: availableParallelism(), loadAverage1m: loadavg()[0] },
  };
}

/** Formats a result as the few lines a person wants to read. */
export function formatSandboxBenchmark(result: SandboxBenchmarkResult): string {
  const rate = (value: number) => `${value.toFixed(0)} programs/s`;
  const lines = [
    `pool (${result.pool.workers} workers, ${result.pool.isolation}): ${result.pool.programs} programs in ` +
      `${result.pool.seconds.toFixed(2)} s = ${rate(result.pool.programsPerSecond)} ` +
      `(${result.pool.wrongOrFailed} wrong or failed; pool start ${result.pool.startupMs.toFixed(0)} ms)`,
    `baseline (one ${result.baseline.pythonPath} process per program, ${result.baseline.concurrency} at a time): ` +
      `${result.baseline.programs} programs in ${result.baseline.seconds.toFixed(2)} s = ` +
      `${rate(result.baseline.programsPerSecond)} (${result.baseline.wrongOrFailed} wrong or failed)`,
    `speedup: ${result.speedup.toFixed(1)}x`,
  ];
  if (result.workerStartupMs) {
    lines.push(
      `worker start: ${result.workerStartupMs.withSympy.toFixed(0)} ms with sympy preloaded, ` +
        `${result.workerStartupMs.withoutSympy.toFixed(0)} ms without`,
    );
  }
  lines.push(
    `machine: ${result.machine.cores} cores, load average ${result.machine.loadAverage1m.toFixed(1)} (1 min)`,
  );
  return lines.join('\n');
}

async function measure(
  programs: readonly BenchmarkProgram[],
  runOne: (program: BenchmarkProgram) => Promise<number | null>,
  concurrency = programs.length,
): Promise<ThroughputMeasurement> {
  let wrongOrFailed = 0;
  let next = 0;
  const began = performance.now();
  const lane = async () => {
    while (next < programs.length) {
      const program = programs[next++];
      const answer = await runOne(program);
      if (answer === null || !closeTo(answer, program.expected)) wrongOrFailed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, programs.length) }, lane));
  const seconds = (performance.now() - began) / 1000;
  return {
    programs: programs.length,
    seconds,
    programsPerSecond: programs.length / seconds,
    wrongOrFailed,
  };
}

function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

// The baseline: a fresh, unsandboxed interpreter per program, printing the answer it finds.
const READ_ANSWER = `
_names = globals()
print(float(_names['answer'] if 'answer' in _names else _names['ans'] if 'ans' in _names else (_names.get('solution') or _names['solver'])()))
`;

async function runAsOwnProcess(
  pythonPath: string,
  program: BenchmarkProgram,
): Promise<number | null> {
  try {
    const { stdout } = await execFileAsync(
      pythonPath,
      ['-I', '-c', program.code + '\n' + READ_ANSWER],
      {
        env: {},
        timeout: 30_000,
      },
    );
    return Number(stdout.trim());
  } catch {
    return null;
  }
}

async function measureStartup(
  options: SandboxOptions = {},
): Promise<{ withSympy: number; withoutSympy: number }> {
  const time = async (sympy: boolean) => {
    const began = performance.now();
    const sandbox = await PythonSandbox.start({ ...options, workers: 1, sympy });
    const elapsed = performance.now() - began;
    await sandbox.close();
    return elapsed;
  };
  return { withSympy: await time(true), withoutSympy: await time(false) };
}
