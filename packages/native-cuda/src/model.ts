// The engine's public Model (docs/ENGINE_API.md): loading and saving in the Hugging Face layout,
// training steps, LoRA, logits, scoring and sampling. Every argument is checked here before it
// crosses into C++; C++ errors come back as JS Errors whose stack shows the caller.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ModelConfig, parseModelConfig, readModelConfig, toNativeConfig } from './config';
import {
  createNativeModel,
  type NativeDevice,
  type NativeModel,
  type TensorInfo,
} from './native-model';
import { readSafetensors, SafetensorsError, type Tensor, writeSafetensors } from './safetensors';
import {
  EngineArgumentError,
  expectInteger,
  expectNumber,
  expectTokenIds,
  expectTypedArray,
  fail,
} from './validate';

/** The adapter_config.json PEFT (and vLLM) read for adapters with these LoRA settings. */
export function peftAdapterConfig(lora: Pick<LoraOptions, 'rank' | 'alpha' | 'targets'>) {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: 0,
    target_modules: [...lora.targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    base_model_name_or_path: null,
  };
}

/** SampleOptions.weights: 'fp32' (default), 'bf16' or 'int8'. */
function expectWeights(value: unknown): DecodeWeights {
  if (value === undefined) return 'fp32';
  if (value !== 'fp32' && value !== 'bf16' && value !== 'int8') {
    fail("'fp32', 'bf16' or 'int8'", 'weights', value);
  }
  return value;
}

/** Where and how the model runs. */
export interface LoadOptions {
  /**
   * Default 'cpu'. 'cuda' runs the CUDA backend (bf16 compute, fp32 master weights and optimizer
   * state) on GPU 0; it needs a build with the backend (`siked info` says what is usable) and
   * head_dim 64 or 128. A build made with SIKED_CUDA=EMULATE runs the same kernels on the CPU.
   */
  device?: 'cpu' | 'cuda';
  /** CPU worker threads (one pool per model); default: all cores. */
  threads?: number;
  /**
   * Precision of the matrix multiplies (every projection and the LM head; training, scoring and
   * prefill). 'bf16' is mixed precision as CPU autocast does it: bf16 operands, float32
   * accumulation, float32 master weights, gradients and AdamW state -- on AMX tiles or
   * AVX512-BF16 where the CPU has them, float32 where it has neither ({@link Model.matmulKernel}
   * says which ran). Decode steps of up to 32 rows stay float32 (see SampleOptions.weights).
   * Default 'fp32'. The CUDA backend computes in bf16 either way.
   */
  precision?: 'fp32' | 'bf16';
}

/** The projections LoRA can adapt. */
export type LoraTarget =
  'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';
const LORA_TARGETS: readonly LoraTarget[] = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
];

/** LoRA adapter settings (PEFT semantics: scale = alpha / rank). */
export interface LoraOptions {
  /** Default 16. */
  rank: number;
  /** Default 32. */
  alpha: number;
  targets: LoraTarget[];
  /** A ~ kaiming-uniform like PEFT, B = 0. */
  seed: number;
}

/** AdamW settings (torch.optim.AdamW semantics). */
export interface OptimizerOptions {
  /** Defaults 0.9, 0.999, 1e-8. */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay; default 0. */
  weightDecay?: number;
  /** Global gradient-norm clip; 0 or undefined = off. */
  maxGradNorm?: number;
}

/**
 * A training batch, row-major [batchSize, seqLen]. lossMask[i] = 1 trains on predicting tokens[i]
 * from tokens[<i] (the label is the token itself, shifted inside the engine). Padding: mask 0.
 */
export interface TrainBatch {
  tokens: Int32Array;
  lossMask: Uint8Array;
  batchSize: number;
  seqLen: number;
  /**
   * Packed rows (several documents back to back in one row): position ids [batchSize, seqLen],
   * counting 0, 1, 2... within each document, a 0 starting the next (as `position_ids` in
   * transformers' packing). Each token then attends only to its own document (block-diagonal
   * causal mask), RoPE restarts per document, and the first token of a document is never a
   * target. Omit for one document per row.
   */
  positions?: Int32Array;
}

