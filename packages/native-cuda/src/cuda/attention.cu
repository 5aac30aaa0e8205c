// Causal self-attention with grouped-query heads, flash-style: keys/values stream through shared
// memory in tiles of 32 and the softmax is computed online (running max and sum), so no [T,T]
// score matrix ever exists in memory. The forward saves the log-sum-exp of each row; the backward
// recomputes the probabilities from it (FlashAttention-2's scheme) in two atomic-free kernels:
// one owns each dq row, the other each dk/dv row and sums the query heads of its group itself.
//
// This is a SIMT (CUDA-core, fp32 FMA) version: each warp lane owns one key of a tile for the
// scores and d/32 output dimensions for the accumulation. It is the correct reference for a
// tensor-core (mma/wgmma) version, which is the next step for speed (docs/CUDA.md).
//
// Packed rows (sequence packing): with positions given, each row holds documents back to back
// and query t sees keys t - positions[t] .. t only (block-diagonal causal). Every kernel is
// instantiated with kPacked = false too, so the unpacked path is the same code as before. Starts
// of documents never decrease along a row, so key tiles before the document of a block's first
// query are skipped whole (forward, dq), and the dk/dv kernel stops at the first query tile whose
// document starts after the block's last key.
#include <mma.h>

#include <cstdlib>
#include <cstring>

#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;  // query rows (fwd, dq) or key rows (dk/dv)
constexpr int kTile = 32;                            // keys (fwd, dq) or queries (dk/dv) per tile
constexpr int kPad = 2;  // bf16 row padding: row stride of d/2 + 1 words puts lane j in bank j

struct Shape {
  int t, hq, hkv;
  float scale;
  const int32_t* positions;  // [b, t] packed position ids, or nullptr (read only when kPacked)
  __device__ int64_t q_index(int b, int row, int h, int d) const {
    return ((static_cast<int64_t>(b) * t + row) * hq + h) * d;
  }
  __device__ int64_t kv_index(int b, int row, int h, int d) const {
    return ((static_cast<int64_t>(b) * t + row) * hkv + h) * d;
  }
  __device__ int64_t stat_index(int b, int h, int row) const {
    return (static_cast<int64_t>(b) * hq + h) * t + row;
  }
};

// The first key query `row` (< t) of a packed row may see: the start of its document.
__device__ __forceinline__ int document_start(Shape shape, int b, int row) {
  return max(0, row - shape.positions[static_cast<int64_t>(b) * shape.t + row]);
}

// Loads rows [row0, row0 + rows) of one head into shared memory (zeros past the sequence).
template <int D, typename Dst>
__device__ void load_rows(Dst (*dst)[D + kPad], const bf16* src, Shape shape, int b, int row0,
                          int rows, int head, bool kv) {
  for (int idx = threadIdx.x; idx < rows * D; idx += blockDim.x) {
    const int r = idx / D, dd = idx % D, row = row0 + r;
    bf16 value = __float2bfloat16(0.f);
    if (row < shape.t)
      value = src[(kv ? shape.kv_index(b, row, head, D) : shape.q_index(b, row, head, D)) + dd];
    dst[r][dd] = value;
  }
}

template <int D>
__device__ void load_rows_f32(float (*dst)[D], const bf16* src, Shape shape, int b, int row0,
                              int head, bool kv, float multiplier) {
  for (int idx = threadIdx.x; idx < kRowsPerBlock * D; idx += blockDim.x) {
    const int r = idx / D, dd = idx % D, row = row0 + r;
    float value = 0.f;
    if (row < shape.t)
      value = to_float(src[(kv ? shape.kv_index(b, row, head, D) : shape.q_index(b, row, head, D)) + dd]);
    dst[r][dd] = value * multiplier;
  }
}

