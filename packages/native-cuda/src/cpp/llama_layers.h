// The layers of a Llama-family decoder as pairs of plain functions over flat row-major buffers
// (llm.c style): outputs first, sizes explicit, gradients prefixed with `d`. Every backward
// ACCUMULATES (+=) into parameter gradients, so micro-batches add up without extra copies.
// N = rows (tokens), C = hidden size, F = SwiGLU width, V = vocabulary, hd = head dim.
#pragma once

#include <cstdint>

#include "gemm.h"
#include "thread_pool.h"

namespace siked {

// Rotary-embedding tables for positions [0, max_pos): cos/sin of pos * theta^(-2i/hd), i < hd/2.
struct RopeTable {
  int head_dim = 0, max_pos = 0;
  float* cos = nullptr;  // (max_pos, hd/2)
  float* sin = nullptr;  // (max_pos, hd/2)
};
void rope_table_fill(float* cos, float* sin, int max_pos, int head_dim, double theta);

// out = x[tokens]  (N, C)
void embedding_forward(float* out, const int32_t* tokens, const float* table, int N, int C);
// dtable[tokens[n]] += dout[n]  (serial in n: duplicate tokens write the same row)
void embedding_backward(float* dtable, const float* dout, const int32_t* tokens, int N, int C);

// out = x * rsqrt(mean(x^2) + eps) * w; rstd (N) kept for backward.
void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, int N, int C, float eps,
                     ThreadPool* pool);
// dx += ..., dw += ... (dw may be null when the weight is frozen)
void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w,
                      const float* rstd, int N, int C, ThreadPool* pool);

// In-place rotation of `heads` heads of size hd in each of N rows (row stride = heads*hd), HF's
// rotate_half convention (pairs i and i + hd/2). positions: (N) absolute positions.
void rope_forward(float* x, const int32_t* positions, int N, int heads, const RopeTable& rope);
// The transpose rotation (inverse), applied in place to a gradient.
void rope_backward(float* dx, const int32_t* positions, int N, int heads, const RopeTable& rope);

// y = x W^T + b + (x A^T * scale) B^T. W (out, in); b (out) or null; A (r, in), B (out, r) or null
// (LoRA off). lora_mid (N, r) receives (x A^T) * scale for backward.
struct LinearWeights {
  const float* w = nullptr;
  const float* b = nullptr;
  const float* lora_a = nullptr;
  const float* lora_b = nullptr;
  float lora_scale = 0.f;
  int rank = 0;
  MatmulPrecision precision = MatmulPrecision::Fp32;  // of every GEMM of the layer, both passes
};
struct LinearGrads {
  float* dw = nullptr;  // null: frozen
  float* db = nullptr;
  float* dlora_a = nullptr;
  float* dlora_b = nullptr;
};
// accumulate: out += y (the residual add fused into the GEMM's beta) instead of out = y.
void linear_forward(float* out, float* lora_mid, const float* x, const LinearWeights& p, int N,
                    int in_dim, int out_dim, ThreadPool* pool, bool accumulate = false);
// dx = (accumulate ? dx : 0) + dout W (+ LoRA path); scratch holds N*rank floats.
void linear_backward(float* dx, bool accumulate, const LinearGrads& g, const float* dout,
                     const float* x, const float* lora_mid, const LinearWeights& p, float* scratch,
                     int N, int in_dim, int out_dim, ThreadPool* pool);

// Causal grouped-query attention over B sequences of length T. q (B*T, H*hd), k/v (B*T, KV*hd),
// probs (B, H, T, T) kept for backward, out (B*T, H*hd). With packed positions (B*T, see
// ModelBackend::accumulate) each document of a row is attended on its own (keys t - positions[t]
// .. t only), its probabilities stored densely, so packing costs no extra attention work.
void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       int B, int T, int H, int KV, int hd, ThreadPool* pool,
                       const int32_t* positions = nullptr);
// dq, dk, dv are overwritten.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs,
                        const float* q, const float* k, const float* v, int B, int T, int H, int KV,
                        int hd, ThreadPool* pool, const int32_t* positions = nullptr);

// h = silu(gate) * up   (N, F)
void swiglu_forward(float* h, const float* gate, const float* up, int64_t n, ThreadPool* pool);
void swiglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                     int64_t n, ThreadPool* pool);

// Summed cross-entropy of logits (N, V) against targets (N; -1 = not trained on). Overwrites
// logits with d(sum loss)/d(logits) when `with_grad`. Returns the summed loss (natural log).
double crossentropy_forward_backward(float* logits, const int32_t* targets, int N, int V,
                                     bool with_grad, ThreadPool* pool);

}  // namespace siked
