// Drives the engine's public TypeScript API (the compiled @siked/native-cuda Model) on a test
// device against a reference device, normally 'cuda' against 'cpu', the way the CLI and the loop
// use it: Model.fromConfig / fromPretrained, trainStep (full and LoRA), generate, scoreTokens.
// Every section catches its own error, so one failure is reported beside the others' figures.
//
// Usage: node api_check.js <native-dist-dir> <mode> [--devices TEST,REFERENCE] [--out FILE]
//                          [--hf-dir DIR] [--deadline-s N]
//   mode parity      tiny Llama (head_dim 64): per-step losses, weights after full and LoRA
//                    training, greedy generations and scoreTokens, TEST against REFERENCE
//   mode throughput  TEST only, on cuda the workload of workload.json, which torch_bench.py runs
//                    too (summary.py divides the two): training tokens/s and MFU at each shape x
//                    (batch, seq); sampled new tokens/s at prompts x samples; batch-1 greedy
//                    ms/token at the same prompt length; sampled new tokens/s at the large batch.
//                    Metric names are torch_bench.py's. On cpu the same sections at tiny sizes.
//   mode hf          Model.fromPretrained(DIR/checkpoint) scoreTokens against transformers fp32
//                    (DIR/hf_logprobs.json, written by hf_parity.py) on TEST, REFERENCE beside
//   mode all         parity then throughput
// --devices defaults to cuda,cpu; cpu,cpu rehearses the script on a machine without a GPU.
// --deadline-s (default 240): no new measurement starts after it; a native call cannot be
// interrupted, so the caller's time box must leave room for the one in flight.
// Prints one JSON object and rewrites it to --out after every section (a kill keeps the rest).
// Exit code: 0 every section ran and passed, 1 a section failed or missed a bound, 2 bad usage.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

// Dense bf16 peak of the H100 SXM and the H200 (NVIDIA datasheets: 989.4 TFLOP/s without
// sparsity). MFU is stated against it, as in torch_bench.py, so the two are comparable.
const PEAK_BF16_FLOPS = 989e12;
const PEAK_NOTE = 'H100/H200 SXM dense bf16 datasheet peak, 989 TFLOP/s';

// Bounds of the TEST-vs-REFERENCE checks. cuda computes with bf16 weights and activations (fp32
// accumulation), cpu in fp32: one bf16 rounding is 2^-9 relative, so logits and log-probs move by
// ~1e-3..1e-2 on these models. The bounds leave that margin and still catch a real bug (a wrong
// rotation, mask or transpose moves a loss by tens of percent and log-probs by units).
const BOUNDS = {
  lossRelative: 2e-2,
  gradNormRelative: 5e-2,
  // ||update_test - update_ref|| / ||update_ref|| over all trained tensors after the steps. Adam
  // normalises each element, so gradient entries near zero can flip sign under bf16 noise; a
  // wrong update rule or learning rate gives ~1 or more.
  updateRelative: 0.25,
  // The pattern-trained model is confident (logits of tens): bf16 weights move its log-probs by
  // up to 0.025 on the emulator; the 2e-2 goal is hfLogprobAbs, on the HF fixture.
  logprobAbs: 5e-2,
  // A greedy divergence where the reference's logit of the test's token is within this much of
  // its own choice is a near-tie (bf16 noise), not an error.
  tieMargin: 0.05,
  hfLogprobAbs: 2e-2,
};

// A small Llama with the kernels' head_dim (64); 2 kv heads exercise GQA, an untied head the
// separate lm_head (the SmolLM shapes below cover tied embeddings).
const TINY = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 512,
  hidden_size: 256,
  intermediate_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 512,
  tie_word_embeddings: false,
  attention_bias: false,
};
const SHAPES = JSON.parse(fs.readFileSync(path.join(__dirname, 'shapes.json'), 'utf8'));
// The benchmark workload torch_bench.py runs too: never shrunk here to fit the time (a section
// that does not fit says so instead).
const WORKLOAD = JSON.parse(fs.readFileSync(path.join(__dirname, 'workload.json'), 'utf8'));
// The rehearsal's stand-in on cpu (a SmolLM step there takes minutes): the same sections, tiny.
const TINY_WORKLOAD = {
  train: { shapes: ['tiny'], batches: [{ batch: 4, seq: 64 }], learning_rate: 1e-4 },
  generate: {
    shapes: ['tiny'],
    prompts: 2,
    samples_per_prompt: 2,
    prompt_len: 16,
    new_tokens: 16,
    temperature: 0.7,
    top_p: 0.95,
    top_k: 0,
    batch1_new_tokens: 16,
    large: null,
  },
};
const LORA = { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'], seed: 1 };

// ---- small helpers ------------------------------------------------------------------------------

/** A fixed linear-congruential stream, so both devices (and reruns) see the same tokens. */
function lcg(seed) {
  let state = seed >>> 0;
  return (bound) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % bound;
  };
}

