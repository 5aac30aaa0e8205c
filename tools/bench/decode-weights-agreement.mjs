// How often greedy decoding with bf16 weight copies (SampleOptions.weights 'bf16') picks another
// token than with fp32 weights, and whether each first divergence is a near-tie: at that step the
// fp32 logits of the two tokens are compared against bf16 rounding (2^-8 of the logit's size).
// Models: the engine's PyTorch parity fixtures (random weights: flat distributions, the hard case)
// and the same weights sharpened 8x (a confident model, like a distilled student).
//
// Run: node tools/bench/decode-bf16-agreement.mjs [prompts=64] [newTokens=32]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { Model } = require(path.join(root, 'packages/native-cuda/dist'));
const [promptCount = 64, newTokens = 32] = process.argv.slice(2).map(Number);

async function measure(model, label) {
  const V = model.config.vocab_size;
  let state = 99;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) % V;
  const prompts = Array.from({ length: promptCount }, (_, i) =>
    Array.from({ length: 4 + (i % 12) }, next),
  );
  // Chunks of 16 prompts: decode steps of up to 32 rows read the bf16 copy (more rows: fp32).
  const generate = async (weights) => {
    const out = [];
    for (let i = 0; i < prompts.length; i += 16)
      out.push(
        ...(await model.generate(prompts.slice(i, i + 16), { maxNewTokens: newTokens, weights })),
      );
    return out;
  };
  const fp32 = await generate('fp32');
  const bf16 = await generate('bf16');
  let same = 0;
  let tokens = 0;
  const gaps = [];
  for (let p = 0; p < prompts.length; p++) {
    const a = fp32[p].tokens;
    const b = bf16[p].tokens;
    let t = 0;
    while (t < a.length && a[t] === b[t]) t++;
    same += t;
    tokens += a.length;
    if (t === a.length) continue;
    // fp32 logits at the first divergence: the gap between the two choices, in bf16 ulps.
    const prefix = [...prompts[p], ...a.slice(0, t)];
    const logits = await model.logits(Int32Array.from(prefix), 1, prefix.length);
    const row = logits.subarray((prefix.length - 1) * V, prefix.length * V);
    const top = Math.max(Math.abs(row[a[t]]), 1e-30);
    gaps.push((row[a[t]] - row[b[t]]) / (top * 2 ** -8));
  }
  gaps.sort((x, y) => x - y);
  const diverged = gaps.length;
  const nearTies = gaps.filter((g) => g < 4).length;
  console.log(
    `${label}: ${same}/${tokens} tokens before any divergence (${((100 * same) / tokens).toFixed(1)}%); ` +
      `${prompts.length - diverged}/${prompts.length} sequences identical; first divergences: ${diverged}, ` +
      `of which ${nearTies} within 4 bf16 ulps of a tie (gaps in ulps: ${gaps.map((g) => g.toFixed(1)).join(' ')})`,
  );
}

for (const fixture of ['llama-gqa-tied', 'qwen2-bias-untied']) {
  const dir = path.join(root, 'packages/native-cuda/test/fixtures/engine', fixture);
  const model = await Model.fromPretrained(dir, { threads: 2 });
  await measure(model, `${fixture} (random init)`);
  for (const { name } of model.parameterTable())
    if (!name.includes('norm'))
      model.setParameter(
        name,
        model.getParameter(name).map((x) => 8 * x),
      );
  await measure(model, `${fixture} (sharpened 8x)`);
  model.dispose();
}
