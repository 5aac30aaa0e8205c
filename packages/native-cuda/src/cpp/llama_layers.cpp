#include "llama_layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "vector_math.h"

namespace siked {

namespace {
// Runs fn over [0, n) on the pool (or inline without one); grain in items.
template <typename Fn>
void parallel(int64_t n, int64_t grain, ThreadPool* pool, Fn&& fn) {
  if (pool) pool->parallel_for(0, n, grain, [&](int64_t a, int64_t b) { fn(a, b); });
  else fn(0, n);
}
int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, work_per_item));
}
}  // namespace

void rope_table_fill(float* cos, float* sin, int max_pos, int head_dim, double theta) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    // Same inverse frequency as HF: 1 / theta^(2i/hd).
    const double inv_freq = 1.0 / std::pow(theta, double(2 * i) / head_dim);
    for (int p = 0; p < max_pos; ++p) {
      const double angle = double(p) * inv_freq;
      cos[int64_t(p) * half + i] = float(std::cos(angle));
      sin[int64_t(p) * half + i] = float(std::sin(angle));
    }
  }
}

void embedding_forward(float* out, const int32_t* tokens, const float* table, int N, int C) {
  for (int n = 0; n < N; ++n)
    std::memcpy(out + int64_t(n) * C, table + int64_t(tokens[n]) * C, sizeof(float) * C);
}

void embedding_backward(float* dtable, const float* dout, const int32_t* tokens, int N, int C) {
  for (int n = 0; n < N; ++n) {
    float* row = dtable + int64_t(tokens[n]) * C;
    const float* d = dout + int64_t(n) * C;
    for (int c = 0; c < C; ++c) row[c] += d[c];
  }
}

void rmsnorm_forward(float* out, float* rstd, const float* x, const float* w, int N, int C, float eps,
                     ThreadPool* pool) {
  parallel(N, grain_for(C), pool, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;
      float ss = 0.f;
      for (int c = 0; c < C; ++c) ss += xr[c] * xr[c];
      const float r = 1.f / std::sqrt(ss / C + eps);
      rstd[n] = r;
      float* o = out + n * C;
      for (int c = 0; c < C; ++c) o[c] = xr[c] * r * w[c];
    }
  });
}

void rmsnorm_backward(float* dx, float* dw, const float* dout, const float* x, const float* w,
                      const float* rstd, int N, int C, ThreadPool* pool) {
  // dx = r * (w*dy) - x * r^3 / C * sum(w*dy*x)
  parallel(N, grain_for(C), pool, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;
      const float* dy = dout + n * C;
      const float r = rstd[n];
      float dot = 0.f;
      for (int c = 0; c < C; ++c) dot += w[c] * dy[c] * xr[c];
      const float k = dot * r * r * r / C;
      float* dxr = dx + n * C;
      for (int c = 0; c < C; ++c) dxr[c] += r * w[c] * dy[c] - k * xr[c];
    }
  });
  if (dw) {
    // Reduce over rows per column chunk so threads never write the same dw entry.
    parallel(C, 64, pool, [&](int64_t c0, int64_t c1) {
      for (int64_t n = 0; n < N; ++n) {
        const float* xr = x + n * C;
        const float* dy = dout + n * C;
        const float r = rstd[n];
        for (int64_t c = c0; c < c1; ++c) dw[c] += dy[c] * xr[c] * r;
      }
    });
  }
}

void rope_forward(float* x, const int32_t* positions, int N, int heads, const RopeTable& rope) {
  const int hd = rope.head_dim, half = hd / 2;
  for (int n = 0; n < N; ++n) {
    const float* cs = rope.cos + int64_t(positions[n]) * half;
    const float* sn = rope.sin + int64_t(positions[n]) * half;
    for (int h = 0; h < heads; ++h) {
      float* v = x + (int64_t(n) * heads + h) * hd;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * cs[i] - b * sn[i];
        v[i + half] = b * cs[i] + a * sn[i];
      }
    }
  }
}

void rope_backward(float* dx, const int32_t* positions, int N, int heads, const RopeTable& rope) {
  const int hd = rope.head_dim, half = hd / 2;
  for (int n = 0; n < N; ++n) {
    const float* cs = rope.cos + int64_t(positions[n]) * half;
    const float* sn = rope.sin + int64_t(positions[n]) * half;
    for (int h = 0; h < heads; ++h) {
      float* v = dx + (int64_t(n) * heads + h) * hd;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * cs[i] + b * sn[i];
        v[i + half] = b * cs[i] - a * sn[i];
      }
    }
  }
}