/** What one optimizer step did. */
export interface StepResult {
  /** Mean cross-entropy over the masked tokens of the accumulated batches. */
  loss: number;
  /** Global L2 norm before clipping. */
  gradNorm: number;
  /** Masked tokens that contributed. */
  tokens: number;
}

/** Sampling settings for {@link Model.generate}. */
export interface SampleOptions {
  maxNewTokens: number;
  /** 0 = greedy (default). */
  temperature?: number;
  /** 0 = off. */
  topK?: number;
  /** 1 = off. */
  topP?: number;
  /** Per-row seed = hash(seed, promptIndex, sampleIndex); default 0. */
  seed?: number;
  stopTokenIds?: number[];
  /** Samples per prompt, sharing one prefill (default 1). */
  numSamples?: number;
  /**
   * 'bf16': the CPU engine's decode steps read bfloat16 copies of the weights (half the bytes;
   * float32 products and sums; the prefill stays float32), for faster sampling where decode is
   * bound by memory bandwidth (steps of up to 8 rows; wider steps are bound by arithmetic and
   * read the float32 weights). Greedy choices can differ from float32 where two logits are
   * closer than bf16 rounding moves them. 'int8': copies quantized per output row (symmetric,
   * scale = max |w| / 127; a quarter of the bytes), an approximation of the model, so outputs
   * drift further from float32 than with bf16 (docs/BENCHMARKS.md measures how far). Both copies
   * are rebuilt after any weight change; adapters (LoRA) are read in float32. Default 'fp32'.
   * The CUDA backend computes in bf16 and ignores it.
   */
  weights?: DecodeWeights;
}

/** What decode steps read the weights from (SampleOptions.weights). */
export type DecodeWeights = 'fp32' | 'bf16' | 'int8';

/** One sampled continuation. */
export interface Generation {
  promptIndex: number;
  sampleIndex: number;
  /** New tokens only (a stop token, if hit, is included last). */
  tokens: number[];
  /** Natural-log p of each new token under the unscaled model. */
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

/** Tensors HF checkpoints may carry that the engine recomputes instead of loading. */
const IGNORED_TENSOR = /\.rotary_emb\.inv_freq$/;

/** Calls C++ with a JS Error created first, so a rejection's stack shows the caller. */
async function callNative<T>(run: () => Promise<T>): Promise<T> {
  const error = new Error();
  try {
    return await run();
  } catch (cause) {
    error.message = cause instanceof Error ? cause.message : String(cause);
    error.cause = cause;
    throw error;
  }
}

function checkLoadOptions(options: LoadOptions): {
  threads: number;
  device: NativeDevice;
  precision: 'fp32' | 'bf16';
} {
  const device = options.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') fail("'cpu' or 'cuda'", 'device', options.device);
  const threads =
    options.threads === undefined
      ? os.availableParallelism()
      : expectInteger(options.threads, 'threads');
  const precision = options.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') {
    fail("'fp32' or 'bf16'", 'precision', options.precision);
  }
  return { threads, device, precision };
}

/** A Llama-family decoder (LlamaForCausalLM, Qwen2ForCausalLM) running in the C++ engine. */
export class Model {
  /** The checked Hugging Face config the model was built from. */
  readonly config: ModelConfig;
  /** Number of base parameters (LoRA adapters not included). */
  readonly parameterCount: number;
  /** Where the model runs. */
  readonly device: NativeDevice;
  /** The precision asked for (LoadOptions.precision). */
  readonly precision: 'fp32' | 'bf16';
  /**
   * The kernel its matrix multiplies run on: 'amx' or 'avx512bf16' (bf16), a float32 kernel
   * ('avx512', 'avx2', 'scalar': float32, or bf16 asked on a CPU without bf16 instructions), or
   * 'cuda-bf16'.
   */
  readonly matmulKernel: string;
  private nativeModel: NativeModel | undefined;
  private loraOptions: LoraOptions | undefined;

