// The scale-out path's file formats against the real PEFT library (tools/device/peft_roundtrip.py),
// in two halves around the Python step:
//   export <dist> <dir>: a random Llama model (base/), a LoRA adapter of ours with non-zero B
//     (adapter/, Model.saveLora: what `adapter/` and `adapter-from-base/` of a run hold, what vLLM's
//     load_lora_adapter reads), and our logits of base + adapter merged (ours_merged.f32).
//   import <dist> <dir> <result.json>: loads the adapter PEFT trained on base/ (peft_trained/, what
//     tools/trainers/trl_sft.py writes) into our engine (Model.loadLora, as --trainer-command does),
//     merges it and compares our logits with PEFT's own (peft_trained.f32).
// Usage: node peft_roundtrip.js export|import <native-dist-dir> <dir> [result.json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Buffer } = require('node:buffer');

const CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 256,
  hidden_size: 128,
  intermediate_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
};
const BATCH = 2;
const SEQ = 24;
const LORA = {
  rank: 4,
  alpha: 8,
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  seed: 3,
};

function tokens() {
  let state = 777;
  return Int32Array.from({ length: BATCH * SEQ }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % CONFIG.vocab_size;
  });
}

function writeF32(file, array) {
  fs.writeFileSync(file, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
}

function readF32(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function relativeError(a, b) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

async function main() {
  const [mode, distDir, dir, resultFile] = process.argv.slice(2);
  if (!['export', 'import'].includes(mode) || !distDir || !dir)
    throw new Error(
      'usage: node peft_roundtrip.js export|import <native-dist-dir> <dir> [result.json]',
    );
  const { Model } = require(path.resolve(distDir, 'index.js'));
  if (mode === 'export') {
    fs.mkdirSync(dir, { recursive: true });
    const model = Model.fromConfig(CONFIG, { seed: 11 });
    await model.save(path.join(dir, 'base'));
    model.enableLora(LORA);
    // B starts at zero (PEFT's init); give every adapter values so the update is not a no-op.
    for (const { name } of model.loraTable()) {
      const w = model.getParameter(name);
      model.setParameter(
        name,
        w.map((x, i) => (name.includes('lora_B') ? 0.05 * Math.sin(0.7 * i + name.length) : x)),
      );
    }
    await model.saveLora(path.join(dir, 'adapter'));
    model.mergeLora();
    writeF32(path.join(dir, 'ours_merged.f32'), await model.logits(tokens(), BATCH, SEQ));
    fs.writeFileSync(
      path.join(dir, 'meta.json'),
      JSON.stringify({ batch: BATCH, seq: SEQ, tokens: Array.from(tokens()), lora: LORA }),
    );
    model.dispose();
    console.log(JSON.stringify({ ok: true, exported: dir }));
    return 0;
  }
  const model = await Model.fromPretrained(path.join(dir, 'base'));
  await model.loadLora(path.join(dir, 'peft_trained'));
  model.mergeLora();
  const ours = await model.logits(tokens(), BATCH, SEQ);
  model.dispose();
  const theirs = readF32(path.join(dir, 'peft_trained.f32'));
  const error = relativeError(ours, theirs);
  const result = {
    ok: error < 1e-4,
    check:
      "PEFT-trained adapter loaded by our engine (Model.loadLora + mergeLora) vs PEFT's logits",
    logits_relative_error: error,
    bound: 1e-4,
  };
  if (resultFile) fs.writeFileSync(resultFile, JSON.stringify(result, null, 1));
  console.log(JSON.stringify(result));
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(2);
  },
);
