// Inference with a KV cache: packed prefill, batched decode, logits, scoring and sampling.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "backend_checks.h"
#include "gemm.h"
#include "llama_model.h"
#include "llama_model_internal.h"
#include "random.h"
#include "vector_math.h"

namespace siked {

namespace {

// Upper bound on the rows of one packed forward: bounds the (rows, F) and (rows, V) buffers.
constexpr int kMaxPackedRows = 2048;
// Forwards of at most this many rows (decode steps) run stacked projections (forward_cached).
constexpr int kStackedRows = 32;


// Natural-log softmax probability of `token` under raw logits (V).
float log_prob_of(const float* logits, int V, int token) { return logits[token] - log_sum_exp(logits, V); }

// Picks the next token: greedy (argmax, lowest id on ties) or temperature + top-k + top-p.
int sample_token(const float* logits, int V, const SampleSpec& spec, Rng& rng,
                 std::vector<std::pair<float, int>>& scratch) {
  if (spec.temperature <= 0.f) return int(std::max_element(logits, logits + V) - logits);
  scratch.resize(V);
  for (int j = 0; j < V; ++j) scratch[j] = {logits[j] / spec.temperature, j};
  auto by_score = [](const std::pair<float, int>& a, const std::pair<float, int>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  int keep = V;
  if (spec.top_k > 0 && spec.top_k < V) {
    keep = spec.top_k;
    std::partial_sort(scratch.begin(), scratch.begin() + keep, scratch.end(), by_score);
  } else if (spec.top_p < 1.f) {
    std::sort(scratch.begin(), scratch.end(), by_score);
  }
  float mx = -INFINITY;
  for (int j = 0; j < keep; ++j) mx = std::max(mx, scratch[j].first);
  double total = 0;
  std::vector<double> probs(keep);
  for (int j = 0; j < keep; ++j) total += probs[j] = std::exp(double(scratch[j].first - mx));
  if (spec.top_p < 1.f) {  // smallest prefix (by probability) whose mass reaches top_p
    double cum = 0;
    int cut = keep;
    for (int j = 0; j < keep; ++j) {
      cum += probs[j] / total;
      if (cum >= spec.top_p) {
        cut = j + 1;
        break;
      }
    }
    keep = cut;
    total = 0;
    for (int j = 0; j < keep; ++j) total += probs[j];
  }
  double u = rng.uniform() * total;
  for (int j = 0; j < keep; ++j) {
    u -= probs[j];
    if (u < 0) return scratch[j].second;
  }
  return scratch[keep - 1].second;
}

}  // namespace

LlamaModel::KvCache& LlamaModel::kv_cache(int slots, int max_len) {
  if (!cache_) cache_ = std::make_unique<KvCache>();
  cache_->reshape(config_.num_layers, slots, max_len, config_.num_kv_heads * config_.head_dim);
  return *cache_;
}

const uint16_t* LlamaModel::params_bf16() {
  if (params_bf16_version_ != weights_version_ || params_bf16_.size() != params_.size()) {
    params_bf16_.resize(params_.size());
    floats_to_bf16(params_.data(), params_bf16_.data(), int64_t(params_.size()), pool_.get());
    params_bf16_version_ = weights_version_;
  }
  return params_bf16_.data();
}

const LlamaModel::Int8Weights& LlamaModel::params_int8() {
  Int8Weights& q = params_int8_;
  if (q.version == weights_version_ && q.values.size() == params_.size()) return q;
  q.values.resize(params_.size());  // every matrix entry is overwritten below
  q.scales.clear();
  q.scales_of.clear();
  auto quantize = [&](size_t offset, int rows, int cols) {
    if (q.scales_of.count(offset)) return;  // a tied head is the embedding, quantized once
    q.scales_of[offset] = q.scales.size();
    q.scales.resize(q.scales.size() + size_t(rows));
    quantize_rows_int8(params_.data() + offset, rows, cols, cols, q.values.data() + offset, cols,
                       q.scales.data() + q.scales_of[offset], pool_.get());
  };
  for (const Layer& layer : layers_)
    for (const Linear& lin : layer.proj) quantize(lin.w, lin.out_dim, lin.in_dim);
  quantize(lm_head_, config_.vocab_size, config_.hidden_size);
  q.version = weights_version_;
  return q;
}

void LlamaModel::forward_cached(KvCache& cache, const int32_t* tokens, const int32_t* slots,
                                const int32_t* positions, int M, const std::vector<int>& logit_rows,
                                float* logits_out, DecodeWeights weights) {
  const LlamaConfig& c = config_;
  const int C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim, group = H / KV;
  const int qd = H * hd, kvd = KV * hd;
  const float scale = 1.f / std::sqrt(float(hd));
  ThreadPool* pool = pool_.get();
  const float* P = params_.data();
  if (!infer_) infer_ = std::make_unique<InferenceBuffers>();
  InferenceBuffers& b = *infer_;
  b.ensure(M, c, lora_rank_);
  const uint16_t* W16 = weights == DecodeWeights::Bf16 ? params_bf16() : nullptr;
  const Int8Weights* W8 = weights == DecodeWeights::Int8 ? &params_int8() : nullptr;
  // y (+)= x W^T for a weight at `offset` in params_, from the bf16 or int8 copy when asked.
  auto multiply = [&](float* y, const float* x, size_t offset, int rows, int in_dim, int out_dim, float beta) {
    if (W16)
      gemm_nt_bf16w(rows, out_dim, in_dim, x, in_dim, W16 + offset, in_dim, y, out_dim, beta, pool);
    else
      gemm_nt_int8w(rows, out_dim, in_dim, x, in_dim, W8->values.data() + offset, in_dim,
                    W8->scales.data() + W8->scales_of.at(offset), y, out_dim, beta, pool);
  };
  // y (+)= x W^T (+ bias): from a decode copy when asked and the projection has no adapter.
  auto project = [&](float* y, const float* x, const Layer& layer, int p, int in_dim, int out_dim,
                     bool accumulate) {
    const Linear& lin = layer.proj[p];
    if ((!W16 && !W8) || lin.lora_a != SIZE_MAX)
      return linear_forward(y, b.lora_mid.data(), x, weights_of(layer, p), M, in_dim, out_dim, pool, accumulate);
    multiply(y, x, lin.w, M, in_dim, out_dim, accumulate ? 1.f : 0.f);
    if (lin.b != SIZE_MAX)
      for (int m = 0; m < M; ++m)
        for (int j = 0; j < out_dim; ++j) y[size_t(m) * out_dim + j] += P[lin.b + j];
  };

  // Decode steps (few rows) multiply one activation block by q, k and v, and by gate and up.
  // Where those weights lie back to back (no biases, no adapters; int8 scales consecutive too),
  // one product over the stacked matrix saves the pool dispatches and A packings of the others,
  // which at these sizes cost as much as the arithmetic.
  auto stacked = [&](const Layer& layer, int first, int count) {
    if (M > kStackedRows) return false;
    for (int p = first; p < first + count; ++p) {
      const Linear& lin = layer.proj[p];
      if (lin.lora_a != SIZE_MAX || lin.b != SIZE_MAX) return false;
      if (p == first) continue;
      const Linear& prev = layer.proj[p - 1];
      if (lin.in_dim != prev.in_dim || lin.w != prev.w + size_t(prev.out_dim) * prev.in_dim) return false;
      if (W8 && W8->scales_of.at(lin.w) != W8->scales_of.at(prev.w) + size_t(prev.out_dim)) return false;
    }
    return true;
  };
  // y = x W^T for `out_dim` rows of weights starting at `offset`, from the copy in use.
  auto multiply_rows = [&](float* y, const float* x, size_t offset, int in_dim, int out_dim) {
    if (W16 || W8) multiply(y, x, offset, M, in_dim, out_dim, 0.f);
    else sgemm_nt(M, out_dim, in_dim, x, in_dim, P + offset, in_dim, y, out_dim, 0.f, pool, precision_);
  };

  embedding_forward(b.x.data(), tokens, P + embed_, M, C);
  for (int l = 0; l < c.num_layers; ++l) {
    const Layer& layer = layers_[l];
    rmsnorm_forward(b.ln.data(), b.rstd.data(), b.x.data(), P + layer.ln1, M, C, c.rms_norm_eps, pool);
    if (stacked(layer, kQ, 3)) {
      const int width = qd + 2 * kvd;
      multiply_rows(b.qkv.data(), b.ln.data(), layer.proj[kQ].w, C, width);
      for (int m = 0; m < M; ++m) {
        const float* row = b.qkv.data() + size_t(m) * width;
        std::memcpy(b.q.data() + size_t(m) * qd, row, sizeof(float) * qd);
        std::memcpy(b.k.data() + size_t(m) * kvd, row + qd, sizeof(float) * kvd);
        std::memcpy(b.v.data() + size_t(m) * kvd, row + qd + kvd, sizeof(float) * kvd);
      }
    } else {
      project(b.q.data(), b.ln.data(), layer, kQ, C, qd, false);
      project(b.k.data(), b.ln.data(), layer, kK, C, kvd, false);
      project(b.v.data(), b.ln.data(), layer, kV, C, kvd, false);
    }
    rope_forward(b.q.data(), positions, M, H, rope_);
    rope_forward(b.k.data(), positions, M, KV, rope_);
    // All keys/values of this call are written before any row attends, so a prefill of several
    // positions of one slot is causal by the `pos + 1` bound below.
    for (int m = 0; m < M; ++m) {
      const size_t at = cache.at(l, slots[m], positions[m]);
      std::memcpy(cache.k.data() + at, b.k.data() + size_t(m) * kvd, sizeof(float) * kvd);
      std::memcpy(cache.v.data() + at, b.v.data() + size_t(m) * kvd, sizeof(float) * kvd);
    }
    pool->parallel_for(0, int64_t(M) * KV, 1, [&](int64_t i0, int64_t i1) {
      std::vector<float> scores;
      for (int64_t i = i0; i < i1; ++i) {
        const int m = int(i / KV), kvh = int(i % KV);
        const int len = positions[m] + 1;
        const float* keys = cache.k.data() + cache.at(l, slots[m], 0) + kvh * hd;
        const float* values = cache.v.data() + cache.at(l, slots[m], 0) + kvh * hd;
        const float* q = b.q.data() + size_t(m) * qd + size_t(kvh) * group * hd;  // (group, hd)
        scores.resize(size_t(group) * len);
        sgemm_nt(group, len, hd, q, hd, keys, kvd, scores.data(), len, 0.f, nullptr);
        for (int g = 0; g < group; ++g) softmax_scaled(scores.data() + size_t(g) * len, len, scale);
        sgemm_nn(group, hd, len, scores.data(), len, values, kvd,
                 b.atty.data() + size_t(m) * qd + size_t(kvh) * group * hd, hd, 0.f, nullptr);
      }
    });
    project(b.x.data(), b.atty.data(), layer, kO, qd, C, true);
    rmsnorm_forward(b.ln.data(), b.rstd.data(), b.x.data(), P + layer.ln2, M, C, c.rms_norm_eps, pool);
    if (stacked(layer, kGate, 2)) {
      multiply_rows(b.gate_up.data(), b.ln.data(), layer.proj[kGate].w, C, 2 * F);
      const float* gate_up = b.gate_up.data();
      pool->parallel_for(0, M, std::max(1, (1 << 14) / F), [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m)
          swiglu_forward(b.h.data() + m * F, gate_up + m * 2 * F, gate_up + m * 2 * F + F, F, nullptr);
      });
    } else {
      project(b.gate.data(), b.ln.data(), layer, kGate, C, F, false);
      project(b.up.data(), b.ln.data(), layer, kUp, C, F, false);
      swiglu_forward(b.h.data(), b.gate.data(), b.up.data(), int64_t(M) * F, pool);
    }
    project(b.x.data(), b.h.data(), layer, kDown, F, C, true);
  }
  // Final norm and LM head only for the rows whose next-token distribution is wanted.
  const int R = int(logit_rows.size());
  for (int r = 0; r < R; ++r)
    std::memcpy(b.ln.data() + size_t(r) * C, b.x.data() + size_t(logit_rows[r]) * C, sizeof(float) * C);
  rmsnorm_forward(b.tmp.data(), b.rstd.data(), b.ln.data(), P + final_norm_, R, C, c.rms_norm_eps, pool);
  if (W16 || W8) multiply(logits_out, b.tmp.data(), lm_head_, R, C, V, 0.f);
  else sgemm_nt(R, V, C, b.tmp.data(), C, P + lm_head_, C, logits_out, V, 0.f, pool, precision_);
}

std::vector<float> LlamaModel::logits(const int32_t* tokens, int B, int T) {
  check_logits_batch(config_, tokens, B, T);
  const int V = config_.vocab_size;
  std::vector<float> out(size_t(B) * T * V);
  // Whole rows per packed call, at most kMaxPackedRows tokens (one row always fits).
  const int rows_per_call = std::max(1, kMaxPackedRows / T);
  for (int b0 = 0; b0 < B; b0 += rows_per_call) {
    const int nb = std::min(rows_per_call, B - b0);
    KvCache& cache = kv_cache(nb, T);
    std::vector<int32_t> slots(size_t(nb) * T), positions(slots.size());
    std::vector<int> rows(slots.size());
    for (int i = 0; i < nb * T; ++i) {
      slots[i] = i / T;
      positions[i] = i % T;
      rows[i] = i;
    }
    forward_cached(cache, tokens + size_t(b0) * T, slots.data(), positions.data(), nb * T, rows,
                   out.data() + size_t(b0) * T * V);
  }
  return out;
}

std::vector<std::vector<float>> LlamaModel::score(const std::vector<std::vector<int32_t>>& sequences) {
  const int V = config_.vocab_size;
  std::vector<std::vector<float>> out(sequences.size());
  check_score_sequences(config_, sequences);
  size_t i = 0;
  while (i < sequences.size()) {
    int rows = 0, max_len = 0;
    const size_t j = pack_sequences(sequences, i, kMaxPackedRows, &rows, &max_len);
    KvCache& cache = kv_cache(int(j - i), max_len);
    std::vector<int32_t> tokens, slots, positions;
    std::vector<int> logit_rows;
    for (size_t s = i; s < j; ++s)
      for (size_t t = 0; t < sequences[s].size(); ++t) {
        logit_rows.push_back(int(tokens.size()));
        tokens.push_back(sequences[s][t]);
        slots.push_back(int32_t(s - i));
        positions.push_back(int32_t(t));
      }
    std::vector<float> logits(size_t(rows) * V);
    forward_cached(cache, tokens.data(), slots.data(), positions.data(), rows, logit_rows, logits.data());
    int row = 0;
    for (size_t s = i; s < j; ++s) {
      const auto& seq = sequences[s];
      std::vector<float>& lp = out[s];
      lp.assign(seq.size(), std::numeric_limits<float>::quiet_NaN());
      for (size_t t = 1; t < seq.size(); ++t)
        lp[t] = log_prob_of(logits.data() + size_t(row + t - 1) * V, V, seq[t]);
      row += int(seq.size());
    }
    i = j;
  }
  return out;
}

std::vector<GenerationResult> LlamaModel::generate(const std::vector<std::vector<int32_t>>& prompts,
                                                   const SampleSpec& spec) {
  const LlamaConfig& c = config_;
  const int V = c.vocab_size, n = spec.num_samples, P = int(prompts.size());
  const int max_len = check_generation(c, prompts, spec);
  if (P == 0) return {};
  const int slots = P * n;
  KvCache& cache = kv_cache(slots, max_len);

  // Prefill: each prompt once, into the slot of its sample 0, packed into few forwards.
  std::vector<float> prompt_logits(size_t(P) * V);
  for (int p0 = 0; p0 < P;) {
    std::vector<int32_t> tokens, slot_ids, positions;
    std::vector<int> logit_rows;
    int p1 = p0;
    while (p1 < P && (p1 == p0 || int(tokens.size() + prompts[p1].size()) <= kMaxPackedRows)) {
      for (size_t t = 0; t < prompts[p1].size(); ++t) {
        tokens.push_back(prompts[p1][t]);
        slot_ids.push_back(p1 * n);
        positions.push_back(int32_t(t));
      }
      logit_rows.push_back(int(tokens.size()) - 1);
      ++p1;
    }
    forward_cached(cache, tokens.data(), slot_ids.data(), positions.data(), int(tokens.size()), logit_rows,
                   prompt_logits.data() + size_t(p0) * V);
    p0 = p1;
  }
  // The other samples of a prompt share its prefill: copy the cached prefix.
  for (int l = 0; l < c.num_layers; ++l)
    for (int p = 0; p < P; ++p)
      for (int j = 1; j < n; ++j) {
        const size_t len = prompts[p].size() * size_t(cache.kv_dim);
        std::memcpy(cache.k.data() + cache.at(l, p * n + j, 0), cache.k.data() + cache.at(l, p * n, 0), sizeof(float) * len);
        std::memcpy(cache.v.data() + cache.at(l, p * n + j, 0), cache.v.data() + cache.at(l, p * n, 0), sizeof(float) * len);
      }

  std::vector<GenerationResult> results(slots);
  std::vector<Rng> rngs;
  rngs.reserve(slots);
  for (int s = 0; s < slots; ++s) {
    results[s].prompt_index = s / n;
    results[s].sample_index = s % n;
    rngs.emplace_back(hash_seed(spec.seed, uint64_t(s / n), uint64_t(s % n)));
  }
  auto is_stop = [&](int32_t t) {
    return std::find(spec.stop_tokens.begin(), spec.stop_tokens.end(), t) != spec.stop_tokens.end();
  };
  // Samples one token for each listed slot from its logits row; rows are independent (own RNG).
  auto sample_rows = [&](const std::vector<int>& rows, const float* logits, bool shared_prompt_rows) {
    pool_->parallel_for(0, int64_t(rows.size()), 1, [&](int64_t i0, int64_t i1) {
      std::vector<std::pair<float, int>> scratch;
      for (int64_t i = i0; i < i1; ++i) {
        const int s = rows[i];
        const float* row = shared_prompt_rows ? logits + size_t(s / n) * V : logits + size_t(i) * V;
        const int token = sample_token(row, V, spec, rngs[s], scratch);
        results[s].tokens.push_back(token);
        results[s].logprobs.push_back(log_prob_of(row, V, token));
        if (is_stop(token)) results[s].stopped = true;
      }
    });
  };
  std::vector<int> active(slots);
  for (int s = 0; s < slots; ++s) active[s] = s;
  sample_rows(active, prompt_logits.data(), true);

  std::vector<float> step_logits;
  std::vector<int32_t> tokens, slot_ids, positions;
  std::vector<int> logit_rows;
  for (;;) {
    active.erase(std::remove_if(active.begin(), active.end(),
                                [&](int s) {
                                  return results[s].stopped ||
                                         int(results[s].tokens.size()) >= spec.max_new_tokens;
                                }),
                 active.end());
    if (active.empty()) break;
    const int M = int(active.size());
    tokens.resize(M), slot_ids.resize(M), positions.resize(M), logit_rows.resize(M);
    for (int i = 0; i < M; ++i) {
      const GenerationResult& r = results[active[i]];
      tokens[i] = r.tokens.back();
      slot_ids[i] = active[i];
      positions[i] = int32_t(prompts[r.prompt_index].size() + r.tokens.size() - 1);
      logit_rows[i] = i;
    }
    step_logits.resize(size_t(M) * V);
    // Decode steps stream every weight per token: the bf16 / int8 copies halve / quarter those
    // bytes where the weights, not the arithmetic, bound the step (the dot kernels' few rows).
    // Beyond that the float32 packed-A kernel is faster than widening a copy (docs/BENCHMARKS.md).
    forward_cached(cache, tokens.data(), slot_ids.data(), positions.data(), M, logit_rows, step_logits.data(),
                   M <= kWeightBoundRows ? spec.weights : DecodeWeights::Fp32);
    sample_rows(active, step_logits.data(), false);
  }
  return results;
}

}  // namespace siked