/** One [batchSize, seqLen] batch: position 0 of each row and the last 8 of the last row masked. */
function randomBatch(next, vocab, batchSize, seqLen) {
  const tokens = Int32Array.from({ length: batchSize * seqLen }, () => next(vocab));
  const lossMask = Uint8Array.from({ length: batchSize * seqLen }, (_, i) => {
    const row = Math.floor(i / seqLen);
    const col = i % seqLen;
    return col === 0 || (row === batchSize - 1 && col >= seqLen - 8) ? 0 : 1;
  });
  return { tokens, lossMask, batchSize, seqLen };
}

// A 64-token cycle (t -> 5t + 3 mod 64 has full period) the tiny model learns in a few dozen
// steps: a confident model, like a distilled student, whose greedy choices are not near-ties.
const patternNext = (t) => (5 * t + 3) % 64;
function patternSequence(start, length) {
  const out = [start % 64];
  while (out.length < length) out.push(patternNext(out[out.length - 1]));
  return out;
}
function patternBatch(next, batchSize, seqLen) {
  const tokens = new Int32Array(batchSize * seqLen);
  for (let r = 0; r < batchSize; r++) tokens.set(patternSequence(next(64), seqLen), r * seqLen);
  const lossMask = Uint8Array.from({ length: tokens.length }, (_, i) => (i % seqLen === 0 ? 0 : 1));
  return { tokens, lossMask, batchSize, seqLen };
}

/**
 * Documents of GSM8K-like lengths (a third prompt, mask 0; the rest answer, mask 1) and their
 * two layouts: one per row in length-sorted micro-batches of `perBatch` (what EngineStudent does
 * unpacked), or packed best-fit into rows of `rowLength`, `rowsPerBatch` rows a micro-batch, with
 * position ids restarting per document.
 */
function documents(next, vocab, count, minLength, maxLength) {
  return Array.from({ length: count }, () => {
    const length = minLength + next(maxLength - minLength + 1);
    const ids = Array.from({ length }, () => next(vocab));
    const mask = ids.map((_, t) => (t >= Math.floor(length / 3) ? 1 : 0));
    return { ids, mask };
  });
}
function layoutRows(rows, packed) {
  const seqLen = Math.max(...rows.map((row) => row.reduce((n, d) => n + d.ids.length, 0)));
  const tokens = new Int32Array(rows.length * seqLen);
  const lossMask = new Uint8Array(rows.length * seqLen);
  const positions = new Int32Array(rows.length * seqLen);
  let real = 0;
  rows.forEach((row, r) => {
    let at = r * seqLen;
    for (const d of row) {
      tokens.set(d.ids, at);
      lossMask.set(d.mask, at);
      for (let t = 0; t < d.ids.length; t++) positions[at + t] = t;
      at += d.ids.length;
      real += d.ids.length;
    }
    // Padding stays at position 0: one-token documents, as EngineStudent lays them out.
  });
  const batch = { tokens, lossMask, batchSize: rows.length, seqLen };
  return { batch: packed ? { ...batch, positions } : batch, real, total: rows.length * seqLen };
}
function unpackedBatches(docs, perBatch) {
  const sorted = [...docs].sort((a, b) => a.ids.length - b.ids.length);
  const out = [];
  for (let i = 0; i < sorted.length; i += perBatch)
    out.push(
      layoutRows(
        sorted.slice(i, i + perBatch).map((d) => [d]),
        false,
      ),
    );
  return out;
}
function packedBatches(docs, rowLength, rowsPerBatch) {
  const rows = [];
  for (const d of [...docs].sort((a, b) => b.ids.length - a.ids.length)) {
    let best;
    for (const row of rows)
      if (row.free >= d.ids.length && (!best || row.free < best.free)) best = row;
    if (!best) rows.push((best = { free: rowLength, docs: [] }));
    best.docs.push(d);
    best.free -= d.ids.length;
  }
  const out = [];
  for (let i = 0; i < rows.length; i += rowsPerBatch)
    out.push(
      layoutRows(
        rows.slice(i, i + rowsPerBatch).map((row) => row.docs),
        true,
      ),
    );
  return out;
}

