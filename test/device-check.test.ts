// The GPU device check (tools/device-check.sh) runs once per device call, with no second chance:
// this rehearses it here, without a GPU, the way CI can. DRY_RUN=1 runs every step; with
// DRY_RUN_BUILD=0 (the default here) the compiles are skipped and the addon built by
// `npm run build` stands in, so the run takes seconds and needs no nvcc. DRY_RUN_BUILD=1 in the
// environment makes it the full rehearsal: the CUDA addon and the kernel harness are compiled
// too (about a minute on 2 cores; needs nvcc). The steps that need a GPU must fail cleanly and say why, the CPU steps
// (node unpacking, the engine export, api_check.js on cpu,cpu) must pass, nothing may hang, and
// the results must fit the device call's limit of 8 files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const build = process.env.DRY_RUN_BUILD === '1';
/** The script's BUDGET_S: it skips (and records) what does not fit. ~15 s is typical without builds. */
const budgetS = build ? 400 : 150;

interface StepRecord {
  name: string;
  status: string;
  rc: number;
  seconds: number;
  limit_s: number;
  message: string;
}

interface Summary {
  dry_run: number;
  elapsed_s: number;
  steps: StepRecord[];
  results: Record<string, { ok?: boolean; sections?: Record<string, Record<string, unknown>> }>;
  comparisons: Record<string, Array<Record<string, unknown>>>;
}

/** Every step, in run order (api_rehearsal runs in DRY_RUN only). */
const STEPS = [
  'environment',
  'node',
  'cublas',
  'addon_build',
  'addon_info',
  'api_parity',
  'api_throughput',
  'api_rehearsal',
  'parity_build',
  'parity_run',
  'kernel_bench',
  'engine_export',
  'hf_parity',
  'api_hf',
  'peft_roundtrip',
  'torch_bench',
];
/** Steps that need no GPU and must pass here. */
const CPU_STEPS = [
  'environment',
  'node',
  'addon_build',
  'api_rehearsal',
  'engine_export',
  ...(build ? ['parity_build'] : []),
];
/** Steps that need a GPU (or its PyTorch/transformers stack): they must fail or be skipped. */
const GPU_STEPS = STEPS.filter((name) => !CPU_STEPS.includes(name));
/** What a clean "there is no GPU here" failure says, in the words of each layer. */
const NO_GPU =
  /no CUDA device|CUDA driver|CUDA backend|not compiled|not available|libcublas|NVIDIA driver|No module named|Torch not compiled|DRY_RUN_BUILD=0|did not succeed/i;

/** All files under `dir`, recursively (the device call counts files, not folders). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe(`tools/device-check.sh (DRY_RUN=1 DRY_RUN_BUILD=${build ? 1 : 0})`, () => {
  let scratch: string;
  let out: string;
  let summary: Summary;
  let wallS: number;

  beforeAll(
    () => {
      scratch = mkdtempSync(path.join(os.tmpdir(), 'siked-device-check-'));
      out = path.join(scratch, 'out');
      // prepare.sh into a scratch folder, so a developer's .device (prepared for a device call) is
      // never touched; xz -0 because the size of the carried node does not matter here.
      const deviceDir = path.join(scratch, 'device');
      const prepare = spawnSync('bash', ['tools/device/prepare.sh'], {
        cwd: root,
        env: { ...process.env, DEVICE_DIR: deviceDir, XZ_LEVEL: '0' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      if (prepare.status !== 0)
        throw new Error(`prepare.sh failed:\n${prepare.stdout}${prepare.stderr}`);
      const started = Date.now();
      const run = spawnSync('bash', ['tools/device-check.sh'], {
        cwd: root,
        env: {
          ...process.env,
          DRY_RUN: '1',
          DRY_RUN_BUILD: build ? '1' : '0',
          BUDGET_S: String(budgetS),
          OUT: out,
          DEVICE_DIR: deviceDir,
        },
        encoding: 'utf8',
        timeout: (budgetS + 20) * 1000,
      });
      wallS = (Date.now() - started) / 1000;
      if (run.error) throw new Error(`device-check.sh did not finish: ${run.error.message}`);
      summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
    },
    (budgetS + 120) * 1000,
  );

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('records every step, in order, within the budget', () => {
    expect(summary.dry_run).toBe(1);
    expect(summary.steps.map((s) => s.name)).toEqual(STEPS);
    expect(wallS).toBeLessThan(budgetS);
  });

  it('never hits a time box: a missing GPU fails fast instead of hanging', () => {
    for (const step of summary.steps) {
      expect({ step: step.name, status: step.status }).not.toEqual({
        step: step.name,
        status: 'timed out',
      });
    }
  });

  it('passes the steps that need no GPU, api_check.js on cpu,cpu included', () => {
    for (const name of CPU_STEPS) {
      const step = summary.steps.find((s) => s.name === name)!;
      expect({ name, status: step.status, message: step.message }).toMatchObject({ status: 'ok' });
    }
    const rehearsal = summary.results.api_rehearsal;
    expect(rehearsal.ok).toBe(true);
    expect(Object.keys(rehearsal.sections ?? {})).toEqual([
      'build_info',
      'train_full',
      'train_lora',
      'generate_and_score',
      'train_packed',
      'train_throughput:tiny:seq64',
      'train_packing:tiny',
      'sampling_throughput:tiny',
    ]);
  });

  it('reports throughput under torch_bench.py names and lays out every comparison', () => {
    const sampling = summary.results.api_rehearsal.sections?.['sampling_throughput:tiny'] ?? {};
    expect(sampling).toMatchObject({
      ok: true,
      new_tokens_per_s: expect.any(Number),
      batch1_ms_per_token: expect.any(Number),
    });
    expect(summary.results.api_rehearsal.sections?.['train_throughput:tiny:seq64']).toMatchObject({
      tokens_per_s: expect.any(Number),
      mfu_vs_datasheet: expect.any(Number),
    });
    // workload.json: 2 shapes x 2 (batch, seq) for training, 2 shapes for sampling and batch 1;
    // without a GPU every row says why it has no ratio.
    const rows = {
      training_vs_transformers_eager_bf16: 4,
      sampling_vs_hf_generate: 2,
      batch1_ms_per_token: 2,
    };
    for (const [name, count] of Object.entries(rows)) {
      expect({ name, rows: summary.comparisons[name]?.length }).toEqual({ name, rows: count });
      for (const row of summary.comparisons[name])
        expect(row).toMatchObject({ missing: expect.stringMatching(NO_GPU) });
    }
  });

  it('fails or skips each GPU step with a message saying why', () => {
    for (const name of GPU_STEPS) {
      const step = summary.steps.find((s) => s.name === name)!;
      expect({ name, status: step.status }).not.toEqual({ name, status: 'ok' });
      expect({ name, message: step.message }).toEqual({
        name,
        message: expect.stringMatching(NO_GPU),
      });
    }
  });

  it('writes at most 8 files to OUT (the device call brings back no more)', () => {
    const files = filesUnder(out).map((file) => path.relative(out, file));
    expect(files.sort()).toEqual(['device-check.log', 'summary.json']);
    expect(files.length).toBeLessThanOrEqual(8);
  });
});
