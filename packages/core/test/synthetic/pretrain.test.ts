// The pretrained base model: its corpus (deterministic, disjoint from every split, in the
// world's vocabulary, no labels), a real engine run that lowers the held-out LM loss below the
// random init, and the content-hash cache that every later call reuses without training.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Model } from '@siked/native-cuda';
import { EngineStudent } from '../../src/student/engine-student';
import { HfTokenizer } from '../../src/student/tokenizer';
import {
  buildPretrainingCorpus,
  buildSyntheticWorld,
  corpusDocuments,
  languageModelLoss,
  pretrainSyntheticBase,
  questionKey,
  syntheticPreset,
  writeSyntheticBaseModel,
  type PretrainEvent,
  type PretrainingSummary,
} from '../../src/synthetic';

const world = buildSyntheticWorld('tiny', 0);
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'siked-pretrain-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function heldOutLoss(dir: string, documents: readonly string[]): Promise<number> {
  const student = new EngineStudent(
    await Model.fromPretrained(dir, { threads: 1 }),
    await HfTokenizer.fromFile(dir),
  );
  try {
    return await languageModelLoss(student, documents);
  } finally {
    student.dispose();
  }
}

test('the corpus is deterministic, has every kind, and a different stream differs', () => {
  const corpus = buildPretrainingCorpus(world);
  expect(buildPretrainingCorpus(buildSyntheticWorld('tiny', 0))).toEqual(corpus);
  const counts = world.preset.pretraining!.documents;
  expect(corpus.problems).toHaveLength(counts.problems);
  expect(corpus.arithmetic).toHaveLength(counts.arithmetic);
  expect(corpus.code).toHaveLength(counts.code);
  expect(buildPretrainingCorpus(world, { stream: 'other' }).problems).not.toEqual(corpus.problems);
  expect(buildPretrainingCorpus(buildSyntheticWorld('tiny', 1)).code).not.toEqual(corpus.code);
});

test('no corpus question is a question of any split (even with many documents)', () => {
  const documents = { problems: 2000, arithmetic: 0, code: 0 };
  const corpus = buildPretrainingCorpus(world, { documents });
  const keys = new Set(corpus.problems.map(questionKey));
  expect(keys.size).toBe(corpus.problems.length);
  for (const [name, problems] of Object.entries(world.splits)) {
    const overlap = problems.filter((problem) => keys.has(questionKey(problem.question)));
    expect({ name, overlap: overlap.length }).toEqual({ name, overlap: 0 });
  }
});

test('every document is unlabelled text in the world vocabulary: no <unk>, tags or answers', () => {
  const corpus = buildPretrainingCorpus(world, {
    documents: { problems: 300, arithmetic: 300, code: 300 },
  });
  for (const document of corpusDocuments(corpus)) {
    expect({ document, unknown: world.tokenizer.unknownPieces(document) }).toEqual({
      document,
      unknown: [],
    });
    expect(document).not.toMatch(/\[(cot|l2m|pot)\]|Final answer|Sub-question|answer =|A: /);
  }
  // Facts are true, divisions exact, differences non-negative.
  for (const line of corpus.arithmetic.flatMap((document) => document.split('\n'))) {
    const [, a, op, b, result] = /^(\d+) ([-+*/]) (\d+) = (\d+)$/.exec(line)!;
    const [x, y] = [Number(a), Number(b)];
    const value = { '+': x + y, '-': x - y, '*': x * y, '/': x / y }[op as '+'];
    expect(Number(result)).toBe(value);
  }
  // Snippets are straight-line assignments that evaluate to whole numbers.
  for (const document of corpus.code) {
    const scope = new Map<string, number>();
    for (const line of document.split('\n')) {
      const [, name, left, op, right] = /^([a-z_]+) = (\w+) ([-+*/]) (\w+)$/.exec(line)!;
      const value = (term: string) => (/^\d+$/.test(term) ? Number(term) : scope.get(term)!);
      const [x, y] = [value(left), value(right)];
      expect(x === undefined || y === undefined).toBe(false);
      const result = { '+': x + y, '-': x - y, '*': x * y, '/': x / y }[op as '+'];
      expect(Number.isInteger(result) && result >= 0).toBe(true);
      scope.set(name, result);
    }
  }
});

