// demo, distill (killed and resumed), report of a real run in Chromium, and the benchmarks.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyntheticWorld } from '@siked/core';
import { inspectReportPage } from './helpers/browser';
import { testWith } from './helpers/prerequisites';
import { SIKED, jsonLines, pngSize, siked, temporaryDirectory } from './helpers/cli';

const SANDBOX = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

describe('siked demo | distill | report | bench (built CLI, tiny preset)', () => {
  const { dir, cleanup } = temporaryDirectory('run');
  afterAll(cleanup);
  const demoDir = path.join(dir, 'demo');

  it('demo --preset tiny runs the whole method and writes the run directory and report', () => {
    const result = siked([
      'demo',
      '--preset',
      'tiny',
      '--out',
      demoDir,
      '--seed',
      '1',
      '--threads',
      '1',
      '--json',
      ...SANDBOX,
    ]);
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ runDir: demoDir, preset: 'tiny', seed: 1, status: 'done' });
    expect(out.iterations.map((it: { iteration: number }) => it.iteration)).toEqual([0, 1]);
    for (const file of [
      'run.json',
      'teacher.jsonl',
      'metrics.jsonl',
      'iter-0/eval.json',
      'iter-1/train.jsonl',
      'iter-1/model/model.safetensors',
    ]) {
      expect(fs.existsSync(path.join(demoDir, file))).toBe(true);
    }
    // Every checkpoint carries the student's text format, so eval/generate prompt it as trained.
    expect(fs.readFileSync(path.join(demoDir, 'iter-1/model/student-format.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(demoDir, 'base-model/student-format.json'), 'utf8'),
    );
    const datasets = Object.keys(
      JSON.parse(fs.readFileSync(path.join(demoDir, 'iter-1/eval.json'), 'utf8')).datasets,
    );
    expect(datasets).toEqual(expect.arrayContaining(['validation', 'test', 'ood-distractor']));
    // progress went to stderr as plain lines (not a TTY), results to stdout
    expect(result.stderr).toMatch(/train iter-0: \d+\/\d+ \(100%\)/);
    expect(result.stderr).toMatch(/eval iter-1 validation: \d+\/\d+ \(100%\)/);
  });

  testWith('chromium')(
    'report rebuilds the run report: PNGs of the documented size, page with plots and tables',
    async () => {
      const result = siked(['report', demoDir, '--json']);
      expect(result.status).toBe(0);
      const written = JSON.parse(result.stdout);
      expect(written.figures.length).toBeGreaterThanOrEqual(4);
      for (const figure of written.figures)
        expect(pngSize(figure.png)).toEqual({ width: 1280, height: 720 });
      const page = await inspectReportPage(written.html);
      expect(page.consoleErrors).toEqual([]);
      expect(page.figures.length).toBe(written.figures.length);
      for (const figure of page.figures) expect(figure.naturalWidth).toBe(640);
      expect(page.tables.map((t) => t.caption)).toContain('Accuracy per data set and iteration');
      expect(
        page.tables.find((t) => t.caption === 'Accuracy per data set and iteration')!.rows,
      ).toBe(2);
    },
  );

  it('distill: a run killed mid-way resumes with --resume to the same finished state', async () => {
    const world = buildSyntheticWorld('tiny', 2);
    const train = path.join(dir, 'train.jsonl');
    const test = path.join(dir, 'test.jsonl');
    fs.writeFileSync(train, world.splits.train.map((p) => JSON.stringify(p)).join('\n') + '\n');
    fs.writeFileSync(test, world.splits.test.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const runDir = path.join(dir, 'distill');
    const args = [
      'distill',
      '--teacher',
      'synthetic',
      '--train',
      train,
      '--eval-set',
      `test=${test}`,
      '--model',
      path.join(demoDir, 'base-model'),
      '--out',
      runDir,
      '--lora-rank',
      '0',
      '--iterations',
      '1',
      '--teacher-samples-per-question',
      '1',
      '--self-samples',
      '2',
      '--max-new-tokens',
      '48',
      '--train-epochs',
      '1',
      '--train-learning-rate',
      '0.003',
      ...['--train-weight-decay', '0.01', '--train-max-grad-norm', '1'],
      ...['--train-lr-scheduler', 'linear', '--train-warmup-steps', '2'],
      ...['--train-over-length', 'drop'],
      ...['--self-working-checks', 'arithmetic,grounded-names'],
      '--threads',
      '1',
      ...SANDBOX,
    ];
    // Kill it (SIGKILL) as soon as iteration 0's training has started.
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [SIKED, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('stage iter-0/train')) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`not killed: ${code} ${stderr}`)),
      );
    });
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).status).toBe(
      'running',
    );
    // The optimizer, schedule and over-length flags reach the run's recorded settings.
    expect(
      JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).config.training,
    ).toMatchObject({
      weightDecay: 0.01,
      maxGradNorm: 1,
      lrScheduler: 'linear',
      warmupSteps: 2,
      overLength: 'drop',
    });
    expect(
      JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).config.selfWorkingChecks,
    ).toEqual(['arithmetic', 'grounded-names']);
    const resumed = siked(['distill', '--resume', runDir, '--json']);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    expect(resumed.stderr).toMatch(/stage teacher: already done/);
    const out = JSON.parse(resumed.stdout);
    expect(out.status).toBe('done');
    expect(out.iterations).toHaveLength(2);
    expect(
      jsonLines(fs.readFileSync(path.join(runDir, 'iter-1/eval-test.jsonl'), 'utf8')),
    ).toHaveLength(world.splits.test.length);
  });

  it('distill: exits 2 with --resume of a folder it did not start, and on a bad config file', () => {
    expect(siked(['distill', '--resume', dir]).status).toBe(2);
    const config = path.join(dir, 'distill-config.json');
    fs.writeFileSync(config, '{\n  "iterations": -1,\n  "mixng": "all"\n}\n');
    const result = siked(['distill', '--config', config]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`config file ${config}, line 2, field "iterations"`);
    expect(result.stderr).toContain(`config file ${config}, line 3, field "mixng": unknown option`);
  });

  it('bench engine --json: train and decode figures keyed by batch size, peak RSS', () => {
    const result = siked([
      'bench',
      'engine',
      '--config',
      'tiny',
      '--quick',
      '--no-baseline',
      '--json',
      '--threads',
      '1',
    ]);
    expect(result.status).toBe(0);
    const figures = JSON.parse(result.stdout);
    expect(figures.train_tokens_per_s).toBeGreaterThan(0);
    expect(Object.keys(figures.decode_tokens_per_s).sort()).toEqual(['1', '32', '8']);
    expect(figures.peak_rss_mb).toBeGreaterThan(0);
    // the batch-1 floor: one read of the fp32 weights per token at the measured bandwidth
    expect(figures.weight_bytes).toBe(figures.params * 4);
    expect(figures.copy_bandwidth_gb_per_s).toBeGreaterThan(0);
    const floor = (figures.copy_bandwidth_gb_per_s * 1e9) / figures.weight_bytes;
    expect(Math.abs(figures.decode_b1_floor_tokens_per_s / floor - 1)).toBeLessThan(0.01);
    expect(figures.baseline).toBeUndefined();
    expect(siked(['bench', 'engine', '--config', 'huge']).status).toBe(2);
  });

  it('bench sandbox --json: pool vs one process per program, in one run', () => {
    const result = siked([
      'bench',
      'sandbox',
      '--programs',
      '200',
      '--baseline-programs',
      '5',
      '--json',
      ...SANDBOX,
    ]);
    expect(result.status).toBe(0);
    const figures = JSON.parse(result.stdout);
    expect(figures.pool.programs).toBe(200);
    expect(figures.baseline.programs).toBe(5);
    expect(figures.speedup).toBeCloseTo(
      figures.pool.programsPerSecond / figures.baseline.programsPerSecond,
      5,
    );
  });

  it('bench loop --json: a whole tiny run broken down by stage', () => {
    const result = siked(['bench', 'loop', '--preset', 'tiny', '--threads', '1', '--json']);
    expect(result.status).toBe(0);
    const figures = JSON.parse(result.stdout);
    expect(figures.preset).toBe('tiny');
    expect(figures.stages.map((s: { stage: string }) => s.stage)).toEqual(
      expect.arrayContaining(['teacher', 'iter-0/train', 'iter-1/sample']),
    );
    const shares = Object.values(figures.shares as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    // Shares of the wall time spent in stages (time between stages is not attributed).
    expect(shares).toBeGreaterThan(0.5);
    expect(shares).toBeLessThanOrEqual(1 + 1e-9);
  });
});
