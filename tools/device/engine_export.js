// Runs OUR engine (the compiled @siked/native-cuda JavaScript, CPU backend until the CUDA model
// is wired in) on a random-initialised model and writes what tools/device/hf_parity.py compares
// with transformers: the checkpoint, logits, loss, a few gradients and a greedy generation.
// Usage: node engine_export.js <native-dist-dir> <shape-name> <out-dir> [layers]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Buffer } = require('node:buffer');

async function main() {
  const [distDir, shapeName, outDir, layersArg] = process.argv.slice(2);
  if (!distDir || !shapeName || !outDir) {
    throw new Error(
      'usage: node engine_export.js <native-dist-dir> <shape-name> <out-dir> [layers]',
    );
  }
  const { Model } = require(path.resolve(distDir, 'index.js'));
  const shapes = JSON.parse(fs.readFileSync(path.join(__dirname, 'shapes.json'), 'utf8'));
  const config = { ...shapes[shapeName] };
  if (!config.architectures) throw new Error(`shapes.json has no shape ${shapeName}`);
  if (layersArg) config.num_hidden_layers = Number(layersArg);
  const batchSize = 2,
    seqLen = 64,
    promptLen = 8,
    maxNewTokens = 16;

  // A fixed linear-congruential stream: the tokens are reproducible without a library.
  let state = 12345;
  const nextToken = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % config.vocab_size;
  };
  const tokens = Int32Array.from({ length: batchSize * seqLen }, nextToken);
  const lossMask = Uint8Array.from({ length: batchSize * seqLen }, (_, i) =>
    i % seqLen === 0 ? 0 : 1,
  );

  const started = Date.now();
  const model = Model.fromConfig(config, { seed: 1234 });
  const checkpoint = path.join(outDir, 'checkpoint');
  await model.save(checkpoint);
  const logits = await model.logits(tokens, batchSize, seqLen);
  fs.writeFileSync(
    path.join(outDir, 'engine_logits.f32'),
    Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength),
  );
  model.configureOptimizer({});
  const { loss, tokens: trained } = await model.accumulate({ tokens, lossMask, batchSize, seqLen });
  const gradientNames = [
    'model.embed_tokens.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.0.self_attn.k_proj.weight',
    'model.layers.0.mlp.down_proj.weight',
    'model.layers.0.input_layernorm.weight',
    'model.norm.weight',
  ];
  const gradients = {};
  for (const name of gradientNames) {
    const g = model.getGradient(name);
    const file = `grad_${name}.f32`;
    fs.writeFileSync(path.join(outDir, file), Buffer.from(g.buffer, g.byteOffset, g.byteLength));
    gradients[name] = file;
  }
  const prompts = [0, 1].map((row) =>
    Array.from(tokens.slice(row * seqLen, row * seqLen + promptLen)),
  );
  const generations = await model.generate(prompts, { maxNewTokens, temperature: 0 });
  const meta = {
    shape: shapeName,
    config,
    batchSize,
    seqLen,
    tokens: Array.from(tokens),
    lossMask: Array.from(lossMask),
    loss,
    trainedTokens: trained,
    gradients,
    prompts,
    generations,
    seconds: (Date.now() - started) / 1000,
  };
  fs.writeFileSync(path.join(outDir, 'engine.json'), JSON.stringify(meta));
  model.dispose();
  console.log(JSON.stringify({ ok: true, loss, seconds: meta.seconds }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
