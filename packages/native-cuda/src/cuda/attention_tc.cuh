// Tensor-core flash attention for head_dim 64 (the SmolLM/Qwen2-0.5B class), included by
// attention.cu inside its anonymous namespace (it uses Shape, kPad-free tiles of its own).
//
// Same algorithm and outputs as the SIMT kernels (FlashAttention-2: online softmax forward that
// saves the log-sum-exp, backward recomputing P from it in an atomic-free dq kernel and dk/dv
// kernel), but every matrix product is a 16x16x16 bf16 WMMA with fp32 accumulation. Each warp
// owns 16 rows; scores go through shared memory (fragment layouts are opaque), where the softmax
// is done by lane pairs: lane = 2 * row + half, each half 16 columns of the 32-key tile, so the
// row statistics need one shuffle and every lane rescales only its own part of the output.
// P and dS are rounded to bf16 before their products, as FlashAttention does.
// (attention.cu includes <mma.h> at file scope.) SIKED_CUDA_ATTENTION=simt selects the SIMT
// kernels instead, e.g. to compare the two. Packed rows (kPacked) mask and skip keys as the SIMT
// kernels do (attention.cu's header).

namespace tc {

using namespace nvcuda;

constexpr int D = 64;
constexpr int kWarps = 4;
constexpr int kWarpRows = 16;                     // rows (queries or keys) per warp
constexpr int kBlockRows = kWarps * kWarpRows;    // 64
constexpr int kTile = 32;                         // keys (fwd, dq) or queries (dk/dv) per tile
constexpr int kLd = D + 8;                        // bf16 tile stride: 144 bytes, so the 8 rows an
                                                  // 8x8 fragment load reads fall in distinct banks
constexpr int kLdS = kTile + 4;                   // fp32 score scratch stride (16-byte multiple)
constexpr int kLdP = kTile + 8;                   // bf16 P / dS stride (16-byte multiple)

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragBRow = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// rows [row0, row0 + rows) of one head -> dst[rows][kLd] (zeros past the sequence), 16 bytes a load.
__device__ void load_tile(bf16 (*dst)[kLd], const bf16* src, Shape shape, int b, int row0, int rows,
                          int head, bool kv) {
  constexpr int kVectors = D / 8;
  for (int idx = threadIdx.x; idx < rows * kVectors; idx += blockDim.x) {
    const int r = idx / kVectors, part = idx % kVectors, row = row0 + r;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row < shape.t) {
      const int64_t at = kv ? shape.kv_index(b, row, head, D) : shape.q_index(b, row, head, D);
      value = *reinterpret_cast<const uint4*>(src + at + part * 8);
    }
    *reinterpret_cast<uint4*>(&dst[r][part * 8]) = value;
  }
}

// out[16, 32] (ld kLdS, fp32) = a[16, 64] (row-major, ld kLd) x b^T, b[32, 64] row-major (ld kLd):
// the scores of 16 rows against 32 rows.
__device__ void scores_16x32(float* out, const bf16* a, const bf16* b) {
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    FragC acc;
    wmma::fill_fragment(acc, 0.f);
#pragma unroll
    for (int k = 0; k < D / 16; ++k) {
      FragA fa;
      FragBCol fb;
      wmma::load_matrix_sync(fa, a + k * 16, kLd);
      wmma::load_matrix_sync(fb, b + half * 16 * kLd + k * 16, kLd);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(out + half * 16, acc, kLdS, wmma::mem_row_major);
  }
}

// acc[q] (+)= p[16, 32] (bf16, ld kLdP) x v[32, 64] (row-major, ld kLd), q = quarter of the 64 columns.
__device__ void product_16x64(FragC (&acc)[4], const bf16* p, const bf16* v) {
#pragma unroll
  for (int k = 0; k < kTile / 16; ++k) {
    FragA fa;
    wmma::load_matrix_sync(fa, p + k * 16, kLdP);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      FragBRow fb;
      wmma::load_matrix_sync(fb, v + k * 16 * kLd + q * 16, kLd);
      wmma::mma_sync(acc[q], fa, fb, acc[q]);
    }
  }
}

