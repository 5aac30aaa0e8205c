#!/usr/bin/env node
// Milliseconds per decode step of the engine alone, for kernel work between full `siked bench
// engine` runs: generate(128) - generate(1) over 127 steps (the bench's method, prefill cancels),
// median of the repeats, on a bench config with random weights and prompts of 64 tokens.
//   node tools/bench/decode-steps.mjs [--config tiny|small|smollm135m-shape] [--batch 32]
//     [--repeats 3] [--threads N] [--weights fp32|bf16|int8]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Model } = require('../../packages/native-cuda/dist/index.js');
const { BENCH_CONFIGS, benchModelConfig } = require('../../packages/native-cuda/dist/bench.js');
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '32' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string' },
    weights: { type: 'string', default: 'fp32' },
  },
});
const shape = BENCH_CONFIGS[values.config];
if (!shape) throw new Error(`--config: one of ${Object.keys(BENCH_CONFIGS).join(', ')}`);
const batch = Number(values.batch);
const model = Model.fromConfig(benchModelConfig(shape), {
  seed: 0,
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});
let state = 7;
const prompts = Array.from({ length: batch }, () =>
  Array.from({ length: 64 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % shape.vocab;
  }),
);
const weights = values.weights;
await model.generate(prompts, { maxNewTokens: 8, weights }); // warm-up
const prefill = [];
const full = [];
for (let r = 0; r < Number(values.repeats); r++) {
  let t0 = performance.now();
  await model.generate(prompts, { maxNewTokens: 1, weights });
  prefill.push(performance.now() - t0);
  t0 = performance.now();
  await model.generate(prompts, { maxNewTokens: 128, weights });
  full.push(performance.now() - t0);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const stepMs = (median(full) - median(prefill)) / 127;
console.log(
  `${values.config} batch ${batch} ${weights}: ${stepMs.toFixed(2)} ms/step, ` +
    `${Math.round((batch * 1000) / stepMs)} new tokens/s (${model.matmulKernel})`,
);
model.dispose();