const maxAbsDiff = (a, b) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d; // NaN propagates as the worst
  }
  return worst;
};
const relative = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
const round = (x, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : String(x));

/** The named tensors' values, copied out (Float32Array per name). */
function snapshot(model, names) {
  return new Map(names.map((name) => [name, model.getParameter(name)]));
}

// ---- the checks ---------------------------------------------------------------------------------

class Check {
  constructor(distDir, mode, devices, outFile, deadlineS) {
    this.api = require(path.resolve(distDir, 'index.js'));
    this.devices = devices;
    this.outFile = outFile;
    this.deadline = performance.now() + deadlineS * 1000;
    this.result = {
      ok: true,
      mode,
      devices: { test: devices[0], reference: devices[1] },
      node: process.version,
      dist: path.resolve(distDir),
      peak_bf16_flops: PEAK_BF16_FLOPS,
      peak_note: PEAK_NOTE,
      bounds: BOUNDS,
      sections: {},
    };
  }

  timeLeftS() {
    return (this.deadline - performance.now()) / 1000;
  }

  /** Runs one section; its figures, or its error, go into the result, which is written at once. */
  async section(name, fn) {
    const started = performance.now();
    let record;
    if (this.timeLeftS() <= 0) {
      record = { ok: false, skipped: 'deadline reached before this section' };
    } else {
      try {
        const figures = await fn();
        record = { ok: figures.pass !== false, ...figures };
      } catch (error) {
        record = { ok: false, error: error && error.message ? error.message : String(error) };
        if (error && error.stack) record.stack = error.stack.split('\n').slice(0, 6).join('\n');
      }
    }
    record.seconds = round((performance.now() - started) / 1000);
    this.result.sections[name] = record;
    this.result.ok = this.result.ok && record.ok;
    this.write();
    console.error(`${name}: ${record.ok ? 'ok' : 'FAILED'} ${record.error ?? ''}`.trim());
  }

  write() {
    if (this.outFile) fs.writeFileSync(this.outFile, JSON.stringify(this.result, null, 1));
  }

  model(config, device, seed) {
    return this.api.Model.fromConfig(config, { seed, device });
  }

  /**
   * Trains a fresh tiny model (seed 7) on each device with the same batches; LoRA when `lora`.
   * Compares per-step losses and gradient norms, and the trained tensors afterwards.
   */
  async trainingParity(lora, steps) {
    const next = lcg(lora ? 202 : 101);
    const batches = Array.from({ length: steps }, () => randomBatch(next, TINY.vocab_size, 4, 64));
    const learningRate = 1e-3;
    const runs = [];
    for (const device of this.devices) {
      const model = this.model(TINY, device, 7);
      try {
        if (lora) model.enableLora(LORA);
        model.configureOptimizer({ maxGradNorm: 1 });
        const trained = (lora ? model.loraTable() : model.parameterTable()).map((t) => t.name);
        const frozen = 'model.layers.0.self_attn.q_proj.weight';
        const before = snapshot(model, lora ? [...trained, frozen] : trained);
        const losses = [];
        const gradNorms = [];
        for (const batch of batches) {
          const step = await model.trainStep([batch], learningRate);
          losses.push(step.loss);
          gradNorms.push(step.gradNorm);
        }
        const after = snapshot(model, trained);
        // LoRA freezes the base: its weights must come out bit-identical.
        const frozenChange = lora ? maxAbsDiff(model.getParameter(frozen), before.get(frozen)) : 0;
        runs.push({ device, losses, gradNorms, before, after, frozenChange });
      } finally {
        model.dispose();
      }
    }
    return compareTraining(runs[0], runs[1], lora);
  }

