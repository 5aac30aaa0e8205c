// Compiles the kernel lab's check program with g++ (never through the addon's build directory,
// which the engine's own build owns) and runs it once per SIMD level: the packed GEMM and the
// small-M path against the plain references for every kernel set the CPU supports, the public
// sgemm_* under the SIKED_SIMD cap, and the ThreadPool. The program fails through its exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../../..');
const buildScript = join(repoRoot, 'tools/kernels-lab/build.sh');

function hasGxx(): boolean {
  return spawnSync('g++', ['--version'], { stdio: 'ignore' }).status === 0;
}

const levels = ['scalar', 'avx2', 'avx512'] as const;
type SimdLevel = (typeof levels)[number];

interface CheckRun {
  status: number | null;
  output: string;
  simd: SimdLevel | undefined;
}

function runCheck(binary: string, cap?: SimdLevel): CheckRun {
  const env = { ...process.env };
  delete env.SIKED_SIMD;
  if (cap) env.SIKED_SIMD = cap;
  const run = spawnSync(binary, ['--quick'], { env, encoding: 'utf8', timeout: 60_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const simd = /^simd: (\w+)$/m.exec(output)?.[1] as SimdLevel | undefined;
  return { status: run.status, output, simd };
}

const describeIfGxx = hasGxx() ? describe : describe.skip;
if (!hasGxx()) {
  console.warn('skipping the CPU kernel checks: g++ was not found on PATH');
}

describeIfGxx('CPU GEMM kernels and thread pool (tools/kernels-lab/gemm_check)', () => {
  let outDir: string;
  let binary: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'siked-kernels-'));
    execFileSync('bash', [buildScript, outDir], {
      env: { ...process.env, WHAT: 'check' },
      stdio: 'pipe',
      timeout: 170_000,
    });
    binary = join(outDir, 'gemm_check');
  }, 180_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('matches the references with the best SIMD level of this CPU', () => {
    const run = runCheck(binary);
    expect(run.output).toContain('ALL PASSED');
    expect(run.status).toBe(0);
    expect(levels).toContain(run.simd);
  });

  it.each(['avx2', 'scalar'] as const)('SIKED_SIMD=%s caps the kernels the engine uses', (cap) => {
    const best = runCheck(binary);
    const capped = runCheck(binary, cap);
    expect(capped.output).toContain('ALL PASSED');
    expect(capped.status).toBe(0);
    // The cap never raises the level: an AVX2-only CPU stays at avx2 under SIKED_SIMD=avx512.
    const expected = levels.indexOf(cap) < levels.indexOf(best.simd!) ? cap : best.simd;
    expect(capped.simd).toBe(expected);
  });
});
