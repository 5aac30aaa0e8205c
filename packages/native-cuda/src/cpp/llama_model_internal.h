// Private layouts of LlamaModel shared by llama_model.cpp and llama_generate.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "llama_model.h"

namespace siked {

// Every training activation for one (B, T), in one slab; the layout is computed by a first pass
// that only counts, then the same pass hands out pointers. The slab only grows: batches of other
// shapes (length-bucketed or packed rows change T every micro-batch) reuse it, carved anew,
// instead of allocating and zeroing hundreds of megabytes each time.
struct LlamaModel::Activations {
  struct Layer {
    float *ln1, *rstd1;              // (N, C), (N)
    float *q, *k, *v;                // (N, H*hd), (N, KV*hd) x2, after rotary embedding
    float* probs;                    // (B, H, T, T) attention probabilities
    float* atty;                     // (N, H*hd) attention output before o_proj
    float* resid_mid;                // (N, C) residual stream after attention
    float *ln2, *rstd2;              // (N, C), (N)
    float *gate, *up, *h;            // (N, F) each; h = silu(gate) * up
    float* lora_mid[kProjectionCount];  // (N, r) scale * x A^T, or null without that adapter
  };
  int B = 0, T = 0, lora_rank = 0;
  std::vector<float> slab;
  std::vector<Layer> layers;
  std::vector<float*> resid;         // L+1 residual streams (N, C); resid[0] = embeddings
  float *lnf = nullptr, *rstdf = nullptr;  // (N, C), (N)
  // The LM head runs on the rows that have a next-token target only (prompt tokens masked out of
  // the loss need no logits): head_rows (up to N, C) holds those rows of lnf, then their d(lnf);
  // logits (up to N, V) their logits, then d(loss)/d(logits).
  float *head_rows = nullptr, *logits = nullptr;
  std::vector<int32_t> target_rows;  // indices n of the rows with targets[n] >= 0
  // Backward scratch, reused by every layer.
  float *dresid, *dln, *dq, *dk, *dv, *datty, *dgate, *dup, *dh, *lora_scratch;
  std::vector<int32_t> positions, targets;  // (N)
  bool packed = false;                      // positions are packed documents (set by forward_train)

  Activations(const LlamaModel& model, int B_, int T_) { reshape(model, B_, T_); }

  void reshape(const LlamaModel& model, int B_, int T_) {
    B = B_, T = T_, lora_rank = model.lora_rank_;
    const LlamaConfig& c = model.config_;
    const int64_t N = int64_t(B) * T, C = c.hidden_size, F = c.intermediate_size;
    const int64_t qd = int64_t(c.num_heads) * c.head_dim, kvd = int64_t(c.num_kv_heads) * c.head_dim;
    layers.resize(c.num_layers);
    resid.resize(c.num_layers + 1);
    positions.resize(N);
    targets.resize(N);
    target_rows.reserve(N);
    for (int pass = 0; pass < 2; ++pass) {
      size_t used = 0;
      float* base = pass == 0 ? nullptr : slab.data();
      auto take = [&](int64_t n) {
        float* p = base ? base + used : nullptr;
        used += size_t(n);
        return p;
      };
      for (int l = 0; l <= c.num_layers; ++l) resid[l] = take(N * C);
      for (int l = 0; l < c.num_layers; ++l) {
        Layer& x = layers[l];
        x.ln1 = take(N * C);
        x.rstd1 = take(N);
        x.q = take(N * qd);
        x.k = take(N * kvd);
        x.v = take(N * kvd);
        x.probs = take(int64_t(B) * c.num_heads * T * T);
        x.atty = take(N * qd);
        x.resid_mid = take(N * C);
        x.ln2 = take(N * C);
        x.rstd2 = take(N);
        x.gate = take(N * F);
        x.up = take(N * F);
        x.h = take(N * F);
        for (int p = 0; p < kProjectionCount; ++p)
          x.lora_mid[p] = model.layers_[l].proj[p].lora_a != SIZE_MAX ? take(N * lora_rank) : nullptr;
      }
      lnf = take(N * C);
      rstdf = take(N);
      head_rows = take(N * C);
      logits = take(N * c.vocab_size);
      dresid = take(N * C);
      dln = take(N * C);
      dq = take(N * qd);
      dk = take(N * kvd);
      dv = take(N * kvd);
      datty = take(N * qd);
      dgate = take(N * F);
      dup = take(N * F);
      dh = take(N * F);
      lora_scratch = take(N * std::max(1, lora_rank));
      if (pass == 0 && used > slab.size()) {
        slab.clear();
        slab.shrink_to_fit();  // free the old slab before the bigger one is allocated
        slab.resize(used);
      }
    }
  }
};

// Keys and values of every layer for `slots` sequences of up to max_len positions. Reshaping
// keeps the allocation when it is big enough: every position is written before it is read, so
// stale contents never leak, and repeated generate() calls do not page-fault fresh memory.
struct LlamaModel::KvCache {
  int layers = 0, slots = 0, max_len = 0, kv_dim = 0;
  std::vector<float> k, v;  // (L, slots, max_len, KV*hd), capacity may exceed the shape
  void reshape(int layers_, int slots_, int max_len_, int kv_dim_) {
    layers = layers_, slots = slots_, max_len = max_len_, kv_dim = kv_dim_;
    const size_t n = size_t(layers) * slots * max_len * kv_dim;
    if (k.size() < n) {
      k.resize(n);
      v.resize(n);
    }
  }
  size_t at(int layer, int slot, int pos) const {
    return ((size_t(layer) * slots + slot) * max_len + pos) * kv_dim;
  }
};

// Buffers of one packed forward, grown to the largest row count seen and then reused, so decode
// steps allocate nothing.
struct LlamaModel::InferenceBuffers {
  // qkv / gate_up: the stacked projections' outputs of decode steps (forward_cached).
  std::vector<float> x, ln, rstd, q, k, v, atty, tmp, gate, up, h, lora_mid, qkv, gate_up;
  void ensure(int64_t M, const LlamaConfig& c, int rank) {
    const int64_t C = c.hidden_size, F = c.intermediate_size;
    const int64_t qd = int64_t(c.num_heads) * c.head_dim, kvd = int64_t(c.num_kv_heads) * c.head_dim;
    auto grow = [](std::vector<float>& b, int64_t n) {
      if (int64_t(b.size()) < n) b.resize(size_t(n));
    };
    grow(x, M * C), grow(ln, M * C), grow(rstd, M), grow(q, M * qd), grow(k, M * kvd);
    grow(v, M * kvd), grow(atty, M * qd), grow(tmp, M * C), grow(gate, M * F), grow(up, M * F);
    grow(h, M * F), grow(lora_mid, M * std::max(rank, 1)), grow(qkv, M * (qd + 2 * kvd));
    grow(gate_up, M * 2 * F);
  }
};

}  // namespace siked