  /**
   * Sequence packing: the same documents packed (block-diagonal attention) and one per row give
   * the same loss and gradients on the device under test, and packed matches the reference
   * device. Documents of 37-95 tokens in rows of 256 start mid-block and mid-tile.
   */
  async packingParity() {
    const docs = documents(lcg(707), TINY.vocab_size, 10, 37, 95);
    const gradients = async (device, layouts) => {
      const model = this.model(TINY, device, 9);
      try {
        let loss = 0;
        let tokens = 0;
        for (const { batch } of layouts) {
          const r = await model.accumulate(batch);
          loss += r.loss * r.tokens;
          tokens += r.tokens;
        }
        const grads = new Map(
          model.parameterTable().map((t) => [t.name, model.getGradient(t.name)]),
        );
        return { loss: loss / tokens, tokens, grads };
      } finally {
        model.dispose();
      }
    };
    const relativeNorm = (a, b) => {
      let num = 0;
      let den = 0;
      for (const [name, x] of a) {
        const y = b.get(name);
        for (let i = 0; i < x.length; i++) {
          num += (x[i] - y[i]) ** 2;
          den += y[i] ** 2;
        }
      }
      return Math.sqrt(num / Math.max(den, 1e-30));
    };
    const [test, reference] = this.devices;
    const unpacked = await gradients(test, [
      layoutRows(
        docs.map((d) => [d]),
        false,
      ),
    ]);
    const packed = await gradients(test, packedBatches(docs, 256, 4));
    const referencePacked = await gradients(reference, packedBatches(docs, 256, 4));
    const figures = {
      documents: docs.length,
      tokens_trained: [packed.tokens, unpacked.tokens],
      loss_packed_vs_unpacked: round(relative(packed.loss, unpacked.loss)),
      grad_packed_vs_unpacked: round(relativeNorm(packed.grads, unpacked.grads)),
      loss_vs_reference: round(relative(packed.loss, referencePacked.loss)),
      grad_vs_reference: round(relativeNorm(packed.grads, referencePacked.grads)),
      bounds: 'same tokens; loss 1e-2 and gradient norm 5e-2 relative (bf16 on cuda)',
    };
    figures.pass =
      packed.tokens === unpacked.tokens &&
      figures.loss_packed_vs_unpacked < 1e-2 &&
      figures.grad_packed_vs_unpacked < 5e-2 &&
      figures.loss_vs_reference < 1e-2 &&
      figures.grad_vs_reference < 5e-2;
    return figures;
  }

  /**
   * Training tokens/s over the same GSM8K-length documents (about 150-450 tokens on a real
   * tokenizer) one per row in length-sorted micro-batches vs packed into rows, one pass each
   * after a warm-up pass; counts real tokens only, and reports padding's share.
   */
  async packingThroughput(model, config, shape, onGpu) {
    const [minLength, maxLength, rowLength, perBatch, rowsPerBatch] = onGpu
      ? [150, 450, 1024, 16, 4]
      : [20, 60, 128, 4, 2];
    const docs = documents(lcg(808), config.vocab_size, onGpu ? 256 : 24, minLength, maxLength);
    const layouts = {
      unpacked: unpackedBatches(docs, perBatch),
      packed: packedBatches(docs, rowLength, rowsPerBatch),
    };
    model.configureOptimizer({ maxGradNorm: 1 });
    const figures = { shape, documents: docs.length, row_length: rowLength };
    for (const [name, batches] of Object.entries(layouts)) {
      const pass = async () => {
        for (const { batch } of batches) await model.trainStep([batch], 1e-5);
      };
      await pass(); // warm-up: allocations per (B, T), cuBLAS heuristics
      const started = performance.now();
      await pass();
      const seconds = (performance.now() - started) / 1000;
      const real = batches.reduce((n, b) => n + b.real, 0);
      const total = batches.reduce((n, b) => n + b.total, 0);
      figures[name] = {
        steps: batches.length,
        padding_share: round(1 - real / total),
        seconds: round(seconds),
        tokens_per_s: round(real / seconds),
      };
    }
    figures.packed_vs_unpacked_tokens_per_s = round(
      figures.packed.tokens_per_s / figures.unpacked.tokens_per_s,
    );
    return figures;
  }