template <bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    forward_kernel(bf16* __restrict__ out, float* __restrict__ lse, const bf16* __restrict__ q,
                   const bf16* __restrict__ k, const bf16* __restrict__ v, Shape shape) {
  __shared__ __align__(32) bf16 q_s[kBlockRows][kLd];
  __shared__ __align__(32) bf16 k_s[kTile][kLd], v_s[kTile][kLd];
  __shared__ __align__(32) float s_s[kWarps][kWarpRows][kLdS];
  __shared__ __align__(32) bf16 p_s[kWarps][kWarpRows][kLdP];
  const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kBlockRows;
  const int hk = h / (shape.hq / shape.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int r = lane >> 1, half = lane & 1;  // this lane's row of the warp's 16 and its half
  const int row = q0 + warp * kWarpRows + r;
  const int first = kPacked && row < shape.t ? document_start(shape, b, row) : 0;  // packed rows
  load_tile(q_s, q, shape, b, q0, kBlockRows, h, false);
  float m = -INFINITY, l = 0.f, o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  const int kv_begin = kPacked ? document_start(shape, b, q0) / kTile * kTile : 0;
  const int kv_end = min(shape.t, q0 + kBlockRows);
  for (int k0 = kv_begin; k0 < kv_end; k0 += kTile) {
    __syncthreads();  // the previous tile is consumed (and q_s is written, on the first pass)
    load_tile(k_s, k, shape, b, k0, kTile, hk, true);
    load_tile(v_s, v, shape, b, k0, kTile, hk, true);
    __syncthreads();
    scores_16x32(&s_s[warp][0][0], &q_s[warp * kWarpRows][0], &k_s[0][0]);
    __syncwarp();
    float s[16], tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < 16; ++c) {
      const int key = k0 + half * 16 + c;
      const bool visible = key <= row && key < shape.t && (!kPacked || key >= first);
      s[c] = visible ? s_s[warp][r][half * 16 + c] * shape.scale : -INFINITY;
      tile_max = fmaxf(tile_max, s[c]);
    }
    const float m_new = fmaxf(m, fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1)));
    const float m_safe = m_new == -INFINITY ? 0.f : m_new;
    const float correction = __expf(m - m_safe);
    float sum = 0.f;
#pragma unroll
    for (int c = 0; c < 16; ++c) {  // the sum in fp32 (the saved lse stays exact), P V in bf16
      const float p = __expf(s[c] - m_safe);
      p_s[warp][r][half * 16 + c] = to_bf16(p);
      sum += p;
    }
    l = l * correction + sum + __shfl_xor_sync(0xffffffffu, sum, 1);
    m = m_new;
#pragma unroll
    for (int i = 0; i < D / 2; ++i) o[i] *= correction;
    __syncwarp();
    // P V, in two 32-column halves through the score scratch.
#pragma unroll
    for (int part = 0; part < 2; ++part) {
#pragma unroll
      for (int qq = 0; qq < 2; ++qq) {
        FragC acc;
        wmma::fill_fragment(acc, 0.f);
#pragma unroll
        for (int kk = 0; kk < kTile / 16; ++kk) {
          FragA fa;
          FragBRow fb;
          wmma::load_matrix_sync(fa, &p_s[warp][0][kk * 16], kLdP);
          wmma::load_matrix_sync(fb, &v_s[kk * 16][part * 32 + qq * 16], kLd);
          wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(&s_s[warp][0][qq * 16], acc, kLdS, wmma::mem_row_major);
      }
      __syncwarp();
      if (half == part)
#pragma unroll
        for (int i = 0; i < D / 2; ++i) o[i] += s_s[warp][r][i];
      __syncwarp();
    }
  }
  if (row < shape.t) {
    const float inv = 1.f / l;
    const int64_t base = shape.q_index(b, row, h, D) + half * (D / 2);
#pragma unroll
    for (int i = 0; i < D / 2; ++i) out[base + i] = to_bf16(o[i] * inv);
    if (half == 0) lse[shape.stat_index(b, h, row)] = m + logf(l);
  }
}

