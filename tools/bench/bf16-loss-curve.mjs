// Does mixed-precision training (LoadOptions.precision 'bf16') follow the float32 loss curve?
// Two models of the `small` bench config (12.6M parameters, the same seed), the same batches,
// AdamW at lr 1e-3: one in float32, one with bf16 GEMM operands (AMX / AVX512-BF16 as detected).
// The data is learnable: token streams from a fixed random sparse Markov chain (each token has 4
// likely successors), so the loss falls from ln(8192) = 9.0 towards the chain's entropy rate.
// Prints both curves every 20 steps, the largest relative gap of the 10-step running mean, the
// final losses and the time per step of each.
//
// Run: node tools/bench/bf16-loss-curve.mjs [steps=200] [threads=all]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { Model, BENCH_CONFIGS, benchModelConfig } = require(
  path.join(root, 'packages/native-cuda/dist'),
);
const [steps = 200, threadsArg] = process.argv.slice(2).map(Number);
const threads = threadsArg || undefined;

const shape = BENCH_CONFIGS.small;
const config = benchModelConfig(shape, shape.seqLen);

// A sparse Markov chain: successor i of token t is (t * 31 + i * 977 + 7) mod V, i < 4, picked
// with probabilities 0.55 / 0.25 / 0.15 / 0.05 by a seeded LCG.
let state = 12345;
const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
const weights = [0.55, 0.25, 0.15, 0.05];
function batch() {
  const { trainBatch: B, seqLen: T, vocab: V } = shape;
  const tokens = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let t = Math.floor(random() * V);
    for (let i = 0; i < T; i++) {
      tokens[b * T + i] = t;
      let u = random();
      let k = 0;
      while (k < 3 && u >= weights[k]) u -= weights[k++];
      t = (t * 31 + k * 977 + 7) % V;
    }
  }
  return { tokens, lossMask: new Uint8Array(B * T).fill(1), batchSize: B, seqLen: T };
}
const batches = Array.from({ length: steps }, batch);

async function train(precision) {
  const model = Model.fromConfig(config, { seed: 0, threads, precision });
  model.configureOptimizer({
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
    maxGradNorm: 1,
  });
  const losses = [];
  const t0 = performance.now();
  for (const b of batches) losses.push((await model.trainStep([b], 1e-3)).loss);
  const msPerStep = (performance.now() - t0) / steps;
  const kernel = model.matmulKernel;
  model.dispose();
  return { losses, msPerStep, kernel };
}

const fp32 = await train('fp32');
const bf16 = await train('bf16');
const runningMean = (xs, i) => {
  const window = xs.slice(Math.max(0, i - 9), i + 1);
  return window.reduce((a, b) => a + b, 0) / window.length;
};
let worst = 0;
let worstStep = 0;
for (let i = 0; i < steps; i++) {
  const a = runningMean(fp32.losses, i);
  const gap = Math.abs(runningMean(bf16.losses, i) - a) / a;
  if (gap > worst) [worst, worstStep] = [gap, i];
}
console.log(`small config, ${steps} steps, fp32 kernel ${fp32.kernel}, bf16 kernel ${bf16.kernel}`);
console.log('step  fp32 loss  bf16 loss');
for (let i = 0; i < steps; i += 20)
  console.log(
    `${String(i).padStart(4)}  ${fp32.losses[i].toFixed(4)}     ${bf16.losses[i].toFixed(4)}`,
  );
const last = steps - 1;
console.log(
  `final (10-step mean): fp32 ${runningMean(fp32.losses, last).toFixed(4)}, bf16 ${runningMean(bf16.losses, last).toFixed(4)}`,
);
console.log(
  `largest gap of the 10-step running mean: ${(100 * worst).toFixed(2)}% (step ${worstStep})`,
);
console.log(
  `ms per step: fp32 ${fp32.msPerStep.toFixed(0)}, bf16 ${bf16.msPerStep.toFixed(0)} (${(fp32.msPerStep / bf16.msPerStep).toFixed(2)}x)`,
);