  private constructor(
    config: ModelConfig,
    native: NativeModel,
    device: NativeDevice,
    precision: 'fp32' | 'bf16',
  ) {
    this.config = config;
    this.device = device;
    this.nativeModel = native;
    this.parameterCount = native.parameterCount();
    this.precision = precision;
    this.matmulKernel = native.setPrecision(precision);
  }

  /** Loads `<dir>/config.json` and `<dir>/model.safetensors` (or its sharded index). */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<Model> {
    const { threads, device, precision } = checkLoadOptions(options);
    const config = await readModelConfig(dir);
    const { tensors, files } = await readCheckpointTensors(dir);
    const native = createNativeModel(toNativeConfig(config), threads, 0, false, device);
    const model = new Model(config, native, device, precision);
    try {
      const expected = new Map(native.parameterTable().map((t) => [t.name, t] as const));
      for (const [name, tensor] of tensors) {
        const slot = expected.get(name);
        if (slot === undefined) {
          if (IGNORED_TENSOR.test(name)) continue;
          if (name === 'lm_head.weight' && config.tie_word_embeddings) continue;
          throw new SafetensorsError(
            `${files}: unexpected tensor ${name} (does config.json match these weights?)`,
          );
        }
        if (!sameShape(slot.shape, tensor.shape)) {
          throw new SafetensorsError(
            `${files}: tensor ${name} has shape [${tensor.shape.join(', ')}] but config.json implies [${slot.shape.join(', ')}]`,
          );
        }
        native.setParameter(name, tensor.data);
        expected.delete(name);
      }
      if (expected.size > 0) {
        const missing = [...expected.keys()];
        throw new SafetensorsError(
          `${files}: missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
        );
      }
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** A randomly initialised model (HF init: normal(0, 0.02) weights, unit norms, zero biases). */
  static fromConfig(config: ModelConfig, options: LoadOptions & { seed: number }): Model {
    const { threads, device, precision } = checkLoadOptions(options);
    const seed = expectInteger(options.seed, 'seed', 0);
    const checked = parseModelConfig(config, 'config');
    return new Model(
      checked,
      createNativeModel(toNativeConfig(checked), threads, seed, true, device),
      device,
      precision,
    );
  }

  private get native(): NativeModel {
    if (this.nativeModel === undefined) throw new Error('this Model has been disposed');
    return this.nativeModel;
  }

  /** Names and shapes of the base parameters (HF names). */
  parameterTable(): TensorInfo[] {
    return this.native.parameterTable();
  }

  /** Names and shapes of the LoRA adapters (PEFT names); empty without LoRA. */
  loraTable(): TensorInfo[] {
    return this.native.loraTable();
  }

  /** A copy of one tensor, by HF name or PEFT adapter name. */
  getParameter(name: string): Float32Array {
    return this.native.getParameter(name);
  }

  /** Overwrites one tensor (by HF or PEFT name) with `data` (same element count). */
  setParameter(name: string, data: Float32Array): void {
    this.native.setParameter(name, expectTypedArray<Float32Array>(data, name, 'Float32Array'));
  }

  /** The gradient of the mean loss over the tokens accumulated since the last step. */
  getGradient(name: string): Float32Array {
    return this.native.getGradient(name);
  }

  /** Writes config.json and model.safetensors (fp32, HF names; LoRA merged into the weights). */
  async save(dir: string): Promise<void> {
    const native = this.native;
    await fs.mkdir(dir, { recursive: true });
    const tensors: Array<[string, Tensor]> = native
      .parameterTable()
      .map((t) => [t.name, { shape: t.shape, data: native.mergedParameter(t.name) }]);
    const config = { ...this.config, torch_dtype: 'float32' };
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  }

  /** Adds LoRA adapters and freezes the base weights (only adapters are trained). */
  enableLora(options: LoraOptions): void {
    const rank = expectInteger(options.rank ?? 16, 'rank');
    const alpha = expectNumber(options.alpha ?? 32, 'alpha', 0);
    const seed = expectInteger(options.seed ?? 0, 'seed', 0);
    if (!Array.isArray(options.targets) || options.targets.length === 0) {
      fail(`non-empty list of ${LORA_TARGETS.join(', ')}`, 'targets', options.targets);
    }
    options.targets.forEach((t, i) => {
      if (!LORA_TARGETS.includes(t)) fail(`one of ${LORA_TARGETS.join(', ')}`, `targets[${i}]`, t);
    });
    this.native.enableLora(rank, alpha, options.targets, seed);
    this.loraOptions = { rank, alpha, targets: [...options.targets], seed };
  }

  /** Folds the adapters into the base weights and removes them. */
  mergeLora(): void {
    this.native.mergeLora();
    this.loraOptions = undefined;
  }

  /** Writes the adapters alone in the PEFT layout (adapter_config.json + adapter_model.safetensors). */
  async saveLora(dir: string): Promise<void> {
    const native = this.native;
    const lora = this.loraOptions;
    if (lora === undefined) throw new Error('saveLora(): LoRA is not enabled');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, 'adapter_config.json'),
      JSON.stringify(peftAdapterConfig(lora), null, 2) + '\n',
    );
    const tensors: Array<[string, Tensor]> = native
      .loraTable()
      .map((t) => [t.name, { shape: t.shape, data: native.getParameter(t.name) }]);
    await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  }

  /** Enables LoRA from a PEFT folder written by {@link saveLora} (or PEFT itself) and loads it. */
  async loadLora(dir: string): Promise<void> {
    const configFile = path.join(dir, 'adapter_config.json');
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(await fs.readFile(configFile, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new Error(`${configFile}: cannot read (${(cause as Error).message})`, { cause });
    }
    const file = path.join(dir, 'adapter_model.safetensors');
    const tensors = await readSafetensors(file);
    this.enableLora({
      rank: raw.r as number,
      alpha: raw.lora_alpha as number,
      targets: raw.target_modules as LoraTarget[],
      seed: 0,
    });
    const expected = new Map(this.native.loraTable().map((t) => [t.name, t] as const));
    for (const [name, tensor] of tensors) {
      const slot = expected.get(name);
      if (slot === undefined || !sameShape(slot.shape, tensor.shape)) {
        this.mergeLoraDiscard();
        throw new SafetensorsError(
          `${file}: tensor ${name} [${tensor.shape.join(', ')}] does not match adapter_config.json`,
        );
      }
      this.native.setParameter(name, tensor.data);
      expected.delete(name);
    }
    if (expected.size > 0) {
      this.mergeLoraDiscard();
      throw new SafetensorsError(
        `${file}: missing adapter tensor(s) ${[...expected.keys()].join(', ')}`,
      );
    }
  }

  /** Removes freshly enabled adapters without changing the base (B is still zero). */
  private mergeLoraDiscard(): void {
    for (const t of this.native.loraTable()) {
      this.native.setParameter(t.name, new Float32Array(t.shape.reduce((a, b) => a * b, 1)));
    }
    this.mergeLora();
  }

  /** Sets AdamW hyper-parameters (kept across steps; moments are not reset). */
  configureOptimizer(options: OptimizerOptions): void {
    this.native.configureOptimizer(
      expectNumber(options.beta1 ?? 0.9, 'beta1', 0, 0.999999),
      expectNumber(options.beta2 ?? 0.999, 'beta2', 0, 0.999999999),
      expectNumber(options.eps ?? 1e-8, 'eps', 0),
      expectNumber(options.weightDecay ?? 0, 'weightDecay', 0),
      expectNumber(options.maxGradNorm ?? 0, 'maxGradNorm', 0),
    );
  }

  /** Forward + backward of one micro-batch, accumulating gradients; returns its mean loss. */
  async accumulate(batch: TrainBatch): Promise<{ loss: number; tokens: number }> {
    const { tokens, lossMask, batchSize, seqLen, positions } = this.checkBatch(batch, 'batch');
    const native = this.native;
    const result = await callNative(() =>
      native.accumulate(tokens, lossMask, batchSize, seqLen, positions),
    );
    return { loss: result.tokens > 0 ? result.loss / result.tokens : NaN, tokens: result.tokens };
  }

  /** Clips, applies AdamW with the accumulated gradients, then zeroes them. */
  async step(learningRate: number): Promise<StepResult> {
    expectNumber(learningRate, 'learningRate', 0);
    const native = this.native;
    return callNative(() => native.step(learningRate));
  }

  /** Accumulates over the micro-batches, then steps. */
  async trainStep(batches: TrainBatch[], learningRate: number): Promise<StepResult> {
    if (!Array.isArray(batches) || batches.length === 0) {
      fail('non-empty array of batches', 'batches', batches);
    }
    expectNumber(learningRate, 'learningRate', 0);
    for (const [i, batch] of batches.entries())
      await this.accumulate(this.checkBatch(batch, `batches[${i}]`));
    return this.step(learningRate);
  }

  /** Logits [batchSize, seqLen, vocab_size] of a full forward. */
  async logits(tokens: Int32Array, batchSize: number, seqLen: number): Promise<Float32Array> {
    expectInteger(batchSize, 'batchSize');
    expectInteger(seqLen, 'seqLen');
    expectTypedArray<Int32Array>(tokens, 'tokens', 'Int32Array');
    if (tokens.length !== batchSize * seqLen) {
      fail(`Int32Array of batchSize * seqLen = ${batchSize * seqLen} ids`, 'tokens', tokens);
    }
    const native = this.native;
    return callNative(() => native.logits(tokens, batchSize, seqLen));
  }

  /** Per-token log p(tokens[i] | tokens[<i]) of each sequence; the first entry of each is NaN. */
  async scoreTokens(sequences: number[][]): Promise<Float32Array[]> {
    const { flat, lengths } = this.flatten(sequences, 'sequences');
    const native = this.native;
    return callNative(() => native.score(flat, lengths));
  }

  /** Samples continuations of each prompt (see {@link SampleOptions}). */
  async generate(prompts: number[][], options: SampleOptions): Promise<Generation[]> {
    const { flat, lengths } = this.flatten(prompts, 'prompts');
    const vocab = this.config.vocab_size;
    const spec = {
      maxNewTokens: expectInteger(options.maxNewTokens, 'maxNewTokens'),
      temperature: expectNumber(options.temperature ?? 0, 'temperature', 0),
      topK: expectInteger(options.topK ?? 0, 'topK', 0),
      topP: expectNumber(options.topP ?? 1, 'topP', Number.MIN_VALUE, 1),
      seed: expectInteger(options.seed ?? 0, 'seed', 0),
      numSamples: expectInteger(options.numSamples ?? 1, 'numSamples'),
      weights: expectWeights(options.weights),
      stopTokenIds: Int32Array.from(
        expectTokenIds(options.stopTokenIds ?? [], 'stopTokenIds', vocab),
      ),
    };
    const longest = Math.max(...lengths);
    if (longest + spec.maxNewTokens > this.config.max_position_embeddings) {
      throw new EngineArgumentError(
        `longest prompt (${longest}) + maxNewTokens (${spec.maxNewTokens}) exceeds max_position_embeddings (${this.config.max_position_embeddings})`,
      );
    }
    const native = this.native;
    const raw = await callNative(() => native.generate(flat, lengths, spec));
    return raw.map((g) => ({
      promptIndex: g.promptIndex,
      sampleIndex: g.sampleIndex,
      tokens: Array.from(g.tokens),
      logprobs: Array.from(g.logprobs),
      finishReason: g.finishReason,
    }));
  }

  /** Frees the model's memory now (a running call finishes first). Idempotent. */
  dispose(): void {
    this.nativeModel?.dispose();
    this.nativeModel = undefined;
  }

  private checkBatch(batch: TrainBatch, name: string): TrainBatch {
    if (typeof batch !== 'object' || batch === null) fail('TrainBatch object', name, batch);
    const batchSize = expectInteger(batch.batchSize, `${name}.batchSize`);
    const seqLen = expectInteger(batch.seqLen, `${name}.seqLen`);
    const tokens = expectTypedArray<Int32Array>(batch.tokens, `${name}.tokens`, 'Int32Array');
    const lossMask = expectTypedArray<Uint8Array>(batch.lossMask, `${name}.lossMask`, 'Uint8Array');
    const n = batchSize * seqLen;
    if (tokens.length !== n)
      fail(`Int32Array of batchSize * seqLen = ${n} ids`, `${name}.tokens`, tokens);
    if (lossMask.length !== n) fail(`Uint8Array of ${n} entries`, `${name}.lossMask`, lossMask);
    if (seqLen > this.config.max_position_embeddings) {
      fail(
        `integer <= max_position_embeddings (${this.config.max_position_embeddings})`,
        `${name}.seqLen`,
        seqLen,
      );
    }
    const vocab = this.config.vocab_size;
    for (let i = 0; i < n; i++) {
      if (tokens[i] < 0 || tokens[i] >= vocab)
        fail(`token id in [0, ${vocab})`, `${name}.tokens[${i}]`, tokens[i]);
    }
    if (batch.positions === undefined) return { tokens, lossMask, batchSize, seqLen };
    const positions = expectTypedArray<Int32Array>(
      batch.positions,
      `${name}.positions`,
      'Int32Array',
    );
    if (positions.length !== n) fail(`Int32Array of ${n} entries`, `${name}.positions`, positions);
    for (let i = 0; i < n; i++) {
      const continues = i % seqLen > 0 && positions[i] === positions[i - 1]! + 1;
      if (positions[i] !== 0 && !continues)
        fail(
          '0 (a document starts) or the previous position plus 1',
          `${name}.positions[${i}]`,
          positions[i],
        );
    }
    return { tokens, lossMask, batchSize, seqLen, positions };
  }

  private flatten(sequences: number[][], name: string): { flat: Int32Array; lengths: Int32Array } {
    if (!Array.isArray(sequences) || sequences.length === 0)
      fail('non-empty array of token lists', name, sequences);
    const vocab = this.config.vocab_size;
    const lengths = new Int32Array(sequences.length);
    sequences.forEach((s, i) => {
      expectTokenIds(s, `${name}[${i}]`, vocab);
      if (s.length === 0) fail('non-empty token list', `${name}[${i}]`, s);
      if (s.length > this.config.max_position_embeddings) {
        fail(
          `at most max_position_embeddings (${this.config.max_position_embeddings}) tokens`,
          `${name}[${i}]`,
          s,
        );
      }
      lengths[i] = s.length;
    });
    const flat = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const s of sequences) {
      flat.set(s, at);
      at += s.length;
    }
    return { flat, lengths };
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Reads model.safetensors, or every shard listed in model.safetensors.index.json. */
async function readCheckpointTensors(
  dir: string,
): Promise<{ tensors: Map<string, Tensor>; files: string }> {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  const hasSingle = await fs.access(single).then(
    () => true,
    () => false,
  );
  if (
    hasSingle ||
    !(await fs.access(index).then(
      () => true,
      () => false,
    ))
  ) {
    return { tensors: await readSafetensors(single), files: single };
  }
  let weightMap: Record<string, string>;
  try {
    weightMap = (
      JSON.parse(await fs.readFile(index, 'utf8')) as { weight_map: Record<string, string> }
    ).weight_map;
  } catch (cause) {
    throw new SafetensorsError(`${index}: cannot read (${(cause as Error).message})`, { cause });
  }
  const tensors = new Map<string, Tensor>();
  for (const shard of new Set(Object.values(weightMap))) {
    for (const [name, t] of await readSafetensors(path.join(dir, shard))) tensors.set(name, t);
  }
  return { tensors, files: `${dir}/model-*.safetensors` };
}