void linear_forward(float* out, float* lora_mid, const float* x, const LinearWeights& p, int N,
                    int in_dim, int out_dim, ThreadPool* pool, bool accumulate) {
  sgemm_nt(N, out_dim, in_dim, x, in_dim, p.w, in_dim, out, out_dim, accumulate ? 1.f : 0.f, pool, p.precision);
  if (p.b) {
    for (int n = 0; n < N; ++n) {
      float* o = out + int64_t(n) * out_dim;
      for (int j = 0; j < out_dim; ++j) o[j] += p.b[j];
    }
  }
  if (p.lora_a) {
    const int r = p.rank;
    sgemm_nt(N, r, in_dim, x, in_dim, p.lora_a, in_dim, lora_mid, r, 0.f, pool, p.precision);
    for (int64_t i = 0; i < int64_t(N) * r; ++i) lora_mid[i] *= p.lora_scale;
    sgemm_nt(N, out_dim, r, lora_mid, r, p.lora_b, r, out, out_dim, 1.f, pool, p.precision);
  }
}

void linear_backward(float* dx, bool accumulate, const LinearGrads& g, const float* dout,
                     const float* x, const float* lora_mid, const LinearWeights& p, float* scratch,
                     int N, int in_dim, int out_dim, ThreadPool* pool) {
  if (g.dw) sgemm_tn(out_dim, in_dim, N, dout, out_dim, x, in_dim, g.dw, in_dim, 1.f, pool, p.precision);
  if (g.db) {
    for (int n = 0; n < N; ++n) {
      const float* d = dout + int64_t(n) * out_dim;
      for (int j = 0; j < out_dim; ++j) g.db[j] += d[j];
    }
  }
  if (dx) sgemm_nn(N, in_dim, out_dim, dout, out_dim, p.w, in_dim, dx, in_dim, accumulate ? 1.f : 0.f, pool, p.precision);
  if (p.lora_a) {
    const int r = p.rank;
    // lora_mid = scale * x A^T, so dB += dout^T lora_mid and d(x A^T) = scale * dout B.
    sgemm_tn(out_dim, r, N, dout, out_dim, lora_mid, r, g.dlora_b, r, 1.f, pool, p.precision);
    sgemm_nn(N, r, out_dim, dout, out_dim, p.lora_b, r, scratch, r, 0.f, pool, p.precision);
    for (int64_t i = 0; i < int64_t(N) * r; ++i) scratch[i] *= p.lora_scale;
    sgemm_tn(r, in_dim, N, scratch, r, x, in_dim, g.dlora_a, in_dim, 1.f, pool, p.precision);
    if (dx) sgemm_nn(N, in_dim, r, scratch, r, p.lora_a, in_dim, dx, in_dim, 1.f, pool, p.precision);
  }
}

namespace {
// Causal attention works on blocks of query rows: rows [t0, t1) only see keys [0, t1), so the
// GEMMs skip the (masked) upper triangle of the L x L scores, about half the attention FLOPs.
constexpr int kAttentionRowBlock = 64;

// Calls fn(start, length) for each document of row b: the whole row without positions, else
// the spans that start where positions[b, t] == 0 (padding continues the last document).
template <typename Fn>
void for_each_document(const int32_t* positions, int b, int T, Fn&& fn) {
  if (!positions) return fn(0, T);
  const int32_t* row = positions + int64_t(b) * T;
  for (int start = 0; start < T;) {
    int end = start + 1;
    while (end < T && row[end] != 0) ++end;
    fn(start, end - start);
    start = end;
  }
}

// Causal attention of one sequence of L tokens for one head: q/out rows qs apart, k/v rows kvs
// apart, p its (L, L) probabilities (zero above the diagonal within each row block).
void attend(float* out, float* p, const float* q, const float* k, const float* v, int L, int qs, int kvs,
            int hd, float scale) {
  for (int t0 = 0; t0 < L; t0 += kAttentionRowBlock) {
    const int t1 = std::min(L, t0 + kAttentionRowBlock);
    float* pb = p + int64_t(t0) * L;
    sgemm_nt(t1 - t0, t1, hd, q + int64_t(t0) * qs, qs, k, kvs, pb, L, 0.f, nullptr);
    for (int t = t0; t < t1; ++t) {
      float* row = p + int64_t(t) * L;
      softmax_scaled(row, t + 1, scale);
      for (int s = t + 1; s < t1; ++s) row[s] = 0.f;  // keys past t1 are never read
    }
    sgemm_nn(t1 - t0, hd, t1, pb, L, v, kvs, out + int64_t(t0) * qs, qs, 0.f, nullptr);
  }
}

// Backward of attend() for one query head; dk/dv are accumulated into, dq overwritten; dp is
// scratch of kAttentionRowBlock * L floats.
void attend_backward(float* dq, float* dk, float* dv, const float* dout, const float* p, const float* q,
                     const float* k, const float* v, int L, int qs, int kvs, int hd, float scale, float* dp) {
  for (int t0 = 0; t0 < L; t0 += kAttentionRowBlock) {
    const int t1 = std::min(L, t0 + kAttentionRowBlock), rows = t1 - t0;
    const float* pb = p + int64_t(t0) * L;
    const float* dob = dout + int64_t(t0) * qs;
    sgemm_tn(t1, hd, rows, pb, L, dob, qs, dv, kvs, 1.f, nullptr);  // dV += P^T dO
    sgemm_nt(rows, t1, hd, dob, qs, v, kvs, dp, L, 0.f, nullptr);   // dP = dO V^T
    for (int t = t0; t < t1; ++t) {                                  // softmax backward
      float* d = dp + int64_t(t - t0) * L;
      softmax_backward_scaled(d, p + int64_t(t) * L, t + 1, scale);
      for (int s = t + 1; s < t1; ++s) d[s] = 0.f;
    }
    sgemm_nn(rows, hd, t1, dp, L, k, kvs, dq + int64_t(t0) * qs, qs, 0.f, nullptr);  // dQ = dS K
    sgemm_tn(t1, hd, rows, dp, L, q + int64_t(t0) * qs, qs, dk, kvs, 1.f, nullptr);  // dK += dS^T Q
  }
}
}  // namespace

