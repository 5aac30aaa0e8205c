// End-to-end: a tiny SIKeD run (synthetic world, real CPU engine, real Python sandbox) is
// SIGKILLed at random moments, restarted on the same folder each time, and must end with exactly
// the same artefacts as an uninterrupted run with the same seed.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import prand from 'pure-rand';
import { Model } from '@siked/native-cuda';
import { buildSyntheticWorld, readManifest } from '../../src';
import { TINY_WORLD_SEED } from './fixtures/tiny-run-settings';

const fixtures = path.join(__dirname, 'fixtures');
const KILLS = 3;

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  elapsedMs: number;
  stages: string[];
}

/** Where to kill a child: `delayMs` after it reports the start of `stage`. */
interface KillPoint {
  stage: string;
  delayMs: number;
}

/** Runs the tiny run in a child; SIGKILLs it at `kill` when given. */
function runChild(runDir: string, baseDir: string, kill?: KillPoint): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '-r',
        path.join(fixtures, 'register-ts.js'),
        path.join(fixtures, 'tiny-run.ts'),
        runDir,
        baseDir,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (kill && timer === undefined && stdout.includes(startMarker!)) {
        timer = setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timer: NodeJS.Timeout | undefined;
    const startMarker = kill && JSON.stringify({ type: 'stage-start', stage: kill.stage });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stages = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { type: string; stage?: string })
        .filter((e) => e.type === 'stage-done')
        .map((e) => e.stage!);
      resolve({ code, signal, stderr, elapsedMs: Date.now() - started, stages });
    });
  });
}

/** Every file of a run folder except the manifest and metrics log (timestamps, rates), as bytes. */
async function artefacts(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (relative: string) => {
    for (const entry of await fs.readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (child !== 'run.json' && child !== 'metrics.jsonl')
        out.set(child, await fs.readFile(path.join(dir, child)));
    }
  };
  await walk('');
  return out;
}

describe('resume after SIGKILL (tiny synthetic run on the CPU engine)', () => {
  let root: string;
  let baseDir: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-resume-'));
    baseDir = path.join(root, 'base');
    const world = buildSyntheticWorld('tiny', TINY_WORLD_SEED);
    const model = Model.fromConfig(world.modelConfig, { seed: 1, threads: 1 });
    await model.save(baseDir);
    model.dispose();
    await fs.writeFile(path.join(baseDir, 'tokenizer.json'), JSON.stringify(world.tokenizerJson));
    await fs.writeFile(
      path.join(baseDir, 'tokenizer_config.json'),
      JSON.stringify(world.tokenizerConfig),
    );
  });
  afterAll(() =>
    process.env.SIKED_KEEP_RESUME_DIRS ? undefined : fs.rm(root, { recursive: true, force: true }),
  );

  it('ends with the same artefacts as an uninterrupted run', async () => {
    const referenceDir = path.join(root, 'reference');
    const reference = await runChild(referenceDir, baseDir);
    expect(reference.stderr).toBe('');
    expect(reference.code).toBe(0);
    const referenceManifest = (await readManifest(referenceDir))!;
    expect(referenceManifest.status).toBe('done');
    const expected = await artefacts(referenceDir);
    expect([...expected.keys()]).toEqual(
      expect.arrayContaining([
        'teacher.jsonl',
        'iter-1/samples.jsonl',
        'iter-1/model/model.safetensors',
        'iter-1/eval.json',
      ]),
    );

    // Kill points (seeded): three stages drawn in run order, each killed a random 0-0.8 s after it
    // starts (the restart skips finished stages, so each kill lands where it was aimed).
    const rng = prand.xoroshiro128plus(Number(process.env.SIKED_RESUME_SEED ?? 20261128));
    const stages = Object.keys(referenceManifest.stages);
    const chosen = new Set<number>();
    while (chosen.size < KILLS)
      chosen.add(prand.unsafeUniformIntDistribution(1, stages.length - 1, rng));
    const killPoints: KillPoint[] = [...chosen]
      .sort((x, y) => x - y)
      .map((i) => ({
        stage: stages[i]!,
        delayMs: prand.unsafeUniformIntDistribution(0, 800, rng),
      }));
    const killedDir = path.join(root, 'killed');
    const log: string[] = [];
    for (const [kill, killPoint] of killPoints.entries()) {
      const outcome = await runChild(killedDir, baseDir, killPoint);
      const where = `${killPoint.delayMs} ms into ${killPoint.stage}`;
      log.push(
        `kill ${kill + 1} ${where}: ${outcome.signal ?? `exit ${outcome.code}`}, stages finished: ${outcome.stages.join(', ') || 'none'}`,
      );
      if (outcome.signal !== 'SIGKILL') expect(outcome.code).toBe(0); // it may finish before the kill
    }
    const final = await runChild(killedDir, baseDir);
    log.push(
      `final run: exit ${final.code}, stages finished: ${final.stages.join(', ') || 'none'}`,
    );
    console.log(`reference run ${reference.elapsedMs} ms\n${log.join('\n')}`);
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);
    expect((await readManifest(killedDir))!.status).toBe('done');

    const actual = await artefacts(killedDir);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    const differing = [...expected]
      .filter(([file, bytes]) => !actual.get(file)!.equals(bytes))
      .map(([file]) => file);
    for (const file of differing.filter((f) => !f.endsWith('.safetensors'))) {
      // Show the first differing line of each text artefact, to make a failure debuggable.
      const want = expected.get(file)!.toString('utf8').split('\n');
      const got = actual.get(file)!.toString('utf8').split('\n');
      const line = want.findIndex((text, i) => text !== got[i]);
      console.log(`${file}:${line + 1}\n  expected: ${want[line]}\n  actual:   ${got[line]}`);
    }
    expect(differing).toEqual([]);
  });
});