// dq of 64 query rows: over key tiles, S = Q K^T, P = exp(scale S - lse), dP = dO V^T,
// dS = P (dP - delta), dQ += scale dS K (accumulated in fragments: no rescaling needed).
template <bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    backward_dq_kernel(bf16* __restrict__ dq, const bf16* __restrict__ dout,
                       const float* __restrict__ lse, const float* __restrict__ delta,
                       const bf16* __restrict__ q, const bf16* __restrict__ k,
                       const bf16* __restrict__ v, Shape shape) {
  __shared__ __align__(32) bf16 q_s[kBlockRows][kLd], do_s[kBlockRows][kLd];
  __shared__ __align__(32) bf16 k_s[kTile][kLd], v_s[kTile][kLd];
  __shared__ __align__(32) float s_s[kWarps][kWarpRows][kLdS];
  __shared__ __align__(32) bf16 ds_s[kWarps][kWarpRows][kLdP];
  const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kBlockRows;
  const int hk = h / (shape.hq / shape.hkv);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int r = lane >> 1, half = lane & 1;
  const int row = q0 + warp * kWarpRows + r;
  load_tile(q_s, q, shape, b, q0, kBlockRows, h, false);
  load_tile(do_s, dout, shape, b, q0, kBlockRows, h, false);
  const float row_lse = row < shape.t ? lse[shape.stat_index(b, h, row)] : 0.f;
  const float row_delta = row < shape.t ? delta[shape.stat_index(b, h, row)] : 0.f;
  const int first = kPacked && row < shape.t ? document_start(shape, b, row) : 0;  // as the forward's
  FragC acc[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) wmma::fill_fragment(acc[i], 0.f);
  const int kv_begin = kPacked ? document_start(shape, b, q0) / kTile * kTile : 0;
  const int kv_end = min(shape.t, q0 + kBlockRows);
  for (int k0 = kv_begin; k0 < kv_end; k0 += kTile) {
    __syncthreads();
    load_tile(k_s, k, shape, b, k0, kTile, hk, true);
    load_tile(v_s, v, shape, b, k0, kTile, hk, true);
    __syncthreads();
    scores_16x32(&s_s[warp][0][0], &q_s[warp * kWarpRows][0], &k_s[0][0]);
    __syncwarp();
    float p[16];
#pragma unroll
    for (int c = 0; c < 16; ++c) {
      const int key = k0 + half * 16 + c;
      p[c] = key <= row && key < shape.t && row < shape.t && (!kPacked || key >= first)
                 ? __expf(s_s[warp][r][half * 16 + c] * shape.scale - row_lse)
                 : 0.f;
    }
    __syncwarp();
    scores_16x32(&s_s[warp][0][0], &do_s[warp * kWarpRows][0], &v_s[0][0]);  // dP = dO V^T
    __syncwarp();
#pragma unroll
    for (int c = 0; c < 16; ++c)
      ds_s[warp][r][half * 16 + c] = to_bf16(p[c] * (s_s[warp][r][half * 16 + c] - row_delta) * shape.scale);
    __syncwarp();
    product_16x64(acc, &ds_s[warp][0][0], &k_s[0][0]);
  }
  // Out through the scratch, 16 columns at a time.
#pragma unroll
  for (int qq = 0; qq < 4; ++qq) {
    __syncwarp();
    wmma::store_matrix_sync(&s_s[warp][0][0], acc[qq], kLdS, wmma::mem_row_major);
    __syncwarp();
    if (row < shape.t) {
      const int64_t base = shape.q_index(b, row, h, D) + qq * 16 + half * 8;
#pragma unroll
      for (int i = 0; i < 8; ++i) dq[base + i] = to_bf16(s_s[warp][r][half * 8 + i]);
    }
  }
}