void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       int B, int T, int H, int KV, int hd, ThreadPool* pool, const int32_t* positions) {
  const int group = H / KV;
  const int qs = H * hd, kvs = KV * hd;
  const float scale = 1.f / std::sqrt(float(hd));
  parallel(int64_t(B) * H, 1, pool, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int b = int(i / H), h = int(i % H), kvh = h / group;
      const int64_t row = int64_t(b) * T;
      // The (b, h) slab holds each document's (L, L) probabilities back to back (sum L^2 <= T^2),
      // so packed rows cost what the same documents cost one per row.
      float* p = probs + i * T * T;
      for_each_document(positions, b, T, [&](int start, int L) {
        attend(out + (row + start) * qs + h * hd, p, q + (row + start) * qs + h * hd,
               k + (row + start) * kvs + kvh * hd, v + (row + start) * kvs + kvh * hd, L, qs, kvs, hd, scale);
        p += int64_t(L) * L;
      });
    }
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs,
                        const float* q, const float* k, const float* v, int B, int T, int H, int KV,
                        int hd, ThreadPool* pool, const int32_t* positions) {
  const int group = H / KV;
  const int qs = H * hd, kvs = KV * hd;
  const float scale = 1.f / std::sqrt(float(hd));
  // One task per (sequence, kv head): the query heads sharing that kv head all write its dk/dv.
  parallel(int64_t(B) * KV, 1, pool, [&](int64_t i0, int64_t i1) {
    std::vector<float> dp(size_t(kAttentionRowBlock) * T);
    for (int64_t i = i0; i < i1; ++i) {
      const int b = int(i / KV), kvh = int(i % KV);
      const int64_t row = int64_t(b) * T;
      for (int t = 0; t < T; ++t) {  // accumulated into below
        std::fill(dk + (row + t) * kvs + kvh * hd, dk + (row + t) * kvs + kvh * hd + hd, 0.f);
        std::fill(dv + (row + t) * kvs + kvh * hd, dv + (row + t) * kvs + kvh * hd + hd, 0.f);
      }
      for (int g = 0; g < group; ++g) {
        const int h = kvh * group + g;
        const float* p = probs + (int64_t(b) * H + h) * T * T;
        for_each_document(positions, b, T, [&](int start, int L) {
          const int64_t at = row + start;
          attend_backward(dq + at * qs + h * hd, dk + at * kvs + kvh * hd, dv + at * kvs + kvh * hd,
                          dout + at * qs + h * hd, p, q + at * qs + h * hd, k + at * kvs + kvh * hd,
                          v + at * kvs + kvh * hd, L, qs, kvs, hd, scale, dp.data());
          p += int64_t(L) * L;
        });
      }
    }
  });
}

void swiglu_forward(float* h, const float* gate, const float* up, int64_t n, ThreadPool* pool) {
  parallel(n, 1 << 14, pool, [&](int64_t a, int64_t b) { swiglu_row(h + a, gate + a, up + a, b - a); });
}

void swiglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                     int64_t n, ThreadPool* pool) {
  parallel(n, 1 << 14, pool, [&](int64_t a, int64_t b) {
    swiglu_backward_row(dgate + a, dup + a, dh + a, gate + a, up + a, b - a);
  });
}

double crossentropy_forward_backward(float* logits, const int32_t* targets, int N, int V,
                                     bool with_grad, ThreadPool* pool) {
  std::vector<double> row_loss(N, 0.0);
  parallel(N, grain_for(V), pool, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* row = logits + n * V;
      if (targets[n] < 0) {
        if (with_grad) std::memset(row, 0, sizeof(float) * V);
        continue;
      }
      row_loss[n] = cross_entropy_row(row, V, targets[n], with_grad);
    }
  });
  double total = 0.0;
  for (double l : row_loss) total += l;
  return total;
}

}  // namespace siked