template <int D, bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    attention_forward_kernel(bf16* __restrict__ out, float* __restrict__ lse,
                             const bf16* __restrict__ q, const bf16* __restrict__ k,
                             const bf16* __restrict__ v, Shape shape) {
  constexpr int E = D / 32;
  __shared__ float q_s[kRowsPerBlock][D];
  __shared__ bf16 k_s[kTile][D + kPad], v_s[kTile][D + kPad];
  const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kRowsPerBlock;
  const int hk = h / (shape.hq / shape.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  load_rows_f32<D>(q_s, q, shape, b, q0, h, false, shape.scale);

  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][E];
  int first[kRowsPerWarp];  // each row's first visible key (packed rows)
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
    const int row = q0 + warp * kRowsPerWarp + r;
    first[r] = kPacked && row < shape.t ? document_start(shape, b, row) : 0;
#pragma unroll
    for (int e = 0; e < E; ++e) acc[r][e] = 0.f;
  }
  const int kv_begin = kPacked ? document_start(shape, b, q0) / kTile * kTile : 0;
  const int kv_end = min(shape.t, q0 + kRowsPerBlock);
  for (int k0 = kv_begin; k0 < kv_end; k0 += kTile) {
    __syncthreads();  // previous tile fully consumed (and q_s written, on the first pass)
    load_rows<D>(k_s, k, shape, b, k0, kTile, hk, true);
    load_rows<D>(v_s, v, shape, b, k0, kTile, hk, true);
    __syncthreads();
    float s[kRowsPerWarp] = {};
#pragma unroll 8
    for (int dd = 0; dd < D; ++dd) {
      const float key_value = to_float(k_s[lane][dd]);
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) s[r] += q_s[warp * kRowsPerWarp + r][dd] * key_value;
    }
    const int key = k0 + lane;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int row = q0 + warp * kRowsPerWarp + r;
      const float score = (key <= row && key < shape.t && (!kPacked || key >= first[r])) ? s[r] : -INFINITY;
      const float m_new = fmaxf(m[r], warp_max(score));
      const float m_safe = m_new == -INFINITY ? 0.f : m_new;  // a row with nothing visible yet
      const float p = __expf(score - m_safe);
      const float correction = __expf(m[r] - m_safe);
      l[r] = l[r] * correction + warp_sum(p);
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < E; ++e) acc[r][e] *= correction;
#pragma unroll 4
      for (int j = 0; j < kTile; ++j) {
        const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
        for (int e = 0; e < E; ++e) acc[r][e] += pj * to_float(v_s[j][lane + 32 * e]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int row = q0 + warp * kRowsPerWarp + r;
    if (row >= shape.t) continue;
    const float inv = 1.f / l[r];
    const int64_t base = shape.q_index(b, row, h, D);
#pragma unroll
    for (int e = 0; e < E; ++e) out[base + lane + 32 * e] = to_bf16(acc[r][e] * inv);
    if (lane == 0) lse[shape.stat_index(b, h, row)] = m[r] + logf(l[r]);
  }
}

// delta[b,h,row] = sum_d dout * out: the softmax-backward term shared by dq and dk.
template <int D>
__global__ void attention_delta_kernel(float* __restrict__ delta, const bf16* __restrict__ dout,
                                       const bf16* __restrict__ out, int b_count, Shape shape) {
  const int64_t row_id = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row_id >= static_cast<int64_t>(b_count) * shape.t * shape.hq) return;
  const int h = static_cast<int>(row_id % shape.hq);
  const int row = static_cast<int>((row_id / shape.hq) % shape.t);
  const int b = static_cast<int>(row_id / (static_cast<int64_t>(shape.hq) * shape.t));
  const int64_t base = shape.q_index(b, row, h, D);
  float sum = 0.f;
  for (int dd = lane; dd < D; dd += 32) sum += to_float(dout[base + dd]) * to_float(out[base + dd]);
  sum = warp_sum(sum);
  if (lane == 0) delta[shape.stat_index(b, h, row)] = sum;
}

