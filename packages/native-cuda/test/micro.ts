// Tiny random configs for tests that need no golden file (fast: a few thousand parameters).
import type { Model, ModelConfig } from '@siked/native-cuda';

/** A micro Llama with GQA, q/k/v bias and an untied head: every code path in a few KB. */
export function microConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 16,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 32,
    tie_word_embeddings: false,
    attention_bias: true,
    ...overrides,
  };
}

/** Row-wise log-softmax in float64 of logits [rows, V]. */
export function logSoftmaxRows(logits: Float32Array, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[r * V + j]);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[r * V + j] - max);
    const logZ = max + Math.log(sum);
    for (let j = 0; j < V; j++) out[r * V + j] = logits[r * V + j] - logZ;
  }
  return out;
}

/** Index of the largest entry of row r (lowest index on ties). */
export function argmaxRow(logits: Float32Array, V: number, r: number): number {
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[r * V + j] > logits[r * V + best]) best = j;
  return best;
}

/**
 * Multiplies every weight but the norms by `factor` (10x HF's init by default), so attention
 * and the output distribution are far from uniform and a wrong mask or gradient shows.
 */
export function sharpenWeights(model: Model, factor = 10): Model {
  for (const { name } of model.parameterTable()) {
    if (!name.includes('norm'))
      model.setParameter(
        name,
        model.getParameter(name).map((x) => factor * x),
      );
  }
  return model;
}

/** ||a - b|| / ||b|| in float64 (b: the reference). */
export function relativeL2Error(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
