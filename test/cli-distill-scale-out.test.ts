// The scale-out path end to end with the built CLI: `siked distill --sampler URL` against a
// vLLM-like server on 127.0.0.1 that answers from real engine models (test/helpers/
// student-server.ts). A LoRA run registers each iteration's adapter-from-base through
// /v1/load_lora_adapter and samples by naming it; a full fine-tuning run gets its checkpoints
// served by a reload command; --trainer-command trains in a separate process (the reference
// trainer tools/trainers/siked-sft.js) and the loop reads its adapter back.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyntheticWorld, readPeftAdapter } from '@siked/core';
import { Model } from '@siked/native-cuda';
import { jsonLines, sikedAsync, temporaryDirectory } from './helpers/cli';
import { writeTinyModel } from './helpers/fixture-model';
import { startStudentServer, type StudentServerFixture } from './helpers/student-server';

const SANDBOX = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

/** The name the loop registers iteration t's adapter under (its folder's hash in it). */
function adapterName(runDir: string, t: number): string {
  const folder = path.join(runDir, `iter-${t}/adapter-from-base`);
  return `siked-${createHash('sha256').update(folder).digest('hex').slice(0, 10)}-iter-${t}`;
}
const TRAINER = path.resolve(__dirname, '../tools/trainers/siked-sft.js');

