// How often greedy decoding with bf16 or int8 weight copies (SampleOptions.weights) picks another
// token than with fp32 weights, and whether each first divergence is a near-tie: at that step the
// gap between the fp32 logits of the two tokens is measured in units of the copy's relative
// precision (bf16: 2^-8 of the logit's size; int8: 1/127, one quantization step of a row's range).
// Models: the engine's PyTorch parity fixtures (random weights: flat distributions, the hard case)
// and the same weights sharpened 8x (a confident model, like a distilled student).
//
// Run: node tools/bench/decode-weights-agreement.mjs [bf16|int8] [prompts=64] [newTokens=32]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { Model } = require(path.join(root, 'packages/native-cuda/dist'));
const weights = process.argv[2] ?? 'bf16';
if (weights !== 'bf16' && weights !== 'int8')
  throw new Error(`weights: bf16 or int8, not ${weights}`);
const [promptCount = 64, newTokens = 32] = process.argv.slice(3).map(Number);
const unit = weights === 'bf16' ? 2 ** -8 : 1 / 127;

async function measure(model, label) {
  const V = model.config.vocab_size;
  let state = 99;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) % V;
  const prompts = Array.from({ length: promptCount }, (_, i) =>
    Array.from({ length: 4 + (i % 12) }, next),
  );
  // Chunks of 16 prompts: decode steps of up to 32 rows read the copy (more rows: fp32).
  const generate = async (weights) => {
    const out = [];
    for (let i = 0; i < prompts.length; i += 16)
      out.push(
        ...(await model.generate(prompts.slice(i, i + 16), { maxNewTokens: newTokens, weights })),
      );
    return out;
  };
  const fp32 = await generate('fp32');
  const copy = await generate(weights);
  let same = 0;
  let tokens = 0;
  const gaps = [];
  for (let p = 0; p < prompts.length; p++) {
    const a = fp32[p].tokens;
    const b = copy[p].tokens;
    let t = 0;
    while (t < a.length && a[t] === b[t]) t++;
    same += t;
    tokens += a.length;
    if (t === a.length) continue;
    // fp32 logits at the first divergence: the gap between the two choices, in units.
    const prefix = [...prompts[p], ...a.slice(0, t)];
    const logits = await model.logits(Int32Array.from(prefix), 1, prefix.length);
    const row = logits.subarray((prefix.length - 1) * V, prefix.length * V);
    const top = Math.max(Math.abs(row[a[t]]), 1e-30);
    gaps.push((row[a[t]] - row[b[t]]) / (top * unit));
  }
  gaps.sort((x, y) => x - y);
  const diverged = gaps.length;
  const nearTies = gaps.filter((g) => g < 4).length;
  console.log(
    `${label}: ${same}/${tokens} tokens before any divergence (${((100 * same) / tokens).toFixed(1)}%); ` +
      `${prompts.length - diverged}/${prompts.length} sequences identical; first divergences: ${diverged}, ` +
      `of which ${nearTies} within 4 ${weights} units of a tie (gaps in units: ${gaps.map((g) => g.toFixed(1)).join(' ')})`,
  );
}

for (const fixture of ['llama-gqa-tied', 'qwen2-bias-untied']) {
  const dir = path.join(root, 'packages/native-cuda/test/fixtures/engine', fixture);
  const model = await Model.fromPretrained(dir, { threads: 2 });
  await measure(model, `${weights}, ${fixture} (random init)`);
  for (const { name } of model.parameterTable())
    if (!name.includes('norm'))
      model.setParameter(
        name,
        model.getParameter(name).map((x) => 8 * x),
      );
  await measure(model, `${weights}, ${fixture} (sharpened 8x)`);
  model.dispose();
}
