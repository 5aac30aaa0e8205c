// The engine benchmark: training and decode throughput, peak RSS and GFLOP/s on the configs of
// ../shared/anchors/README.md, with the PyTorch anchor run in the same process tree (one after
// the other, never concurrently) so every figure comes with its baseline from the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBinding } from './addon';
import type { ModelConfig } from './config';
import { Model, type DecodeWeights } from './model';
import { expectInteger, fail } from './validate';

/** One benchmark shape, as the anchor defines it. */
interface BenchShape {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  kvHeads: number;
  dFf: number;
  seqLen: number;
  trainBatch: number;
}

/** The anchor's configs (../shared/anchors/README.md): tied, no biases, theta 1e4, eps 1e-5. */
export const BENCH_CONFIGS: Record<string, BenchShape> = {
  tiny: {
    vocab: 512,
    dModel: 128,
    layers: 4,
    heads: 4,
    kvHeads: 4,
    dFf: 384,
    seqLen: 256,
    trainBatch: 8,
  },
  small: {
    vocab: 8192,
    dModel: 384,
    layers: 6,
    heads: 6,
    kvHeads: 2,
    dFf: 1024,
    seqLen: 256,
    trainBatch: 8,
  },
  'smollm135m-shape': {
    vocab: 49152,
    dModel: 576,
    layers: 30,
    heads: 9,
    kvHeads: 3,
    dFf: 1536,
    seqLen: 256,
    trainBatch: 4,
  },
};
const PROMPT_LENGTH = 64;
const NEW_TOKENS = 128;
const DECODE_BATCHES = [1, 8, 32] as const;

/**
 * Decode tokens/s at each batch size: generate(128) - generate(1), so the prefill and the first
 * sample cancel out; `weights` is SampleOptions.weights.
 */
async function measureDecode(
  model: Model,
  shape: BenchShape,
  quick: boolean,
  weights: DecodeWeights,
  log: (line: string) => void,
): Promise<Record<'1' | '8' | '32', number>> {
  const decode = {} as Record<'1' | '8' | '32', number>;
  for (const b of DECODE_BATCHES) {
    const prompts = Array.from({ length: b }, (_, i) =>
      Array.from(randomTokens(PROMPT_LENGTH, shape.vocab, 100 + i)),
    );
    await model.generate(prompts, { maxNewTokens: 8, weights }); // warm-up
    const reps = quick ? 1 : 3;
    const prefillMs: number[] = [];
    const fullMs: number[] = [];
    for (let r = 0; r < reps; r++) {
      let t0 = performance.now();
      await model.generate(prompts, { maxNewTokens: 1, weights });
      prefillMs.push(performance.now() - t0);
      t0 = performance.now();
      await model.generate(prompts, { maxNewTokens: NEW_TOKENS, weights });
      fullMs.push(performance.now() - t0);
    }
    const decodeS = (median(fullMs) - median(prefillMs)) / 1e3;
    decode[String(b) as '1' | '8' | '32'] = round((b * (NEW_TOKENS - 1)) / decodeS);
    log(`  engine decode (${weights} weights) b${b}: ${decode[String(b) as '1']} new tokens/s`);
  }
  return decode;
}

/** a / b per decode batch size, to two decimals. */
function perBatchRatio(
  a: Record<'1' | '8' | '32', number>,
  b: Record<'1' | '8' | '32', number>,
): Record<'1' | '8' | '32', number> {
  return Object.fromEntries(
    DECODE_BATCHES.map((n) => {
      const key = String(n) as '1';
      return [key, Math.round((a[key] / b[key]) * 100) / 100];
    }),
  ) as Record<'1' | '8' | '32', number>;
}