// dk, dv of 64 key rows of one KV head: over the query heads of its group and the query tiles
// at or after the keys, S^T = K Q^T, P^T = exp(scale S^T - lse), dP^T = V dO^T,
// dS^T = P^T (dP^T - delta); dV += P^T dO, dK += scale dS^T Q.
template <bool kPacked>
__global__ void __launch_bounds__(kWarps * 32)
    backward_dkdv_kernel(bf16* __restrict__ dk, bf16* __restrict__ dv, const bf16* __restrict__ dout,
                         const float* __restrict__ lse, const float* __restrict__ delta,
                         const bf16* __restrict__ q, const bf16* __restrict__ k,
                         const bf16* __restrict__ v, Shape shape) {
  __shared__ __align__(32) bf16 k_s[kBlockRows][kLd], v_s[kBlockRows][kLd];
  __shared__ __align__(32) bf16 q_t[kTile][kLd], do_t[kTile][kLd];
  __shared__ float lse_t[kTile], delta_t[kTile];
  __shared__ int first_t[kTile];  // each query's document start (packed rows)
  __shared__ __align__(32) float s_s[kWarps][kWarpRows][kLdS];
  __shared__ __align__(32) bf16 p_s[kWarps][kWarpRows][kLdP], ds_s[kWarps][kWarpRows][kLdP];
  const int b = blockIdx.z, hk = blockIdx.y, k0 = blockIdx.x * kBlockRows;
  const int group = shape.hq / shape.hkv;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int r = lane >> 1, half = lane & 1;
  const int key = k0 + warp * kWarpRows + r;
  load_tile(k_s, k, shape, b, k0, kBlockRows, hk, true);
  load_tile(v_s, v, shape, b, k0, kBlockRows, hk, true);
  FragC dk_acc[4], dv_acc[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) wmma::fill_fragment(dk_acc[i], 0.f), wmma::fill_fragment(dv_acc[i], 0.f);
  const int first_tile = (k0 / kTile) * kTile;  // queries before k0 see none of these keys
  const int last_key = min(shape.t, k0 + kBlockRows) - 1;
  for (int g = 0; g < group; ++g) {
    const int h = hk * group + g;
    for (int t0 = first_tile; t0 < shape.t; t0 += kTile) {
      // Packed rows: this and every later query tile lies in documents after these keys.
      if (kPacked && document_start(shape, b, t0) > last_key) break;
      __syncthreads();
      load_tile(q_t, q, shape, b, t0, kTile, h, false);
      load_tile(do_t, dout, shape, b, t0, kTile, h, false);
      if (threadIdx.x < kTile) {
        const int qi = t0 + threadIdx.x;
        lse_t[threadIdx.x] = qi < shape.t ? lse[shape.stat_index(b, h, qi)] : 0.f;
        delta_t[threadIdx.x] = qi < shape.t ? delta[shape.stat_index(b, h, qi)] : 0.f;
        if (kPacked) first_t[threadIdx.x] = qi < shape.t ? document_start(shape, b, qi) : 0;
      }
      __syncthreads();
      scores_16x32(&s_s[warp][0][0], &k_s[warp * kWarpRows][0], &q_t[0][0]);  // S^T
      __syncwarp();
      float p[16];
#pragma unroll
      for (int c = 0; c < 16; ++c) {
        const int qi = t0 + half * 16 + c;
        p[c] = qi >= key && qi < shape.t && key < shape.t && (!kPacked || key >= first_t[half * 16 + c])
                   ? __expf(s_s[warp][r][half * 16 + c] * shape.scale - lse_t[half * 16 + c])
                   : 0.f;
        p_s[warp][r][half * 16 + c] = to_bf16(p[c]);
      }
      __syncwarp();
      scores_16x32(&s_s[warp][0][0], &v_s[warp * kWarpRows][0], &do_t[0][0]);  // dP^T = V dO^T
      __syncwarp();
#pragma unroll
      for (int c = 0; c < 16; ++c)
        ds_s[warp][r][half * 16 + c] =
            to_bf16(p[c] * (s_s[warp][r][half * 16 + c] - delta_t[half * 16 + c]) * shape.scale);
      __syncwarp();
      product_16x64(dv_acc, &p_s[warp][0][0], &do_t[0][0]);
      product_16x64(dk_acc, &ds_s[warp][0][0], &q_t[0][0]);
    }
  }
#pragma unroll
  for (int qq = 0; qq < 4; ++qq) {
#pragma unroll
    for (int which = 0; which < 2; ++which) {
      __syncwarp();
      wmma::store_matrix_sync(&s_s[warp][0][0], which ? dv_acc[qq] : dk_acc[qq], kLdS, wmma::mem_row_major);
      __syncwarp();
      if (key < shape.t) {
        bf16* dst = which ? dv : dk;
        const int64_t base = shape.kv_index(b, key, hk, D) + qq * 16 + half * 8;
#pragma unroll
        for (int i = 0; i < 8; ++i) dst[base + i] = to_bf16(s_s[warp][r][half * 8 + i]);
      }
    }
  }
}

}  // namespace tc