  /**
   * A confident tiny model (trained on the 64-token cycle on the reference device, saved, then
   * loaded on both devices with fromPretrained): greedy generation token for token, and
   * scoreTokens of the prompts + continuations.
   */
  async generationParity() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siked-api-check-'));
    try {
      const teacher = this.model(TINY, this.devices[1], 11);
      let finalLoss;
      try {
        teacher.configureOptimizer({ maxGradNorm: 1 });
        const next = lcg(303);
        for (let i = 0; i < 40; i++)
          finalLoss = (await teacher.trainStep([patternBatch(next, 8, 64)], 3e-3)).loss;
        await teacher.save(dir);
      } finally {
        teacher.dispose();
      }
      const next = lcg(404);
      const prompts = [
        ...Array.from({ length: 6 }, (_, i) => patternSequence(next(64), 4 + 3 * i)),
        ...Array.from({ length: 2 }, (_, i) => Array.from({ length: 5 + 7 * i }, () => next(512))),
      ];
      const options = { maxNewTokens: 32, temperature: 0, numSamples: 1 };
      const models = [];
      try {
        for (const device of this.devices)
          models.push(await this.api.Model.fromPretrained(dir, { device }));
        const generations = [];
        for (const model of models) {
          const out = await model.generate(prompts, options);
          generations.push(out.sort((a, b) => a.promptIndex - b.promptIndex));
        }
        const greedy = await compareGreedy(prompts, generations, models[1]);
        const sequences = prompts.map((p, i) => [...p, ...generations[1][i].tokens]);
        const scores = [];
        for (const model of models) scores.push(await model.scoreTokens(sequences));
        const logprobAbs = Math.max(
          ...scores[0].map((s, i) => maxAbsDiff(s.slice(1), scores[1][i].slice(1))),
        );
        return {
          pass: greedy.pass && logprobAbs <= BOUNDS.logprobAbs,
          pattern_loss_after_training: round(finalLoss),
          greedy,
          score_tokens: {
            sequences: sequences.length,
            tokens: sequences.reduce((a, s) => a + s.length - 1, 0),
            max_abs_logprob_diff: round(logprobAbs),
            bound: BOUNDS.logprobAbs,
          },
        };
      } finally {
        for (const model of models) model.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Training tokens/s and MFU of full fine-tuning of `model` (built from `config`) at one
   * [batch, seq], with torch_bench.py's metric names and MFU definition.
   */
  async trainingThroughput(model, config, shape, { batch: batchSize, seq: seqLen }, learningRate) {
    model.configureOptimizer({ maxGradNorm: 1 });
    const batch = randomBatch(lcg(505), config.vocab_size, batchSize, seqLen);
    const warmStarted = performance.now();
    // Two warm-up steps (torch_bench.py takes three): allocations, cuBLAS heuristics, graphs.
    for (let i = 0; i < 2; i++) await model.trainStep([batch], learningRate);
    const warmS = (performance.now() - warmStarted) / 1000;
    const { steps, seconds } = await timeRepeated(() => model.trainStep([batch], learningRate), {
      minRuns: 3,
      maxRuns: 10,
      targetS: 2,
      timeLeftS: () => this.timeLeftS(),
    });
    const tokensPerS = (steps * batchSize * seqLen) / seconds;
    const params = model.parameterCount;
    // torch_bench.py's count: 6N per token plus causal attention's scores and values.
    const flopsPerToken = 6 * params + 6 * config.num_hidden_layers * config.hidden_size * seqLen;
    return {
      device: this.devices[0],
      shape,
      seq: seqLen,
      batch: batchSize,
      parameters: params,
      warmup_s: round(warmS),
      steps,
      ...(steps < 3 ? { note: `deadline: only ${steps} timed step(s)` } : {}),
      // Mean over the timed steps (torch_bench.py: median of its timed steps).
      step_ms: round((seconds / steps) * 1000),
      tokens_per_s: round(tokensPerS),
      model_flops_per_s: round(flopsPerToken * tokensPerS),
      mfu_vs_datasheet: round((flopsPerToken * tokensPerS) / PEAK_BF16_FLOPS),
      mfu_6n: round((6 * params * tokensPerS) / PEAK_BF16_FLOPS),
      mfu_definition:
        'mfu_vs_datasheet: (6 * parameters + 6 * layers * hidden * seq) * tokens/s / peak, as torch_bench.py; mfu_6n without attention',
      setup: 'bf16 compute, fp32 master weights and AdamW state, clip 1.0',
    };
  }

  /**
   * One timed generate after a 4-token warm-up at the same batch (a per-batch-size graph capture
   * is not timed); the time includes the prefill, as torch_bench.py's does.
   */
  async timedGenerate(model, prompts, options) {
    await model.generate(prompts, { ...options, maxNewTokens: 4 });
    const started = performance.now();
    const out = await model.generate(prompts, options);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, produced: out.reduce((a, g) => a + g.tokens.length, 0) };
  }

  /**
   * torch_bench.py's generate workload on `model`: sampled new tokens/s at prompts x samples,
   * batch-1 greedy ms/token at the same prompt length, and the sampled large batch.
   */
  async samplingThroughput(model, config, w) {
    // Random ids in [1, vocab), as torch_bench.py's torch.randint(1, vocab_size, ...).
    const next = lcg(606);
    const makePrompts = (count) =>
      Array.from({ length: count }, () =>
        Array.from({ length: w.prompt_len }, () => 1 + next(config.vocab_size - 1)),
      );
    const sampled = { temperature: w.temperature, topP: w.top_p, topK: w.top_k, seed: 5 };
    const runs = [];
    const run = async (label, prompts, samples, maxNewTokens, sampling) => {
      const record = {
        run: label,
        batch: prompts.length * samples,
        prompts: prompts.length,
        samples_per_prompt: samples,
        new_tokens: maxNewTokens,
      };
      runs.push(record);
      if (this.timeLeftS() <= 0) {
        record.skipped = 'deadline reached before this run';
        return record;
      }
      const options = { ...sampling, numSamples: samples, maxNewTokens };
      const { seconds, produced } = await this.timedGenerate(model, prompts, options);
      // No stop tokens: every sequence must run to maxNewTokens.
      Object.assign(record, {
        new_tokens_produced: produced,
        complete: produced === prompts.length * samples * maxNewTokens,
        seconds: round(seconds),
        new_tokens_per_s: round(produced / seconds),
        ms_per_step: round((seconds / maxNewTokens) * 1000),
      });
      return record;
    };
    const prompts = makePrompts(w.prompts);
    const main = await run('sampled', prompts, w.samples_per_prompt, w.new_tokens, sampled);
    const single = await run('batch1_greedy', prompts.slice(0, 1), 1, w.batch1_new_tokens, {
      temperature: 0,
    });
    const large = w.large
      ? await run(
          'large_sampled',
          makePrompts(w.large.prompts),
          w.large.samples_per_prompt,
          w.new_tokens,
          sampled,
        )
      : undefined;
    return {
      device: this.devices[0],
      // torch_bench.py's generate:<shape> names, for summary.py's comparisons.
      batch: w.prompts * w.samples_per_prompt,
      prompts: w.prompts,
      samples_per_prompt: w.samples_per_prompt,
      prompt_len: w.prompt_len,
      new_tokens: w.new_tokens,
      new_tokens_per_s: main.new_tokens_per_s,
      batch1_new_tokens: w.batch1_new_tokens,
      batch1_ms_per_token: single.skipped
        ? undefined
        : round((single.seconds * 1000) / w.batch1_new_tokens),
      ...(large
        ? { large_batch: large.batch, large_batch_new_tokens_per_s: large.new_tokens_per_s }
        : {}),
      sampling: `t=${w.temperature} top_p=${w.top_p} top_k=${w.top_k}; batch 1 greedy`,
      runs,
      pass: runs.every((r) => r.skipped || r.complete),
    };
  }

  /** Our Model on the exported checkpoint against transformers' fp32 log-probs. */
  async hfLogprobs(hfDir) {
    const referenceFile = path.join(hfDir, 'hf_logprobs.json');
    if (!fs.existsSync(referenceFile)) {
      throw new Error(`no reference log-probs at ${referenceFile} (hf_parity.py did not write it)`);
    }
    const reference = JSON.parse(fs.readFileSync(referenceFile, 'utf8'));
    const out = { reference: reference.source, sequences: reference.sequences.length };
    for (const [role, device] of [
      ['test', this.devices[0]],
      ['reference_device', this.devices[1]],
    ]) {
      if (role === 'reference_device' && device === this.devices[0]) continue;
      const started = performance.now();
      const model = await this.api.Model.fromPretrained(path.join(hfDir, 'checkpoint'), { device });
      try {
        const scores = await model.scoreTokens(reference.sequences);
        const worst = Math.max(
          ...scores.map((s, i) => maxAbsDiff(s.slice(1), reference.logprobs[i].slice(1))),
        );
        out[role] = {
          device,
          max_abs_logprob_diff_vs_transformers_fp32: round(worst),
          seconds: round((performance.now() - started) / 1000),
        };
      } finally {
        model.dispose();
      }
    }
    out.bound = BOUNDS.hfLogprobAbs;
    out.pass = out.test.max_abs_logprob_diff_vs_transformers_fp32 <= BOUNDS.hfLogprobAbs;
    return out;
  }
}

/** Losses, gradient norms and trained tensors of two training runs of the same batches. */
function compareTraining(test, reference, lora) {
  const lossRel = Math.max(...test.losses.map((l, i) => relative(l, reference.losses[i])));
  const normRel = Math.max(...test.gradNorms.map((g, i) => relative(g, reference.gradNorms[i])));
  let initialDiff = 0;
  let finalDiff = 0;
  let updateDiffSq = 0;
  let updateSq = 0;
  for (const [name, refAfter] of reference.after) {
    const testAfter = test.after.get(name);
    const testBefore = test.before.get(name);
    const refBefore = reference.before.get(name);
    initialDiff = Math.max(initialDiff, maxAbsDiff(testBefore, refBefore));
    finalDiff = Math.max(finalDiff, maxAbsDiff(testAfter, refAfter));
    for (let i = 0; i < refAfter.length; i++) {
      const refUpdate = refAfter[i] - refBefore[i];
      const d = testAfter[i] - testBefore[i] - refUpdate;
      updateDiffSq += d * d;
      updateSq += refUpdate * refUpdate;
    }
  }
  const updateRel = Math.sqrt(updateDiffSq / Math.max(updateSq, 1e-30));
  const frozenOk = !lora || (test.frozenChange === 0 && reference.frozenChange === 0);
  return {
    pass:
      lossRel <= BOUNDS.lossRelative &&
      normRel <= BOUNDS.gradNormRelative &&
      updateRel <= BOUNDS.updateRelative &&
      frozenOk,
    steps: test.losses.length,
    losses: {
      test: test.losses.map((l) => round(l, 6)),
      reference: reference.losses.map((l) => round(l, 6)),
    },
    grad_norms: {
      test: test.gradNorms.map((g) => round(g)),
      reference: reference.gradNorms.map((g) => round(g)),
    },
    max_loss_rel_diff: round(lossRel),
    max_grad_norm_rel_diff: round(normRel),
    initial_max_abs_weight_diff: round(initialDiff),
    max_abs_weight_diff_after: round(finalDiff),
    update_rel_diff: round(updateRel),
    ...(lora
      ? { base_weight_change: { test: test.frozenChange, reference: reference.frozenChange } }
      : {}),
    trained_tensors: reference.after.size,
  };
}

/**
 * Greedy generations of the test device (generations[0]) against the reference (generations[1]).
 * At the first differing token of a row, the reference model's logits there say whether it was a
 * near-tie (the two choices within BOUNDS.tieMargin) or a real disagreement.
 */
async function compareGreedy(prompts, generations, referenceModel) {
  const rows = [];
  for (let i = 0; i < prompts.length; i++) {
    const a = generations[0][i].tokens;
    const b = generations[1][i].tokens;
    let at = 0;
    while (at < a.length && at < b.length && a[at] === b[at]) at++;
    const row = { prompt: i, identical: at === a.length && a.length === b.length };
    if (!row.identical) {
      const prefix = [...prompts[i], ...b.slice(0, at)];
      const logits = await referenceModel.logits(Int32Array.from(prefix), 1, prefix.length);
      const vocab = logits.length / prefix.length;
      const last = logits.subarray((prefix.length - 1) * vocab);
      row.first_difference = at;
      row.reference_margin = round(last[b[at]] - last[a[at]]);
      row.near_tie = last[b[at]] - last[a[at]] <= BOUNDS.tieMargin;
    }
    rows.push(row);
  }
  const identical = rows.filter((r) => r.identical).length;
  const unexplained = rows.filter((r) => !r.identical && !r.near_tie).length;
  return {
    pass: unexplained === 0,
    sequences: rows.length,
    identical_fraction: round(identical / rows.length),
    unexplained_divergences: unexplained,
    rows,
  };
}

/** Runs `fn` at least minRuns times, more until targetS has passed (at most maxRuns). */
async function timeRepeated(fn, { minRuns, maxRuns, targetS, timeLeftS }) {
  const started = performance.now();
  let steps = 0;
  for (;;) {
    await fn();
    steps++;
    const seconds = (performance.now() - started) / 1000;
    const enough = steps >= minRuns && (seconds >= targetS || steps >= maxRuns);
    if (enough || (steps >= 1 && timeLeftS() <= 0)) return { steps, seconds };
  }
}

// ---- modes --------------------------------------------------------------------------------------

async function runParity(check) {
  await check.section('train_full', () => check.trainingParity(false, 5));
  await check.section('train_lora', () => check.trainingParity(true, 5));
  await check.section('generate_and_score', () => check.generationParity());
  await check.section('train_packed', () => check.packingParity());
}

async function runThroughput(check) {
  const onGpu = check.devices[0] === 'cuda';
  const workload = onGpu ? WORKLOAD : TINY_WORKLOAD;
  const config = (shape) => (shape === 'tiny' ? TINY : SHAPES[shape]);
  const shapes = [...new Set([...workload.train.shapes, ...workload.generate.shapes])];
  for (const shape of shapes) {
    // One model per shape for all its sections: building a 360M model costs seconds of the box.
    let model;
    const build = () => {
      if (!model) model = check.model(config(shape), check.devices[0], 1);
      return model;
    };
    try {
      if (workload.train.shapes.includes(shape)) {
        for (const b of workload.train.batches) {
          // Named as torch_bench.py's train:<shape>:seq<seq>, at its batch: never shrunk here.
          await check.section(`train_throughput:${shape}:seq${b.seq}`, () =>
            check.trainingThroughput(
              build(),
              config(shape),
              shape,
              b,
              workload.train.learning_rate,
            ),
          );
        }
      }
      if (shape === workload.train.shapes[0]) {
        await check.section(`train_packing:${shape}`, () =>
          check.packingThroughput(build(), config(shape), shape, onGpu),
        );
      }
      if (workload.generate.shapes.includes(shape)) {
        await check.section(`sampling_throughput:${shape}`, () =>
          check.samplingThroughput(build(), config(shape), workload.generate),
        );
      }
    } finally {
      if (model) model.dispose();
    }
  }
}

function parseArguments(argv) {
  const [distDir, mode, ...rest] = argv;
  const options = { devices: ['cuda', 'cpu'], out: undefined, hfDir: undefined, deadlineS: 240 };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--devices') options.devices = value.split(',');
    else if (flag === '--out') options.out = value;
    else if (flag === '--hf-dir') options.hfDir = value;
    else if (flag === '--deadline-s') options.deadlineS = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  const modes = ['parity', 'throughput', 'hf', 'all'];
  if (!distDir || !modes.includes(mode)) throw new Error(`mode must be one of ${modes.join(', ')}`);
  if (options.devices.length !== 2 || !options.devices.every((d) => d === 'cpu' || d === 'cuda'))
    throw new Error('--devices: two of cpu, cuda (TEST,REFERENCE)');
  if (mode === 'hf' && !options.hfDir) throw new Error('mode hf needs --hf-dir');
  if (!(options.deadlineS > 0)) throw new Error('--deadline-s: a positive number of seconds');
  return { distDir, mode, ...options };
}

async function main() {
  let args;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`api_check: ${error.message}`);
    console.error(
      'usage: node api_check.js <native-dist-dir> parity|throughput|hf|all [--devices cuda,cpu] [--out FILE] [--hf-dir DIR] [--deadline-s N]',
    );
    return 2;
  }
  let check;
  try {
    check = new Check(args.distDir, args.mode, args.devices, args.out, args.deadlineS);
  } catch (error) {
    // The dist itself does not load: one JSON line saying so, like every other outcome.
    const result = {
      ok: false,
      mode: args.mode,
      error: `cannot load ${args.distDir}: ${error.message}`,
    };
    if (args.out) fs.writeFileSync(args.out, JSON.stringify(result, null, 1));
    console.log(JSON.stringify(result));
    return 2;
  }
  await check.section('build_info', async () => ({ ...check.api.buildInfo() }));
  if (args.mode === 'parity' || args.mode === 'all') await runParity(check);
  if (args.mode === 'throughput' || args.mode === 'all') await runThroughput(check);
  if (args.mode === 'hf') await check.section('hf_logprobs', () => check.hfLogprobs(args.hfDir));
  check.write();
  console.log(JSON.stringify(check.result));
  return check.result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(2);
  },
);
