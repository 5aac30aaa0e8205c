#!/usr/bin/env node
// Optimizer steps per second of the engine alone at the synthetic demo student's shape (0.19M
// parameters: 3 layers, hidden 64, the demo world's vocabulary of 638), where a training step is bound by everything
// around the GEMMs: packing, the thread pool's hand-offs, softmax / cross-entropy / SwiGLU rows.
// Micro-batches of 8 rows of T tokens whose first --prompt share is masked out of the loss (the
// loop trains on the solution, not the question). Random tokens: the loss does not matter here.
//
// With --baseline-addon PATH (an addon built from another commit, e.g. copied from
// packages/native-cuda/build/Release/siked_native.node before a change) the same measurement runs
// in a child process on that addon (SIKED_ADDON_PATH), alternating with this build's, and the
// ratio of the medians is printed.
//   node tools/bench/train-steps.mjs [--seq 90] [--prompt 0.45] [--steps 400] [--threads N]
//     [--repeats 3] [--baseline-addon PATH]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seq: { type: 'string', default: '90' },
    prompt: { type: 'string', default: '0.45' },
    steps: { type: 'string', default: '400' },
    threads: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    'baseline-addon': { type: 'string' },
    once: { type: 'boolean', default: false }, // internal: one measurement, JSON on stdout
  },
});
const T = Number(values.seq);
const steps = Number(values.steps);
const B = 8;
// The demo world's own student config (seed 0): its shape and its vocabulary.
const require = createRequire(import.meta.url);
const { buildSyntheticWorld } = require('../../packages/core/dist/index.js');
const config = buildSyntheticWorld('demo', 0).modelConfig;

async function measureOnce() {
  const { Model } = require('../../packages/native-cuda/dist/index.js');
  const model = Model.fromConfig(config, {
    seed: 1,
    ...(values.threads ? { threads: Number(values.threads) } : {}),
  });
  let state = 1;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const promptLength = Math.floor(T * Number(values.prompt));
  const batches = Array.from({ length: 16 }, () => {
    const tokens = Int32Array.from({ length: B * T }, () => next() % config.vocab_size);
    const lossMask = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) lossMask.fill(1, b * T + promptLength, (b + 1) * T);
    return { tokens, lossMask, batchSize: B, seqLen: T };
  });
  for (let i = 0; i < 20; i++) await model.trainStep([batches[i % 16]], 1e-3); // warm-up
  const started = performance.now();
  for (let i = 0; i < steps; i++) await model.trainStep([batches[i % 16]], 1e-3);
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  return { stepsPerSecond: steps / seconds, tokensPerSecond: (steps * B * T) / seconds };
}

function measureIn(addon) {
  const args = [fileURLToPath(import.meta.url), '--once', '--seq', values.seq];
  args.push('--prompt', values.prompt, '--steps', values.steps);
  if (values.threads) args.push('--threads', values.threads);
  const env = { ...process.env };
  if (addon) env.SIKED_ADDON_PATH = addon;
  else delete env.SIKED_ADDON_PATH;
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`measurement failed (${addon ?? 'this build'}):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (values.once) {
  process.stdout.write(JSON.stringify(await measureOnce()) + '\n');
} else {
  const baseline = values['baseline-addon'];
  const ours = [];
  const theirs = [];
  for (let r = 0; r < Number(values.repeats); r++) {
    ours.push(measureIn(undefined).stepsPerSecond);
    if (baseline) theirs.push(measureIn(baseline).stepsPerSecond);
  }
  const line = (name, xs) =>
    `${name}: ${median(xs).toFixed(1)} steps/s median (${xs.map((x) => x.toFixed(1)).join(', ')}), ` +
    `${((median(xs) * B * T) / 1000).toFixed(1)}k tokens/s`;
  console.log(`demo student shape, ${B} x ${T} tokens, ${values.prompt} of each row masked`);
  console.log(line('this build', ours));
  if (baseline) {
    console.log(line(`baseline ${baseline}`, theirs));
    console.log(`ratio: ${(median(ours) / median(theirs)).toFixed(2)}x`);
  }
}
