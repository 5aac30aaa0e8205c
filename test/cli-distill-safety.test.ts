// `siked distill`'s run-folder contract (issue 16, items 1-3 and 10): a refused call leaves the
// run as it was; --resume works from any directory; a folder of other files is never written
// into; missing or empty inputs are refused before anything is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyntheticWorld } from '@siked/core';
import { writeTinyModel } from './helpers/fixture-model';
import { siked, temporaryDirectory } from './helpers/cli';

const SANDBOX = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

describe('siked distill: the run folder is safe from refused and misdirected calls', () => {
  const { dir, cleanup } = temporaryDirectory('distill-safety');
  afterAll(cleanup);
  // Relative paths throughout, as a user types them from the project folder (`dir`).
  const options = (out: string) => [
    'distill',
    '--teacher',
    'synthetic',
    '--train',
    'train.jsonl',
    '--eval-set',
    'test=test.jsonl',
    '--model',
    'model',
    '--out',
    out,
    '--lora-rank',
    '0',
    '--iterations',
    '0',
    '--max-new-tokens',
    '16',
    '--train-epochs',
    '1',
    '--threads',
    '1',
    ...SANDBOX,
  ];
  const runDir = path.join(dir, 'runs', 'first');
  const record = path.join(runDir, 'distill.json');

  beforeAll(async () => {
    await writeTinyModel(dir);
    const world = buildSyntheticWorld('tiny', 5);
    const lines = world.splits.train.map((p) => JSON.stringify(p)).join('\n');
    fs.writeFileSync(path.join(dir, 'train.jsonl'), `${lines}\n`);
    const first = siked([...options('runs/first'), '--json'], { cwd: dir });
    expect(first.stderr).not.toMatch(/TypeError|ENOENT/);
    expect(first.status).toBe(0);
  }, 120_000);

  it('records its paths relative to the run folder and resumes from any directory', () => {
    const recorded = JSON.parse(fs.readFileSync(record, 'utf8'));
    expect(recorded.train).toBe(path.join('..', '..', 'train.jsonl'));
    expect(recorded.evalSet).toEqual([`test=${path.join('..', '..', 'test.jsonl')}`]);
    expect(recorded.out).toBeUndefined();
    // From inside runs/ with a relative --resume, and from an unrelated directory.
    for (const [cwd, resume] of [
      [path.join(dir, 'runs'), 'first'],
      [path.dirname(dir), runDir],
    ]) {
      const resumed = siked(['distill', '--resume', resume, '--json'], { cwd });
      expect(resumed.stderr).toContain('resuming');
      expect(resumed.status).toBe(0);
      const out = JSON.parse(resumed.stdout);
      expect(path.resolve(cwd, out.runDir)).toBe(runDir);
      expect(out.status).toBe('done');
    }
    expect(fs.existsSync(path.join(dir, 'runs', 'runs'))).toBe(false);
  }, 120_000);

  it('refuses other options for an existing run, naming them, and leaves distill.json as it was', () => {
    const before = fs.readFileSync(record, 'utf8');
    const result = siked([...options('runs/first'), '--seed', '7'], { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/seed: 0 in the run, 7 now/);
    expect(result.stderr).toContain('--resume');
    expect(fs.readFileSync(record, 'utf8')).toBe(before);
    expect(siked(['distill', '--resume', runDir], { cwd: dir }).status).toBe(0);
  }, 120_000);

  it('refuses a run folder held by a live process without writing into it', () => {
    const before = fs.readFileSync(record, 'utf8');
    fs.writeFileSync(path.join(runDir, 'run.lock'), `${process.pid}\n`);
    try {
      for (const args of [['distill', '--resume', runDir], options('runs/first')]) {
        const result = siked(args, { cwd: dir });
        expect(result.status).toBe(2);
        expect(result.stderr).toContain(`in use by process ${process.pid}`);
      }
      expect(fs.readFileSync(record, 'utf8')).toBe(before);
    } finally {
      fs.rmSync(path.join(runDir, 'run.lock'));
    }
  });

  it('refuses options given with --resume (they would be ignored)', () => {
    const result = siked(['distill', '--resume', runDir, '--seed', '3', '--iterations', '2']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--seed, --iterations would be ignored/);
  });

  it('never writes into the folder `siked teach --out` wrote; points at its teacher.jsonl', () => {
    const taught = path.join(dir, 'taught');
    const teach = siked(
      [
        'teach',
        '--teacher',
        'synthetic',
        '--data',
        'train.jsonl',
        '--samples',
        '1',
        '--out',
        'taught',
        ...SANDBOX,
      ],
      { cwd: dir },
    );
    expect(teach.status).toBe(0);
    const teacherFile = path.join(taught, 'teacher.jsonl');
    const before = fs.readFileSync(teacherFile, 'utf8');
    const listing = fs.readdirSync(taught).sort();
    const result = siked(options('taught'), { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stderr).not.toContain('TypeError');
    expect(result.stderr).toContain('holds other files');
    expect(result.stderr).toContain(`--teacher recorded:${path.join('taught', 'teacher.jsonl')}`);
    expect(fs.readFileSync(teacherFile, 'utf8')).toBe(before);
    expect(fs.readdirSync(taught).sort()).toEqual(listing);
  });

  it('refuses missing, misplaced and empty inputs before creating the run folder', () => {
    fs.writeFileSync(path.join(dir, 'empty.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'a-file'), 'x');
    const cases: Array<[string[], RegExp]> = [
      [['--train', 'missing.jsonl'], /--train missing\.jsonl: no such file/],
      [['--train', 'model'], /--train model: a folder, expected a file/],
      [['--train', 'empty.jsonl'], /--train empty\.jsonl: no problems in the file/],
      [['--eval-set', 'test=gone.jsonl'], /--eval-set test=gone\.jsonl: no such file/],
      [['--eval-set', 'test=empty.jsonl'], /--eval-set test=empty\.jsonl: no problems/],
      [['--teacher', 'recorded:gone.jsonl'], /--teacher recorded:gone\.jsonl: no such file/],
      [['--model', 'a-file'], /--model a-file: a file, expected a checkpoint folder/],
    ];
    for (const [override, message] of cases) {
      const args = options('runs/never');
      for (let i = 0; i < override.length; i += 2) {
        const at = args.indexOf(override[i]!);
        args[at + 1] = override[i + 1]!;
      }
      const result = siked(args, { cwd: dir });
      expect({ args: override, status: result.status }).toEqual({ args: override, status: 2 });
      expect(result.stderr).toMatch(message);
    }
    expect(fs.existsSync(path.join(dir, 'runs', 'never'))).toBe(false);
    // Under --json the error is one JSON object on stderr.
    const json = siked([...options('runs/never'), '--train', 'missing.jsonl', '--json'], {
      cwd: dir,
    });
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stderr.trim())).toEqual({
      error: { kind: 'usage', message: '--train missing.jsonl: no such file' },
    });
    const intoFile = siked(options('a-file'), { cwd: dir });
    expect(intoFile.status).toBe(2);
    expect(intoFile.stderr).toContain('--out a-file: a file, not a folder');
  });
});
