// The Hugging Face config.json fields the engine reads, with their checks and defaults.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Hugging Face config.json fields the engine reads (LlamaForCausalLM, Qwen2ForCausalLM). */
export interface ModelConfig {
  architectures: string[];
  model_type: 'llama' | 'qwen2';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  /** Default hidden_size / num_attention_heads. */
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  /** Llama only; Qwen2 always has q/k/v biases. */
  attention_bias?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  torch_dtype?: string;
}

/** The architectures the engine implements, keyed by HF class name. */
const ARCHITECTURES: Record<string, ModelConfig['model_type']> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
};

/** Thrown for a config.json the engine cannot use; the message names the file and the field. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

/**
 * Checks a parsed config.json and fills the defaults HF applies (num_key_value_heads =
 * num_attention_heads, rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false).
 * `source` names the file in error messages.
 */
export function parseModelConfig(raw: unknown, source = 'config'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelConfigError(`${source}: expected a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  const bad = (field: string, expected: string): never => {
    throw new ModelConfigError(
      `${source}: field "${field}" must be ${expected} (got ${JSON.stringify(o[field])})`,
    );
  };
  const architectures = o.architectures;
  if (!Array.isArray(architectures) || architectures.length === 0) {
    bad(
      'architectures',
      `a non-empty list containing one of ${Object.keys(ARCHITECTURES).join(', ')}`,
    );
  }
  const arch = (architectures as unknown[]).find(
    (a): a is string => typeof a === 'string' && a in ARCHITECTURES,
  );
  if (arch === undefined) {
    throw new ModelConfigError(
      `${source}: unsupported architecture ${JSON.stringify(architectures)}; the engine implements ${Object.keys(ARCHITECTURES).join(', ')}`,
    );
  }
  const positiveInt = (field: string, fallback?: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(field, 'a positive integer');
    return v as number;
  };
  const positiveNumber = (field: string, fallback: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(field, 'a positive number');
    return v as number;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'boolean') bad(field, 'true or false');
    return v as boolean;
  };
  const model_type = ARCHITECTURES[arch];
  const hidden_size = positiveInt('hidden_size');
  const num_attention_heads = positiveInt('num_attention_heads');
  const num_key_value_heads = positiveInt('num_key_value_heads', num_attention_heads);
  if (num_attention_heads % num_key_value_heads !== 0) {
    bad('num_key_value_heads', `a divisor of num_attention_heads (${num_attention_heads})`);
  }
  const head_dim = positiveInt('head_dim', hidden_size / num_attention_heads);
  if (head_dim % 2 !== 0) bad('head_dim', 'even (rotary embeddings rotate pairs)');
  const config: ModelConfig = {
    ...(o as Partial<ModelConfig>),
    architectures: [arch],
    model_type,
    vocab_size: positiveInt('vocab_size'),
    hidden_size,
    intermediate_size: positiveInt('intermediate_size'),
    num_hidden_layers: positiveInt('num_hidden_layers'),
    num_attention_heads,
    num_key_value_heads,
    head_dim,
    rms_norm_eps: positiveNumber('rms_norm_eps', 1e-6),
    rope_theta: positiveNumber('rope_theta', 10000),
    max_position_embeddings: positiveInt('max_position_embeddings', 2048),
    tie_word_embeddings: bool('tie_word_embeddings', false),
    attention_bias: bool('attention_bias', false),
  };
  const scaling = o.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    bad('rope_scaling', 'null (scaled rotary embeddings are not implemented)');
  }
  return config;
}

/** Reads and checks `<dir>/config.json`. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    throw new ModelConfigError(`${file}: cannot read (${(cause as Error).message})`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelConfigError(`${file}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  return parseModelConfig(raw, file);
}

/** The numeric shape the C++ model is built from. Internal to this package. */
export interface NativeConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  qkv_bias: boolean;
}

/** Maps a checked config to the C++ side's fields (Qwen2 always has q/k/v biases). */
export function toNativeConfig(config: ModelConfig): NativeConfig {
  return {
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    intermediate_size: config.intermediate_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    num_key_value_heads: config.num_key_value_heads,
    head_dim: config.head_dim ?? config.hidden_size / config.num_attention_heads,
    rms_norm_eps: config.rms_norm_eps,
    rope_theta: config.rope_theta,
    max_position_embeddings: config.max_position_embeddings,
    tie_word_embeddings: config.tie_word_embeddings,
    qkv_bias: config.model_type === 'qwen2' || config.attention_bias === true,
  };
}
