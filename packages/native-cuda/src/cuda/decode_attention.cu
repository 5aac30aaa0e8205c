// Attention of one new query token per sequence over its slot in the KV cache, with GQA and
// split-K ("flash-decoding"): a sequence's cached positions are cut into chunks, each chunk
// reduced by its own block to a partial (running max m, sum l, unnormalised output), and a
// second kernel merges the partials. A block serves one KV head and all query heads of its
// group (one warp each), so each K/V tile is read from memory once per group, not per head.
// The grid is sized by max_len, so the launch is identical every step (CUDA-graph friendly);
// chunks past a sequence's length just write an empty partial.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kTile = 32;
constexpr int kPad = 2;
constexpr int kMaxGroup = 16;  // query heads per KV head (one warp each)

int split_count(int max_len, int split_len) { return (max_len + split_len - 1) / split_len; }

template <int D>
__global__ void decode_partial_kernel(float* __restrict__ partial_out, float* __restrict__ partial_m,
                                      float* __restrict__ partial_l, const bf16* __restrict__ q,
                                      const bf16* __restrict__ k_cache,
                                      const bf16* __restrict__ v_cache,
                                      const int32_t* __restrict__ slot_of_row,
                                      const int32_t* __restrict__ length_of_row, int hq, int hkv,
                                      int max_len, int split_len, float scale) {
  constexpr int E = D / 32;
  __shared__ float q_s[kMaxGroup][D];
  __shared__ bf16 k_s[kTile][D + kPad], v_s[kTile][D + kPad];
  const int row = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z;
  const int splits = gridDim.z, group = hq / hkv;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int head = kv_head * group + warp;
  const int length = min(length_of_row[row], max_len);
  const int begin = split * split_len, end = min(length, begin + split_len);
  const int64_t cache_base = (static_cast<int64_t>(slot_of_row[row]) * hkv + kv_head) * max_len * D;
  for (int i = threadIdx.x; i < group * D; i += blockDim.x)
    q_s[i / D][i % D] = to_float(q[(static_cast<int64_t>(row) * hq + kv_head * group) * D + i]) * scale;
  float m = -INFINITY, l = 0.f, acc[E] = {};
  for (int p0 = begin; p0 < end; p0 += kTile) {
    __syncthreads();
    for (int i = threadIdx.x; i < kTile * D; i += blockDim.x) {
      const int j = i / D, dd = i % D;
      const bool valid = p0 + j < end;
      k_s[j][dd] = valid ? k_cache[cache_base + static_cast<int64_t>(p0 + j) * D + dd] : __float2bfloat16(0.f);
      v_s[j][dd] = valid ? v_cache[cache_base + static_cast<int64_t>(p0 + j) * D + dd] : __float2bfloat16(0.f);
    }
    __syncthreads();
    float s = 0.f;
#pragma unroll 8
    for (int dd = 0; dd < D; ++dd) s += q_s[warp][dd] * to_float(k_s[lane][dd]);
    if (p0 + lane >= end) s = -INFINITY;
    const float m_new = fmaxf(m, warp_max(s));  // finite: position p0 < end is always valid
    const float p = __expf(s - m_new);
    const float correction = __expf(m - m_new);
    l = l * correction + warp_sum(p);
    m = m_new;
#pragma unroll
    for (int e = 0; e < E; ++e) acc[e] *= correction;
#pragma unroll 4
    for (int j = 0; j < kTile; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
      for (int e = 0; e < E; ++e) acc[e] += pj * to_float(v_s[j][lane + 32 * e]);
    }
  }
  const int64_t slot = (static_cast<int64_t>(row) * hq + head) * splits + split;
#pragma unroll
  for (int e = 0; e < E; ++e) partial_out[slot * D + lane + 32 * e] = acc[e];
  if (lane == 0) {
    partial_m[slot] = m;  // -inf and l = 0 for an empty chunk
    partial_l[slot] = l;
  }
}