/** Options of {@link benchmarkEngine}. */
export interface BenchmarkOptions {
  /** tiny | small | smollm135m-shape. */
  config: string;
  /** Also run the PyTorch anchor and report ours/PyTorch ratios (default true). */
  baseline?: boolean;
  /** Fewer timed steps and repetitions. */
  quick?: boolean;
  /** Engine threads (and the anchor's --threads); default: all cores. */
  threads?: number;
  /**
   * 'bf16': also train ours in mixed precision (LoadOptions.precision 'bf16': AMX or AVX512-BF16
   * GEMMs) and run the PyTorch anchor under CPU bf16 autocast (--dtype bf16: oneDNN, AMX tiles
   * where present), reporting ours against it in the same dtype: bf16 training, bf16-weight
   * decode (the anchor samples in fp32 either way).
   */
  dtype?: 'fp32' | 'bf16';
  /** The anchor script; default $SIKED_TORCH_ANCHOR or ../shared/anchors/torch_llama_bench.py. */
  anchorScript?: string;
  /** Interpreter with torch; default /usr/bin/python3. */
  python?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Throughput figures of one implementation. */
export interface EngineFigures {
  train_tokens_per_s: number;
  train_gflops_per_s: number;
  decode_tokens_per_s: Record<'1' | '8' | '32', number>;
}

/** The benchmark's one JSON object. */
export interface EngineBenchmark extends EngineFigures {
  config: string;
  threads: number;
  params: number;
  /** Engine sgemm rate measured in this run (1024^3, same threads). */
  sgemm_gflops_per_s: number;
  /** train GFLOP/s / sgemm GFLOP/s. */
  train_fraction_of_sgemm: number;
  /** This CPU's float32 FMA peak, measured in this run (register-only loops on every thread). */
  fp32_peak_gflops_per_s: number;
  /** sgemm_gflops_per_s / fp32_peak_gflops_per_s. */
  sgemm_fraction_of_peak: number;
  peak_rss_mb: number;
  /** params + grads + two AdamW moments, fp32. */
  optimizer_state_mb: number;
  /** The engine's training activation slab for this batch (forward activations + backward scratch). */
  activations_mb: number;
  /** peak_rss_mb / (optimizer_state_mb + activations_mb). */
  rss_over_floor: number;
  /** fp32 weight bytes every batch-1 decode step reads. */
  weight_bytes: number;
  /** Memory copy bandwidth measured in this run (bytes read + written per second, STREAM-copy style), GB/s. */
  copy_bandwidth_gb_per_s: number;
  /** Batch-1 decode tokens/s if each step cost exactly one read of the weights at that bandwidth. */
  decode_b1_floor_tokens_per_s: number;
  /** decode_tokens_per_s[1] / decode_b1_floor_tokens_per_s (1 = at the floor). */
  decode_b1_fraction_of_floor: number;
  /** Decode with bf16 weight copies (SampleOptions.weights 'bf16'), same run. */
  decode_bf16_tokens_per_s: Record<'1' | '8' | '32', number>;
  /** decode_bf16_tokens_per_s / decode_tokens_per_s (fp32 weights), per batch. */
  decode_bf16_vs_fp32: Record<'1' | '8' | '32', number>;
  /** The batch-1 floor for bf16 weights (half the bytes). */
  decode_b1_bf16_floor_tokens_per_s: number;
  decode_b1_bf16_fraction_of_floor: number;
  /** Decode with per-row int8 weight copies (SampleOptions.weights 'int8'), same run. */
  decode_int8_tokens_per_s: Record<'1' | '8' | '32', number>;
  /** decode_int8_tokens_per_s / decode_tokens_per_s (fp32 weights), per batch. */
  decode_int8_vs_fp32: Record<'1' | '8' | '32', number>;
  /** The batch-1 floor for int8 weights (a quarter of the bytes; the row scales are negligible). */
  decode_b1_int8_floor_tokens_per_s: number;
  decode_b1_int8_fraction_of_floor: number;
  /** PyTorch anchor figures from the same run (absent with baseline: false). */
  baseline?: EngineFigures & { torch: string };
  /** ours / PyTorch. */
  ratio?: { train: number; decode: Record<'1' | '8' | '32', number> };
  /** dtype 'bf16': our training in mixed precision (LoadOptions.precision 'bf16'), same run. */
  train_bf16_tokens_per_s?: number;
  train_bf16_gflops_per_s?: number;
  /** The GEMM kernel of that run ('amx', 'avx512bf16', or a float32 one on CPUs without bf16). */
  train_bf16_kernel?: string;
  /** train_bf16_tokens_per_s / train_tokens_per_s. */
  train_bf16_vs_fp32?: number;
  /** The bf16 GEMM (1024^3 at precision 'bf16') and the bf16 peak (AMX or AVX512-BF16), this run. */
  bf16_gemm_gflops_per_s?: number;
  bf16_peak_gflops_per_s?: number;
  /** bf16_gemm_gflops_per_s / bf16_peak_gflops_per_s (absent where the CPU has no bf16 peak). */
  bf16_gemm_fraction_of_peak?: number;
  /**
   * dtype 'bf16': the anchor under bf16 autocast, and ours in the same dtype / it (bf16 training,
   * bf16-weight decode).
   */
  baseline_bf16?: EngineFigures & { torch: string };
  ratio_bf16?: { train: number; decode: Record<'1' | '8' | '32', number> };
  note: string;
}

/**
 * Copy bandwidth of this machine's memory: a 256 MiB buffer copied (memcpy) repeatedly, best of
 * the repeats, counted as bytes read + written per second as STREAM's copy does. Large enough
 * that no cache holds it.
 */
export function measureCopyBandwidth(repeats = 6): number {
  const bytes = 256 * 2 ** 20;
  const source = Buffer.alloc(bytes, 1);
  const target = Buffer.alloc(bytes);
  let best = Infinity;
  for (let i = 0; i < repeats; i += 1) {
    const started = process.hrtime.bigint();
    source.copy(target);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return (2 * bytes) / best / 1e9;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Weights in matrix multiplies (the anchor's N_mm, lm head included). */
function matmulParams(c: BenchShape): number {
  const hd = c.dModel / c.heads;
  return (
    c.layers *
      (c.dModel * c.heads * hd * 2 + 2 * c.dModel * c.kvHeads * hd + 3 * c.dModel * c.dFf) +
    c.dModel * c.vocab
  );
}

/** Floats in the engine's training activation slab (src/cpp/llama_model_internal.h layout). */
function activationFloats(c: BenchShape): number {
  const N = c.trainBatch * c.seqLen;
  const hd = c.dModel / c.heads;
  const qd = c.heads * hd;
  const kvd = c.kvHeads * hd;
  const perLayer =
    N * (3 * c.dModel + 2 + 2 * qd + 2 * kvd + 3 * c.dFf) +
    c.trainBatch * c.heads * c.seqLen * c.seqLen;
  const backward = N * (2 * c.dModel + 2 * qd + 2 * kvd + 3 * c.dFf + 1);
  return (
    (c.layers + 1) * N * c.dModel + c.layers * perLayer + N * (c.dModel + 1 + c.vocab) + backward
  );
}

/**
 * The Llama config of a bench shape (tied embeddings, RMSNorm eps 1e-5, RoPE theta 1e4);
 * `maxPositions` defaults to what the benchmark needs (its training length and decode length).
 */
export function benchModelConfig(c: BenchShape, maxPositions?: number): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocab,
    hidden_size: c.dModel,
    intermediate_size: c.dFf,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: maxPositions ?? Math.max(c.seqLen, PROMPT_LENGTH + NEW_TOKENS),
    tie_word_embeddings: true,
  };
}

/** Deterministic pseudo-random token ids (a small LCG: the benchmark needs no quality). */
function randomTokens(count: number, vocab: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % vocab;
  }
  return out;
}

/** Median tokens/s and GFLOP/s of full training steps (forward, backward, AdamW) on one batch. */
async function measureTrain(
  model: Model,
  shape: BenchShape,
  quick: boolean,
  log: (line: string) => void,
): Promise<{ tokensPerS: number; gflopsPerS: number }> {
  model.configureOptimizer({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  const { trainBatch: B, seqLen: T } = shape;
  const batch = {
    tokens: randomTokens(B * T, shape.vocab, 1),
    lossMask: new Uint8Array(B * T).fill(1),
    batchSize: B,
    seqLen: T,
  };
  const big = shape.layers >= 30;
  const [warmup, timed] = quick ? [1, big ? 1 : 3] : [2, big ? 5 : 7];
  const stepMs: number[] = [];
  for (let i = 0; i < warmup + timed; i++) {
    const t0 = performance.now();
    const r = await model.trainStep([batch], 3e-4);
    const ms = performance.now() - t0;
    if (i >= warmup) stepMs.push(ms);
    log(
      `  engine train step ${i} (${model.precision}, ${model.matmulKernel}): ${ms.toFixed(1)} ms, loss ${r.loss.toFixed(4)}`,
    );
  }
  const tokens = B * T;
  const hd = shape.dModel / shape.heads;
  const flops = tokens * (6 * matmulParams(shape) + 12 * shape.layers * T * shape.heads * hd);
  const stepS = median(stepMs) / 1e3;
  return { tokensPerS: round(tokens / stepS), gflopsPerS: round(flops / stepS / 1e9) };
}

async function measureEngine(
  shape: BenchShape,
  threads: number,
  quick: boolean,
  dtype: 'fp32' | 'bf16',
  log: (line: string) => void,
): Promise<{
  figures: EngineFigures;
  decodeBf16: Record<'1' | '8' | '32', number>;
  decodeInt8: Record<'1' | '8' | '32', number>;
  trainBf16?: { tokensPerS: number; gflopsPerS: number; kernel: string };
  params: number;
}> {
  const model = Model.fromConfig(benchModelConfig(shape), { seed: 0, threads });
  let figures: EngineFigures;
  let decodeBf16: Record<'1' | '8' | '32', number>;
  let decodeInt8: Record<'1' | '8' | '32', number>;
  const params = model.parameterCount;
  try {
    const train = await measureTrain(model, shape, quick, log);
    const decode = await measureDecode(model, shape, quick, 'fp32', log);
    decodeBf16 = await measureDecode(model, shape, quick, 'bf16', log);
    decodeInt8 = await measureDecode(model, shape, quick, 'int8', log);
    figures = {
      train_tokens_per_s: train.tokensPerS,
      train_gflops_per_s: train.gflopsPerS,
      decode_tokens_per_s: decode,
    };
  } finally {
    model.dispose();
  }
  if (dtype !== 'bf16') return { figures, decodeBf16, decodeInt8, params };
  // The same model and batch trained in mixed precision (LoadOptions.precision 'bf16').
  const mixed = Model.fromConfig(benchModelConfig(shape), { seed: 0, threads, precision: 'bf16' });
  try {
    const train = await measureTrain(mixed, shape, quick, log);
    return {
      figures,
      decodeBf16,
      decodeInt8,
      params,
      trainBf16: { ...train, kernel: mixed.matmulKernel },
    };
  } finally {
    mixed.dispose();
  }
}

interface AnchorResult {
  torch: string;
  results: Record<
    string,
    {
      train: { tokens_per_s: number; gflops_per_s: number };
      sample: Record<string, { decode_new_tok_per_s: number }>;
    }
  >;
}

function runAnchor(
  name: string,
  threads: number,
  quick: boolean,
  script: string,
  python: string,
  dtype: 'fp32' | 'bf16' = 'fp32',
) {
  if (!existsSync(script)) {
    throw new Error(
      `PyTorch anchor not found at ${script}; pass anchorScript or set SIKED_TORCH_ANCHOR`,
    );
  }
  const args = [
    script,
    '--config',
    name,
    '--threads',
    String(threads),
    '--sample-batches',
    '1,8,32',
  ];
  if (quick) args.push('--quick');
  if (dtype === 'bf16') args.push('--dtype', 'bf16');
  const run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    throw new Error(
      `${python} ${args.join(' ')} failed (${run.status}): ${run.stderr.slice(-2000)}`,
    );
  }
  const lines = run.stdout.trim().split('\n');
  const out = JSON.parse(lines[lines.length - 1]) as AnchorResult;
  const r = out.results[name];
  const decode = {} as Record<'1' | '8' | '32', number>;
  for (const b of DECODE_BATCHES) decode[String(b) as '1'] = r.sample[`b${b}`].decode_new_tok_per_s;
  return {
    torch: out.torch,
    train_tokens_per_s: r.train.tokens_per_s,
    train_gflops_per_s: r.train.gflops_per_s,
    decode_tokens_per_s: decode,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Benchmarks the engine on one anchor config and, unless `baseline: false`, the PyTorch anchor
 * on the same config right after, returning one JSON-ready object with ours/PyTorch ratios.
 * Figures are only comparable within one run, and only on a quiet machine.
 */
export async function benchmarkEngine(options: BenchmarkOptions): Promise<EngineBenchmark> {
  const shape = BENCH_CONFIGS[options.config];
  if (shape === undefined)
    fail(`one of ${Object.keys(BENCH_CONFIGS).join(', ')}`, 'config', options.config);
  const threads =
    options.threads === undefined
      ? os.availableParallelism()
      : expectInteger(options.threads, 'threads');
  const quick = options.quick ?? false;
  const log = options.log ?? (() => undefined);
  const binding = loadBinding();
  const probe = binding.sgemmProbe as (
    n: number,
    seconds: number,
    threads: number,
    precision?: 'fp32' | 'bf16',
  ) => number;
  const peakProbe = binding.peakProbe as (
    kind: 'fp32' | 'bf16',
    seconds: number,
    threads: number,
  ) => number;
  const sgemm = probe(1024, 0.5, threads);
  const fp32Peak = peakProbe('fp32', 0.3, threads);
  log(
    `[${options.config}] engine sgemm 1024^3: ${sgemm.toFixed(1)} GFLOP/s of a ${fp32Peak.toFixed(1)} GFLOP/s fp32 FMA peak (${threads} threads)`,
  );
  const dtype = options.dtype ?? 'fp32';
  const { figures, decodeBf16, decodeInt8, trainBf16, params } = await measureEngine(
    shape,
    threads,
    quick,
    dtype,
    log,
  );
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const optimizerMb = (params * 4 * 4) / 2 ** 20;
  const bandwidth = measureCopyBandwidth();
  const floorTokensPerSecond = (bandwidth * 1e9) / (params * 4);
  log(
    `[${options.config}] copy bandwidth ${bandwidth.toFixed(1)} GB/s: batch-1 floor ${floorTokensPerSecond.toFixed(1)} tokens/s`,
  );
  const activationsMb = (activationFloats(shape) * 4) / 2 ** 20;
  const result: EngineBenchmark = {
    config: options.config,
    threads,
    params,
    ...figures,
    sgemm_gflops_per_s: round(sgemm),
    train_fraction_of_sgemm: Math.round((figures.train_gflops_per_s / sgemm) * 1000) / 1000,
    fp32_peak_gflops_per_s: round(fp32Peak),
    sgemm_fraction_of_peak: fp32Peak > 0 ? Math.round((sgemm / fp32Peak) * 1000) / 1000 : 0,
    peak_rss_mb: round(peakRssMb),
    optimizer_state_mb: round(optimizerMb),
    activations_mb: round(activationsMb),
    rss_over_floor: Math.round((peakRssMb / (optimizerMb + activationsMb)) * 100) / 100,
    weight_bytes: params * 4,
    copy_bandwidth_gb_per_s: round(bandwidth),
    decode_b1_floor_tokens_per_s: round(floorTokensPerSecond),
    decode_b1_fraction_of_floor:
      Math.round((figures.decode_tokens_per_s['1'] / floorTokensPerSecond) * 1000) / 1000,
    decode_bf16_tokens_per_s: decodeBf16,
    decode_bf16_vs_fp32: perBatchRatio(decodeBf16, figures.decode_tokens_per_s),
    decode_b1_bf16_floor_tokens_per_s: round(2 * floorTokensPerSecond),
    decode_b1_bf16_fraction_of_floor:
      Math.round((decodeBf16['1'] / (2 * floorTokensPerSecond)) * 1000) / 1000,
    decode_int8_tokens_per_s: decodeInt8,
    decode_int8_vs_fp32: perBatchRatio(decodeInt8, figures.decode_tokens_per_s),
    decode_b1_int8_floor_tokens_per_s: round(4 * floorTokensPerSecond),
    decode_b1_int8_fraction_of_floor:
      Math.round((decodeInt8['1'] / (4 * floorTokensPerSecond)) * 1000) / 1000,
    note: 'indicative: compare only within one run, on a quiet machine',
  };
  if (trainBf16 !== undefined) {
    result.train_bf16_tokens_per_s = trainBf16.tokensPerS;
    result.train_bf16_gflops_per_s = trainBf16.gflopsPerS;
    result.train_bf16_kernel = trainBf16.kernel;
    result.train_bf16_vs_fp32 =
      Math.round((trainBf16.tokensPerS / figures.train_tokens_per_s) * 100) / 100;
    const bf16Gemm = probe(1024, 0.5, threads, 'bf16');
    const bf16Peak = peakProbe('bf16', 0.3, threads);
    result.bf16_gemm_gflops_per_s = round(bf16Gemm);
    result.bf16_peak_gflops_per_s = round(bf16Peak);
    if (bf16Peak > 0) {
      result.bf16_gemm_fraction_of_peak = Math.round((bf16Gemm / bf16Peak) * 1000) / 1000;
    }
    log(
      `[${options.config}] bf16 GEMM 1024^3: ${bf16Gemm.toFixed(1)} GFLOP/s of a ${bf16Peak.toFixed(1)} GFLOP/s ${trainBf16.kernel} peak`,
    );
  }
  if (options.baseline ?? true) {
    const script =
      options.anchorScript ??
      process.env.SIKED_TORCH_ANCHOR ??
      path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'anchors', 'torch_llama_bench.py');
    log(`[${options.config}] PyTorch anchor ${script}`);
    const baseline = runAnchor(
      options.config,
      threads,
      quick,
      script,
      options.python ?? '/usr/bin/python3',
    );
    result.baseline = baseline;
    result.ratio = ratios(figures.train_tokens_per_s, figures.decode_tokens_per_s, baseline);
    if (options.dtype === 'bf16') {
      log(`[${options.config}] PyTorch anchor again under bf16 autocast`);
      const bf16 = runAnchor(
        options.config,
        threads,
        quick,
        script,
        options.python ?? '/usr/bin/python3',
        'bf16',
      );
      result.baseline_bf16 = bf16;
      result.ratio_bf16 = ratios(
        trainBf16?.tokensPerS ?? figures.train_tokens_per_s,
        result.decode_bf16_tokens_per_s,
        bf16,
      );
    }
  }
  return result;
}

/** ours / baseline, to two decimals. */
function ratios(
  train: number,
  decode: Record<'1' | '8' | '32', number>,
  baseline: EngineFigures,
): { train: number; decode: Record<'1' | '8' | '32', number> } {
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const decodeRatio = {} as Record<'1' | '8' | '32', number>;
  for (const b of DECODE_BATCHES) {
    const k = String(b) as '1';
    decodeRatio[k] = round2(decode[k] / baseline.decode_tokens_per_s[k]);
  }
  return { train: round2(train / baseline.train_tokens_per_s), decode: decodeRatio };
}
