// siked experiment on the tiny preset: every arm runs, SIKeD-all and combined-continue fork
// SIKeD-sparse's iteration 0, the controls are matched in optimizer steps, RESULTS.md is written
// with intervals and the family table, and a rerun resumes instead of retraining.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forkRunAfterIteration0 } from '@siked/core';
import { siked, temporaryDirectory } from './helpers/cli';

const SANDBOX = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

describe('siked experiment (built CLI, tiny preset)', () => {
  const { dir, cleanup } = temporaryDirectory('experiment');
  afterAll(cleanup);
  const out = path.join(dir, 'exp');
  const args = [
    'experiment',
    '--preset',
    'tiny',
    '--seeds',
    '3,4',
    '--iterations',
    '1',
    '--arms',
    'siked-sparse,siked-all,combined-continue,cot,l2m,pot',
    '--out',
    out,
    '--threads',
    '1',
    '--jobs',
    '2',
    '--json',
    ...SANDBOX,
  ];
  const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(out, file), 'utf8'));

  it('runs every arm per seed and writes RESULTS.md with the comparison', () => {
    const result = siked(args, { timeoutMs: 300_000 });
    expect(result.status).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed.results).toBe(path.join(out, 'RESULTS.md'));
    expect(printed.summary.seeds).toEqual([3, 4]);
    expect(
      printed.summary.methods.map((m: { method: { label: string } }) => m.method.label),
    ).toEqual([
      'CoT only',
      'L2M only',
      'PoT only',
      'Combined (iteration 0)',
      'SIKeD-sparse, iteration 1',
      'SIKeD-sparse, chosen on validation',
      'SIKeD-all, iteration 1',
      'SIKeD-all, chosen on validation',
      'Combined-continue, iteration 1',
      'Combined-continue, chosen on validation',
    ]);
    const page = fs.readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
    expect(page).toContain('npx siked experiment --preset tiny --seeds 3,4');
    expect(page).toMatch(/\| PoT only \| \d+ \| \d+\.\d ± \d+\.\d \|/);
    expect(page).toContain('## SIKeD minus each control (paired bootstrap, 95%)');
    expect(page).toContain(
      '| SIKeD-sparse, chosen on validation − Combined-continue, chosen on validation |',
    );
    expect(page).toContain('## Which strategy suits which family');
    expect(page).toContain('| unknown-start |');
    expect(page).toContain(
      '![Accuracy (test) against optimizer steps](results-accuracy-vs-steps-test.svg)',
    );
    expect(fs.readFileSync(path.join(out, 'results-accuracy-vs-steps-test.svg'), 'utf8')).toMatch(
      /^<svg/,
    );

    for (const seed of [3, 4]) {
      // single-strategy baselines: one strategy in the teacher data and in the answers
      const cot = readJson(`seed-${seed}/cot/run.json`);
      expect(cot.config).toMatchObject({
        strategies: ['cot'],
        forcedStrategy: 'cot',
        iterations: 0,
      });
      // SIKeD-all continues from SIKeD-sparse's iteration 0 (same student, same evaluation)
      const all = readJson(`seed-${seed}/siked-all/run.json`);
      expect(all.config).toMatchObject({ mixing: 'all', iterations: 1 });
      expect(all.status).toBe('done');
      expect(readJson(`seed-${seed}/siked-all/iter-0/eval.json`)).toEqual(
        readJson(`seed-${seed}/siked-sparse/iter-0/eval.json`),
      );
      expect(
        fs.existsSync(path.join(out, `seed-${seed}/siked-all/iter-1/model/model.safetensors`)),
      ).toBe(true);
      // Matched compute: the single strategies train combined distillation's step count, and
      // combined-continue trains D_LLM alone for SIKeD-sparse's iteration-1 steps.
      const sparse = readJson(`seed-${seed}/siked-sparse/run.json`);
      const steps = (run: { stages: Record<string, { details: { steps: number } }> }, t: number) =>
        run.stages[`iter-${t}/train`]!.details.steps;
      expect(steps(cot, 0)).toBe(steps(sparse, 0));
      const control = readJson(`seed-${seed}/combined-continue/run.json`);
      expect(control.config).toMatchObject({
        mixing: 'teacher-only',
        stepsPerIteration: [null, steps(sparse, 1)],
      });
      expect(steps(control, 1)).toBe(steps(sparse, 1));
      const teacherData = fs.readFileSync(
        path.join(out, `seed-${seed}/siked-sparse/iter-0/train.jsonl`),
        'utf8',
      );
      expect(
        fs.readFileSync(
          path.join(out, `seed-${seed}/combined-continue/iter-1/train.jsonl`),
          'utf8',
        ),
      ).toBe(teacherData);
      // The base model was pretrained once per seed (cached in the experiment folder).
      expect(
        fs.existsSync(path.join(out, `seed-${seed}/base-model/pretraining-summary.json`)),
      ).toBe(true);
    }
  }, 300_000);

  it('a rerun resumes every finished run and writes the same table', () => {
    const before = fs.readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
    const wallFiles = ['experiment.wall-seconds.json', 'seed-3/siked-sparse.wall-seconds.json'];
    const wallBefore = wallFiles.map(readJson);
    const result = siked(args, { timeoutMs: 120_000 });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/train iter-0/);
    const after = fs.readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
    const table = (page: string) =>
      page.slice(page.indexOf('## Accuracy'), page.indexOf('## Wall'));
    expect(table(after)).toEqual(table(before));
    // reloading finished runs is not time spent on the experiment
    expect(wallFiles.map(readJson)).toEqual(wallBefore);
  }, 120_000);

  it('refuses to continue the experiment in another --precision', () => {
    expect(readJson('engine-precision.json')).toEqual({ precision: 'fp32' });
    const result = siked([...args, '--precision', 'bf16'], { timeoutMs: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /--precision bf16: the experiment in .* was run with --precision fp32/,
    );
    expect(readJson('engine-precision.json')).toEqual({ precision: 'fp32' });
  });

  it('refuses a fork whose settings would change iteration 0', async () => {
    const source = path.join(out, 'seed-3/siked-sparse');
    const recorded = readJson('seed-3/siked-sparse/run.json').config;
    await expect(
      forkRunAfterIteration0(source, path.join(dir, 'bad-fork'), {
        ...recorded,
        training: { ...recorded.training, epochs: recorded.training.epochs + 1 },
      }),
    ).rejects.toThrow(/settings training differ/);
    expect(fs.existsSync(path.join(dir, 'bad-fork'))).toBe(false);
  });

  it('forks with self-sample working checks, which shape only the later iterations', async () => {
    const source = path.join(out, 'seed-3/siked-sparse');
    const recorded = readJson('seed-3/siked-sparse/run.json').config;
    const settings = await forkRunAfterIteration0(source, path.join(dir, 'checked-fork'), {
      ...recorded,
      selfWorkingChecks: ['arithmetic', 'grounded-names'],
    });
    expect(settings.selfWorkingChecks).toEqual(['arithmetic', 'grounded-names']);
    expect(fs.existsSync(path.join(dir, 'checked-fork/iter-0'))).toBe(true);
  });
});