template <int D>
__global__ void decode_combine_kernel(bf16* __restrict__ out, const float* __restrict__ partial_out,
                                      const float* __restrict__ partial_m,
                                      const float* __restrict__ partial_l, int splits) {
  constexpr int E = D / 32;
  const int64_t row_head = blockIdx.x;  // row * hq + head
  const int lane = threadIdx.x;
  const int64_t base = row_head * splits;
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, partial_m[base + s]);
  float l = 0.f, acc[E] = {};
  for (int s = 0; s < splits; ++s) {
    const float pm = partial_m[base + s];
    if (pm == -INFINITY) continue;
    const float w = __expf(pm - m);
    l += w * partial_l[base + s];
#pragma unroll
    for (int e = 0; e < E; ++e) acc[e] += w * partial_out[(base + s) * D + lane + 32 * e];
  }
  const float inv = l > 0.f ? 1.f / l : 0.f;  // length 0 (never valid) gives zeros, not NaN
#pragma unroll
  for (int e = 0; e < E; ++e) out[row_head * D + lane + 32 * e] = to_bf16(acc[e] * inv);
}

template <int D>
int decode(void* out, const void* q, const void* k_cache, const void* v_cache,
           const int32_t* slot_of_row, const int32_t* length_of_row, int rows, int hq, int hkv,
           int max_len, int split_len, float* scratch, cudaStream_t stream) {
  const int splits = split_count(max_len, split_len);
  const int64_t slots = static_cast<int64_t>(rows) * hq * splits;
  float* partial_out = scratch;
  float* partial_m = partial_out + slots * D;
  float* partial_l = partial_m + slots;
  const int group = hq / hkv;
  decode_partial_kernel<D><<<dim3(rows, hkv, splits), group * 32, 0, stream>>>(
      partial_out, partial_m, partial_l, static_cast<const bf16*>(q),
      static_cast<const bf16*>(k_cache), static_cast<const bf16*>(v_cache), slot_of_row,
      length_of_row, hq, hkv, max_len, split_len, 1.f / sqrtf(static_cast<float>(D)));
  if (check_launch("decode_attention (partials)")) return 1;
  decode_combine_kernel<D><<<static_cast<unsigned>(static_cast<int64_t>(rows) * hq), 32, 0, stream>>>(
      static_cast<bf16*>(out), partial_out, partial_m, partial_l, splits);
  return check_launch("decode_attention (combine)");
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int64_t siked_cuda_decode_scratch_floats(int rows, int hq, int d, int max_len, int split_len) {
  if (split_len <= 0) return 0;
  return static_cast<int64_t>(rows) * hq * split_count(max_len, split_len) * (d + 2);
}

extern "C" int siked_cuda_decode_attention(void* out, const void* q, const void* k_cache,
                                           const void* v_cache, const int32_t* slot_of_row,
                                           const int32_t* length_of_row, int rows, int hq, int hkv,
                                           int max_len, int d, int split_len, float* scratch,
                                           void* stream) {
  if (rows <= 0 || hq <= 0 || hkv <= 0 || hq % hkv || max_len <= 0 || split_len <= 0)
    return fail("decode_attention: bad shape rows=%d hq=%d hkv=%d max_len=%d split_len=%d", rows, hq,
                hkv, max_len, split_len);
  if (hq / hkv > kMaxGroup)
    return fail("decode_attention: %d query heads per KV head (at most %d supported)", hq / hkv, kMaxGroup);
  if (d != 64 && d != 128) return fail("decode_attention: head_dim %d not supported (64 or 128)", d);
  auto s = static_cast<cudaStream_t>(stream);
  return d == 64 ? decode<64>(out, q, k_cache, v_cache, slot_of_row, length_of_row, rows, hq, hkv,
                              max_len, split_len, scratch, s)
                 : decode<128>(out, q, k_cache, v_cache, slot_of_row, length_of_row, rows, hq, hkv,
                               max_len, split_len, scratch, s);
}
