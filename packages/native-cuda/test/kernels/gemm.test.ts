// Compiles the kernel lab's check program with g++ (never through the addon's build directory,
// which the engine's own build owns) and runs it once per SIMD level: the packed GEMM and the
// small-M path against the plain references for every kernel set the CPU supports, the public
// sgemm_* under the SIKED_SIMD cap, and the ThreadPool. The program fails through its exit code.
// The binary is cached in tools/kernels-lab/build/ (gitignored) under a hash of its sources, so
// only the first run after a kernel change pays the compile (tens of seconds on 2 busy cores).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../../..');
const labDir = join(repoRoot, 'tools/kernels-lab');
const engineDir = join(repoRoot, 'packages/native-cuda/src/cpp');
const buildScript = join(labDir, 'build.sh');

/** Hash of everything the check binary is built from (the lab, the engine's C++ sources). */
function sourcesHash(): string {
  const hash = createHash('sha256');
  const files = [
    buildScript,
    join(labDir, 'gemm_check.cpp'),
    ...readdirSync(engineDir)
      .filter((name) =>
        /^(gemm|thread_pool|cpu_features|simd|peak_probe|amx_tiles|vector_math).*\.(h|cpp)$/.test(
          name,
        ),
      )
      .sort()
      .map((name) => join(engineDir, name)),
  ];
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Builds gemm_check (or reuses the cached build of the same sources) and returns its path. */
function buildCheck(): string {
  const cacheDir = join(labDir, 'build', `check-${sourcesHash()}`);
  const binary = join(cacheDir, 'gemm_check');
  if (existsSync(binary)) return binary;
  mkdirSync(join(labDir, 'build'), { recursive: true });
  // Build into a fresh directory and rename it into place, so two concurrent runs never share one.
  const staging = mkdtempSync(join(labDir, 'build', 'staging-'));
  try {
    execFileSync('bash', [buildScript, staging], {
      env: { ...process.env, WHAT: 'check' },
      stdio: 'pipe',
      timeout: 170_000,
    });
    if (!existsSync(binary)) renameSync(staging, cacheDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

function hasGxx(): boolean {
  return spawnSync('g++', ['--version'], { stdio: 'ignore' }).status === 0;
}

const levels = ['scalar', 'avx2', 'avx512'] as const;
type SimdLevel = (typeof levels)[number];

const bf16Levels = ['none', 'avx512bf16', 'amx'] as const;
type Bf16Level = (typeof bf16Levels)[number];

interface CheckRun {
  status: number | null;
  output: string;
  simd: SimdLevel | undefined;
  bf16: Bf16Level | undefined;
}

function runCheck(
  binary: string,
  cap?: SimdLevel,
  bf16Cap?: 'off' | 'avx512bf16',
  blocks?: { nb: number; mb: number },
): CheckRun {
  const env = { ...process.env };
  delete env.SIKED_SIMD;
  delete env.SIKED_BF16;
  delete env.SIKED_GEMM_NB;
  delete env.SIKED_GEMM_MB;
  if (cap) env.SIKED_SIMD = cap;
  if (bf16Cap) env.SIKED_BF16 = bf16Cap;
  if (blocks) {
    env.SIKED_GEMM_NB = String(blocks.nb);
    env.SIKED_GEMM_MB = String(blocks.mb);
  }
  const run = spawnSync(binary, ['--quick'], { env, encoding: 'utf8', timeout: 60_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const simd = /^simd: (\w+)$/m.exec(output)?.[1] as SimdLevel | undefined;
  const bf16 = /^bf16: (\w+)$/m.exec(output)?.[1] as Bf16Level | undefined;
  return { status: run.status, output, simd, bf16 };
}

const describeIfGxx = hasGxx() ? describe : describe.skip;
if (!hasGxx()) {
  console.warn('skipping the CPU kernel checks: g++ was not found on PATH');
}

describeIfGxx('CPU GEMM kernels and thread pool (tools/kernels-lab/gemm_check)', () => {
  let binary: string;
  let best: CheckRun;

  beforeAll(() => {
    binary = buildCheck();
    best = runCheck(binary);
  }, 240_000);

  it('matches the references with the best SIMD level of this CPU', () => {
    expect(best.output).toContain('ALL PASSED');
    expect(best.status).toBe(0);
    expect(levels).toContain(best.simd);
  });

  it.each(['avx2', 'scalar'] as const)('SIKED_SIMD=%s caps the kernels the engine uses', (cap) => {
    const capped = runCheck(binary, cap);
    expect(capped.output).toContain('ALL PASSED');
    expect(capped.status).toBe(0);
    // The cap never raises the level: an AVX2-only CPU stays at avx2 under SIKED_SIMD=avx512.
    const expected = levels.indexOf(cap) < levels.indexOf(best.simd!) ? cap : best.simd;
    expect(capped.simd).toBe(expected);
  });

  // The column and row blocks come from this CPU's caches; with the smallest ones every product
  // of the check crosses several of them (what a CPU with small caches runs).
  it('matches the references with the smallest cache blocks (SIKED_GEMM_NB/MB=64)', () => {
    const small = runCheck(binary, undefined, undefined, { nb: 64, mb: 64 });
    expect(small.output).toContain('ALL PASSED');
    expect(small.status).toBe(0);
    expect(small.output).toMatch(/^blocking: NB 64, MB 64$/m);
  });

  // The bf16 kernel sets the CPU has are checked directly in every run; the cap moves what the
  // public sgemm_* at MatmulPrecision::Bf16 use (down to the float32 fallback).
  it.each(['avx512bf16', 'off'] as const)(
    'SIKED_BF16=%s caps the mixed-precision kernels',
    (cap) => {
      const capped = runCheck(binary, undefined, cap);
      expect(capped.output).toContain('ALL PASSED');
      expect(capped.status).toBe(0);
      const wanted = cap === 'off' ? 'none' : cap;
      const expected =
        bf16Levels.indexOf(wanted) < bf16Levels.indexOf(best.bf16!) ? wanted : best.bf16;
      expect(capped.bf16).toBe(expected);
      if (best.bf16 === 'amx') expect(best.output).toMatch(/kernel sets checked: .*avx512bf16 amx/);
    },
  );
});
