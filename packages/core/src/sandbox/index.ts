// Public API of this module, re-exported by src/index.ts.
export {
  PythonSandbox,
  RUNNER_PATH,
  type SandboxResult,
  type SandboxStats,
  type SandboxEvents,
} from './python-sandbox';
export {
  sandboxOptionsSchema,
  resolveSandboxOptions,
  type SandboxOptions,
  type ResolvedSandboxOptions,
  type IsolationMode,
} from './options';
export { ISOLATION_LOSSES, probePythonLayout, type PythonLayout } from './isolation';
export {
  benchmarkSandbox,
  formatSandboxBenchmark,
  type SandboxBenchmarkOptions,
  type SandboxBenchmarkResult,
  type ThroughputMeasurement,
} from './bench';
export { realStylePrograms, BENCHMARK_PROGRAM_MIX, type BenchmarkProgram } from './bench-programs';