template <int D, bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    attention_backward_dq_kernel(bf16* __restrict__ dq, const bf16* __restrict__ dout,
                                 const float* __restrict__ lse, const float* __restrict__ delta,
                                 const bf16* __restrict__ q, const bf16* __restrict__ k,
                                 const bf16* __restrict__ v, Shape shape) {
  constexpr int E = D / 32;
  __shared__ float q_s[kRowsPerBlock][D], do_s[kRowsPerBlock][D];
  __shared__ bf16 k_s[kTile][D + kPad], v_s[kTile][D + kPad];
  const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kRowsPerBlock;
  const int hk = h / (shape.hq / shape.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  load_rows_f32<D>(q_s, q, shape, b, q0, h, false, shape.scale);
  load_rows_f32<D>(do_s, dout, shape, b, q0, h, false, 1.f);
  float row_lse[kRowsPerWarp], row_delta[kRowsPerWarp], acc[kRowsPerWarp][E];
  int first[kRowsPerWarp];  // as in the forward: the saved lse covers exactly these keys
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int row = q0 + warp * kRowsPerWarp + r;
    row_lse[r] = row < shape.t ? lse[shape.stat_index(b, h, row)] : 0.f;
    row_delta[r] = row < shape.t ? delta[shape.stat_index(b, h, row)] : 0.f;
    first[r] = kPacked && row < shape.t ? document_start(shape, b, row) : 0;
#pragma unroll
    for (int e = 0; e < E; ++e) acc[r][e] = 0.f;
  }
  const int kv_begin = kPacked ? document_start(shape, b, q0) / kTile * kTile : 0;
  const int kv_end = min(shape.t, q0 + kRowsPerBlock);
  for (int k0 = kv_begin; k0 < kv_end; k0 += kTile) {
    __syncthreads();
    load_rows<D>(k_s, k, shape, b, k0, kTile, hk, true);
    load_rows<D>(v_s, v, shape, b, k0, kTile, hk, true);
    __syncthreads();
    float s[kRowsPerWarp] = {}, dp[kRowsPerWarp] = {};
#pragma unroll 8
    for (int dd = 0; dd < D; ++dd) {
      const float key_value = to_float(k_s[lane][dd]), value = to_float(v_s[lane][dd]);
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        s[r] += q_s[warp * kRowsPerWarp + r][dd] * key_value;
        dp[r] += do_s[warp * kRowsPerWarp + r][dd] * value;
      }
    }
    const int key = k0 + lane;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int row = q0 + warp * kRowsPerWarp + r;
      const bool visible = key <= row && key < shape.t && row < shape.t && (!kPacked || key >= first[r]);
      const float p = visible ? __expf(s[r] - row_lse[r]) : 0.f;
      const float ds = p * (dp[r] - row_delta[r]);
#pragma unroll 4
      for (int j = 0; j < kTile; ++j) {
        const float dsj = __shfl_sync(0xffffffffu, ds, j);
#pragma unroll
        for (int e = 0; e < E; ++e) acc[r][e] += dsj * to_float(k_s[j][lane + 32 * e]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int row = q0 + warp * kRowsPerWarp + r;
    if (row >= shape.t) continue;
    const int64_t base = shape.q_index(b, row, h, D);
#pragma unroll
    for (int e = 0; e < E; ++e) dq[base + lane + 32 * e] = to_bf16(acc[r][e] * shape.scale);
  }
}

template <int D, bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    attention_backward_dkdv_kernel(bf16* __restrict__ dk, bf16* __restrict__ dv,
                                   const bf16* __restrict__ dout, const float* __restrict__ lse,
                                   const float* __restrict__ delta, const bf16* __restrict__ q,
                                   const bf16* __restrict__ k, const bf16* __restrict__ v,
                                   Shape shape) {
  constexpr int E = D / 32;
  __shared__ float k_s[kRowsPerBlock][D], v_s[kRowsPerBlock][D];
  __shared__ bf16 q_t[kTile][D + kPad], do_t[kTile][D + kPad];
  __shared__ float lse_t[kTile], delta_t[kTile];
  const int b = blockIdx.z, hk = blockIdx.y, k0 = blockIdx.x * kRowsPerBlock;
  const int group = shape.hq / shape.hkv;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  load_rows_f32<D>(k_s, k, shape, b, k0, hk, true, shape.scale);
  load_rows_f32<D>(v_s, v, shape, b, k0, hk, true, 1.f);
  float dk_acc[kRowsPerWarp][E] = {}, dv_acc[kRowsPerWarp][E] = {};
  const int last_key = min(shape.t, k0 + kRowsPerBlock) - 1;
  for (int g = 0; g < group; ++g) {
    const int h = hk * group + g;
    for (int q_start = (k0 / kTile) * kTile; q_start < shape.t; q_start += kTile) {
      // Packed rows: this and every later query tile lies in documents after these keys.
      if (kPacked && document_start(shape, b, q_start) > last_key) break;
      __syncthreads();
      load_rows<D>(q_t, q, shape, b, q_start, kTile, h, false);
      load_rows<D>(do_t, dout, shape, b, q_start, kTile, h, false);
      if (threadIdx.x < kTile) {
        const int row = q_start + threadIdx.x;
        lse_t[threadIdx.x] = row < shape.t ? lse[shape.stat_index(b, h, row)] : 0.f;
        delta_t[threadIdx.x] = row < shape.t ? delta[shape.stat_index(b, h, row)] : 0.f;
      }
      __syncthreads();
      float s[kRowsPerWarp] = {}, dp[kRowsPerWarp] = {};
  #pragma unroll 8
    for (int dd = 0; dd < D; ++dd) {
        const float query = to_float(q_t[lane][dd]), grad = to_float(do_t[lane][dd]);
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
          s[r] += query * k_s[warp * kRowsPerWarp + r][dd];
          dp[r] += grad * v_s[warp * kRowsPerWarp + r][dd];
        }
      }
      const int row = q_start + lane;  // this lane's query
      const int first = kPacked && row < shape.t ? document_start(shape, b, row) : 0;
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const int key = k0 + warp * kRowsPerWarp + r;
        const bool visible = row < shape.t && key <= row && key < shape.t && (!kPacked || key >= first);
        const float p = visible ? __expf(s[r] - lse_t[lane]) : 0.f;
        const float ds = p * (dp[r] - delta_t[lane]);
  #pragma unroll 4
      for (int j = 0; j < kTile; ++j) {
          const float pj = __shfl_sync(0xffffffffu, p, j);
          const float dsj = __shfl_sync(0xffffffffu, ds, j);
#pragma unroll
          for (int e = 0; e < E; ++e) {
            dv_acc[r][e] += pj * to_float(do_t[j][lane + 32 * e]);
            dk_acc[r][e] += dsj * to_float(q_t[j][lane + 32 * e]);
          }
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int key = k0 + warp * kRowsPerWarp + r;
    if (key >= shape.t) continue;
    const int64_t base = shape.kv_index(b, key, hk, D);
#pragma unroll
    for (int e = 0; e < E; ++e) {
      dk[base + lane + 32 * e] = to_bf16(dk_acc[r][e] * shape.scale);
      dv[base + lane + 32 * e] = to_bf16(dv_acc[r][e]);
    }
  }
}

#include "attention_tc.cuh"

// Tensor cores for head_dim 64 unless SIKED_CUDA_ATTENTION=simt (read per call: the parity
// harness checks both paths in one process).
bool use_tensor_cores(int d) {
  const char* choice = std::getenv("SIKED_CUDA_ATTENTION");
  return d == tc::D && !(choice && std::strcmp(choice, "simt") == 0);
}

int check_shape(const char* what, int b, int t, int hq, int hkv, int d) {
  if (b <= 0 || t <= 0 || hq <= 0 || hkv <= 0 || hq % hkv)
    return fail("%s: bad shape b=%d t=%d hq=%d hkv=%d (hq must be a multiple of hkv)", what, b, t,
                hq, hkv);
  if (d != 64 && d != 128)
    return fail("%s: head_dim %d not supported (64 or 128; the kernels are specialised)", what, d);
  return 0;
}

template <int D, bool kPacked>
int forward(void* out, float* lse, const void* q, const void* k, const void* v,
            const int32_t* positions, int b, int t, int hq, int hkv, cudaStream_t stream) {
  Shape shape{t, hq, hkv, 1.f / sqrtf(static_cast<float>(D)), positions};
  if (use_tensor_cores(D)) {
    tc::forward_kernel<kPacked><<<dim3(blocks_for(t, tc::kBlockRows), hq, b), tc::kWarps * 32, 0, stream>>>(
        static_cast<bf16*>(out), lse, static_cast<const bf16*>(q), static_cast<const bf16*>(k),
        static_cast<const bf16*>(v), shape);
    return check_launch("attention_forward (tensor cores)");
  }
  dim3 grid(blocks_for(t, kRowsPerBlock), hq, b);
  attention_forward_kernel<D, kPacked><<<grid, kWarps * 32, 0, stream>>>(
      static_cast<bf16*>(out), lse, static_cast<const bf16*>(q), static_cast<const bf16*>(k),
      static_cast<const bf16*>(v), shape);
  return check_launch("attention_forward");
}

template <int D, bool kPacked>
int backward(void* dq, void* dk, void* dv, float* delta, const void* dout, const void* out,
             const float* lse, const void* q, const void* k, const void* v,
             const int32_t* positions, int b, int t, int hq, int hkv, cudaStream_t stream) {
  Shape shape{t, hq, hkv, 1.f / sqrtf(static_cast<float>(D)), positions};
  const auto* dout_b = static_cast<const bf16*>(dout);
  const auto *q_b = static_cast<const bf16*>(q), *k_b = static_cast<const bf16*>(k),
             *v_b = static_cast<const bf16*>(v);
  attention_delta_kernel<D><<<blocks_for(static_cast<int64_t>(b) * t * hq, kWarps), kWarps * 32, 0,
                              stream>>>(delta, dout_b, static_cast<const bf16*>(out), b, shape);
  if (check_launch("attention_backward (delta)")) return 1;
  if (use_tensor_cores(D)) {
    tc::backward_dq_kernel<kPacked><<<dim3(blocks_for(t, tc::kBlockRows), hq, b), tc::kWarps * 32, 0, stream>>>(
        static_cast<bf16*>(dq), dout_b, lse, delta, q_b, k_b, v_b, shape);
    if (check_launch("attention_backward (dq, tensor cores)")) return 1;
    tc::backward_dkdv_kernel<kPacked><<<dim3(blocks_for(t, tc::kBlockRows), hkv, b), tc::kWarps * 32, 0, stream>>>(
        static_cast<bf16*>(dk), static_cast<bf16*>(dv), dout_b, lse, delta, q_b, k_b, v_b, shape);
    return check_launch("attention_backward (dk/dv, tensor cores)");
  }
  attention_backward_dq_kernel<D, kPacked><<<dim3(blocks_for(t, kRowsPerBlock), hq, b), kWarps * 32, 0,
                                             stream>>>(static_cast<bf16*>(dq), dout_b, lse, delta, q_b,
                                                       k_b, v_b, shape);
  if (check_launch("attention_backward (dq)")) return 1;
  attention_backward_dkdv_kernel<D, kPacked><<<dim3(blocks_for(t, kRowsPerBlock), hkv, b), kWarps * 32, 0,
                                               stream>>>(static_cast<bf16*>(dk), static_cast<bf16*>(dv),
                                                         dout_b, lse, delta, q_b, k_b, v_b, shape);
  return check_launch("attention_backward (dk/dv)");
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_attention_forward(void* out, float* lse, const void* q, const void* k,
                                            const void* v, const int32_t* positions, int b, int t,
                                            int hq, int hkv, int d, void* stream) {
  if (check_shape("attention_forward", b, t, hq, hkv, d)) return 1;
  auto s = static_cast<cudaStream_t>(stream);
  const int32_t* p = positions;
  if (d == 64)
    return p ? forward<64, true>(out, lse, q, k, v, p, b, t, hq, hkv, s)
             : forward<64, false>(out, lse, q, k, v, p, b, t, hq, hkv, s);
  return p ? forward<128, true>(out, lse, q, k, v, p, b, t, hq, hkv, s)
           : forward<128, false>(out, lse, q, k, v, p, b, t, hq, hkv, s);
}

extern "C" int siked_cuda_attention_backward(void* dq, void* dk, void* dv, float* delta,
                                             const void* dout, const void* out, const float* lse,
                                             const void* q, const void* k, const void* v,
                                             const int32_t* positions, int b, int t, int hq,
                                             int hkv, int d, void* stream) {
  if (check_shape("attention_backward", b, t, hq, hkv, d)) return 1;
  auto s = static_cast<cudaStream_t>(stream);
  const int32_t* p = positions;
  if (d == 64)
    return p ? backward<64, true>(dq, dk, dv, delta, dout, out, lse, q, k, v, p, b, t, hq, hkv, s)
             : backward<64, false>(dq, dk, dv, delta, dout, out, lse, q, k, v, p, b, t, hq, hkv, s);
  return p ? backward<128, true>(dq, dk, dv, delta, dout, out, lse, q, k, v, p, b, t, hq, hkv, s)
           : backward<128, false>(dq, dk, dv, delta, dout, out, lse, q, k, v, p, b, t, hq, hkv, s);
}