describe('siked distill --sampler / --trainer-command (loopback vLLM-like server)', () => {
  const { dir, cleanup } = temporaryDirectory('scale-out');
  let server: StudentServerFixture | undefined;
  let baseDir = '';
  const world = buildSyntheticWorld('tiny', 4);
  // A few questions keep the test short: the answers of a random model do not matter here.
  const train = path.join(dir, 'train.jsonl');
  const test = path.join(dir, 'test.jsonl');
  beforeAll(async () => {
    baseDir = (await writeTinyModel(dir, 4)).modelDir;
    const lines = (problems: readonly object[]) =>
      problems.map((p) => JSON.stringify(p)).join('\n') + '\n';
    fs.writeFileSync(train, lines(world.splits.train.slice(0, 24)));
    fs.writeFileSync(test, lines(world.splits.test.slice(0, 6)));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(cleanup);

  const distill = (runDir: string, ...extra: string[]) =>
    sikedAsync([
      'distill',
      ...['--teacher', 'synthetic', '--train', train, '--eval-set', `test=${test}`],
      ...['--model', baseDir, '--out', runDir, '--iterations', '2', '--no-early-stopping'],
      ...['--teacher-samples-per-question', '1', '--self-samples', '2', '--max-new-tokens', '24'],
      ...['--train-epochs', '1', '--train-learning-rate', '0.01', '--threads', '1', '--json'],
      ...SANDBOX,
      ...extra,
    ]);

  it('LoRA: samples on the server through runtime-loaded adapters that equal the merged students', async () => {
    server = await startStudentServer(baseDir, 'base');
    const runDir = path.join(dir, 'lora');
    const name = (t: number) => adapterName(runDir, t);
    const result = await distill(
      runDir,
      ...['--lora-rank', '4', '--lora-alpha', '8', '--train-packing'],
      ...['--sampler', server.baseUrl, '--sampler-model', 'base', '--sampler-eval'],
    );
    if (result.status !== 0) console.log(result.stderr.slice(-3000));
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).status).toBe('done');
    const loads = server.requests.filter((r) => r.url === '/v1/load_lora_adapter');
    // Iteration t's self-generation samples from student t-1; evaluation asks for every student.
    expect(loads.map((r) => r.body.lora_name)).toEqual([
      name(0),
      name(0),
      name(1),
      name(1),
      name(2),
    ]);
    expect(loads[0]!.body.lora_path).toBe(path.join(runDir, 'iter-0/adapter-from-base'));
    const completions = server.requests.filter((r) => r.url === '/v1/completions');
    const samplingRequests = completions.filter((r) => r.body.n === 2);
    // One request per training question (the validation slice held out) and sampling iteration.
    const samples1 = jsonLines(fs.readFileSync(path.join(runDir, 'iter-1/samples.jsonl'), 'utf8'));
    expect(samples1.length).toBe(
      2 * samplingRequests.filter((r) => r.body.model === name(0)).length,
    );
    expect(new Set(samplingRequests.map((r) => r.body.model))).toEqual(new Set([name(0), name(1)]));
    // Every sample record is a completion the server sent.
    const sent = new Set<string>();
    for (const request of samplingRequests) sent.add(String(request.body.prompt));
    expect(sent.size).toBe(samplingRequests.length / 2);
    // The adapters add up: iteration 1's from-base adapter has rank 4 + 4, and base + it is
    // iteration 1's merged checkpoint.
    const composed = await readPeftAdapter(path.join(runDir, 'iter-1/adapter-from-base'));
    expect([composed.config.r, composed.config.lora_alpha]).toEqual([8, 8]);
    const viaAdapter = await Model.fromPretrained(baseDir, { threads: 1 });
    await viaAdapter.loadLora(path.join(runDir, 'iter-1/adapter-from-base'));
    viaAdapter.mergeLora();
    const merged = await Model.fromPretrained(path.join(runDir, 'iter-1/model'), { threads: 1 });
    let worst = 0;
    for (const { name } of merged.parameterTable()) {
      const a = merged.getParameter(name);
      const b = viaAdapter.getParameter(name);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    viaAdapter.dispose();
    merged.dispose();
    expect(worst).toBeLessThan(1e-5);
    // Evaluation went to the server too: greedy requests (n = 1) for each student.
    expect(completions.some((r) => r.body.n === 1 && r.body.model === name(2))).toBe(true);
  });

  it('full fine-tuning: a reload command serves each checkpoint; --trainer-command trains outside', async () => {
    server = await startStudentServer(baseDir, 'student');
    const root = server.baseUrl.replace(/\/v1$/, '');
    const reload = `node -e "fetch('${root}/admin/reload',{method:'POST',body:JSON.stringify({path:process.env.SIKED_MODEL_DIR})}).then(r=>process.exit(r.ok?0:1))"`;
    const runDir = path.join(dir, 'full');
    const result = await distill(
      runDir,
      ...['--lora-rank', '0', '--trainer-command', `node ${TRAINER}`],
      ...['--sampler', server.baseUrl, '--sampler-model', 'student'],
      ...['--sampler-reload-command', reload],
    );
    if (result.status !== 0) console.log(result.stderr.slice(-3000));
    expect(result.status).toBe(0);
    const reloads = server.requests.filter((r) => r.url === '/admin/reload');
    expect(reloads.map((r) => r.body.path)).toEqual([
      path.join(runDir, 'iter-0/model'),
      path.join(runDir, 'iter-1/model'),
    ]);
    expect(server.requests.some((r) => r.url === '/v1/load_lora_adapter')).toBe(false);
    // The external trainer ran once per iteration, in its own work folder with its log.
    const work = fs.readdirSync(path.join(runDir, 'trainer'));
    expect(work).toHaveLength(3);
    for (const folder of work) {
      const log = fs.readFileSync(path.join(runDir, 'trainer', folder, 'trainer.log'), 'utf8');
      expect(log).toMatch(/trained \d+ steps on \d+ examples/);
    }
    // Its loss log reached metrics.jsonl like in-process training.
    const metrics = jsonLines(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
    expect(metrics.filter((m) => m.kind === 'train' && m.iteration === 2).length).toBeGreaterThan(
      0,
    );
    expect(fs.existsSync(path.join(runDir, 'iter-2/adapter'))).toBe(false);
  });

  it('refuses --sampler without --sampler-model, and a full fine-tuning run without a reload command', async () => {
    const missing = await distill(path.join(dir, 'no-model'), '--sampler', 'http://127.0.0.1:9/v1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--sampler needs --sampler-model');
    expect(fs.existsSync(path.join(dir, 'no-model'))).toBe(false);
    server = await startStudentServer(baseDir, 'base');
    const noReload = await distill(
      path.join(dir, 'no-reload'),
      ...['--lora-rank', '0', '--sampler', server.baseUrl, '--sampler-model', 'base'],
    );
    expect(noReload.status).toBe(1);
    expect(noReload.stderr).toContain('give a reload command (--sampler-reload-command)');
  });
});