test('pretraining lowers the held-out LM loss below random init; a second call hits the cache', async () => {
  const cacheDir = path.join(scratch, 'cache');
  const randomDir = path.join(scratch, 'random');
  const firstDir = path.join(scratch, 'arm-a');
  const secondDir = path.join(scratch, 'arm-b');
  const events: PretrainEvent['type'][] = [];
  const onProgress = (event: PretrainEvent) => events.push(event.type);
  await writeSyntheticBaseModel(world, randomDir, { threads: 1 });
  await writeSyntheticBaseModel(world, firstDir, {
    threads: 1,
    pretrain: true,
    cacheDir,
    onProgress,
  });
  expect(events.filter((type) => type === 'step').length).toBeGreaterThan(10);
  expect(events.at(-1)).toBe('trained');
  const files = readdirSync(firstDir).sort();
  expect(files).toEqual([
    'config.json',
    'model.safetensors',
    'pretraining-summary.json',
    'student-format.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^pretrained-[0-9a-f]{16}$/)]);
  const summary = JSON.parse(
    readFileSync(path.join(firstDir, 'pretraining-summary.json'), 'utf8'),
  ) as PretrainingSummary;
  expect(summary.finalLoss).toBeLessThan(summary.firstLoss);
  expect(summary.heldOut.lossAfter).toBeLessThan(summary.heldOut.lossBefore);
  expect(summary.corpus.tokens).toBeGreaterThan(0);

  // Scored here, independently, on held-out documents the training corpus does not contain.
  const trainedOn = new Set(corpusDocuments(buildPretrainingCorpus(world)));
  const heldOut = corpusDocuments(
    buildPretrainingCorpus(world, {
      documents: { problems: 16, arithmetic: 8, code: 8 },
      stream: 'test-heldout',
      avoid: trainedOn,
    }),
  );
  expect(heldOut.some((document) => trainedOn.has(document))).toBe(false);
  const before = await heldOutLoss(randomDir, heldOut);
  const after = await heldOutLoss(firstDir, heldOut);
  expect(before).toBeGreaterThan(5); // ~ln(vocabulary) at random init
  expect(after).toBeLessThan(before - 1);

  // Another arm: the same inputs copy the cached checkpoint, no training step is taken.
  events.length = 0;
  const started = Date.now();
  const again = await pretrainSyntheticBase(world, secondDir, { threads: 1, cacheDir, onProgress });
  expect(events).toEqual(['cache-hit']);
  expect(Date.now() - started).toBeLessThan(2000);
  expect(again).toEqual(summary);
  expect(readFileSync(path.join(secondDir, 'model.safetensors'))).toEqual(
    readFileSync(path.join(firstDir, 'model.safetensors')),
  );
  // A folder holding the other kind of base is refused rather than silently kept.
  await expect(
    writeSyntheticBaseModel(world, randomDir, { pretrain: true, cacheDir }),
  ).rejects.toThrow(/random-init base model but a pretrained one/);
  await expect(writeSyntheticBaseModel(world, secondDir, { threads: 1 })).rejects.toThrow(
    /pretrained base model but a random-init one/,
  );
  // Other settings are another checkpoint.
  events.length = 0;
  const settings = { ...world.preset.pretraining!, epochs: 1 };
  await pretrainSyntheticBase(world, path.join(scratch, 'arm-c'), {
    threads: 1,
    cacheDir,
    settings,
    onProgress,
  });
  expect(events.at(-1)).toBe('trained');
  expect(readdirSync(cacheDir)).toHaveLength(2);
  // So is a bf16 pretraining (LoadOptions.precision); fp32 keeps the hash it always had.
  events.length = 0;
  const bf16 = await pretrainSyntheticBase(world, path.join(scratch, 'arm-d'), {
    threads: 1,
    cacheDir,
    precision: 'bf16',
    onProgress,
  });
  expect(events.at(-1)).toBe('trained');
  expect(bf16.precision).toBe('bf16');
  expect(bf16.hash).not.toBe(summary.hash);
  expect(summary.precision).toBe('fp32');
  expect(readdirSync(cacheDir)).toHaveLength(3);
});

// The measurement of docs/SYNTHETIC_WORLD.md ("The base model"): SIKED_PRETRAIN_PROBE=demo
// (a preset name), optionally SIKED_PRETRAIN_SEED and SIKED_PRETRAIN_THREADS (default 0 and 1)
// and SIKED_PRETRAIN_SETTINGS (JSON merged over the preset's pretraining settings).
const probePreset = process.env.SIKED_PRETRAIN_PROBE;
(probePreset ? test : test.skip)(
  `pretraining probe on the ${probePreset ?? 'demo'} world`,
  async () => {
    const seed = Number(process.env.SIKED_PRETRAIN_SEED ?? 0);
    const threads = Number(process.env.SIKED_PRETRAIN_THREADS ?? 1);
    const probeWorld = buildSyntheticWorld(syntheticPreset(probePreset ?? 'demo'), seed);
    const settings = {
      ...probeWorld.preset.pretraining!,
      ...(JSON.parse(process.env.SIKED_PRETRAIN_SETTINGS ?? '{}') as object),
    };
    const started = Date.now();
    const summary = await pretrainSyntheticBase(probeWorld, path.join(scratch, 'probe'), {
      threads,
      settings,
      cacheDir: path.join(scratch, 'probe-cache'),
    });
    const { lossCurve, ...figures } = summary;
    const curve = lossCurve.map(({ step, loss }) => `${step}:${loss}`).join(' ');
    console.log(
      JSON.stringify({ wallSeconds: (Date.now() - started) / 1000, ...figures }, null, 1),
      `\nloss curve (mean per window, step:loss): ${curve}`,
    );
    expect(summary.heldOut.lossAfter).toBeLessThan(summary.heldOut.lossBefore);
  },
  600_000,
);
