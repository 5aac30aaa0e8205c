// Token sampling on the GPU, one block per row: greedy, or temperature + top-k + top-p with a
// per-row Philox stream. Only the chosen token id and its log-probability leave the device.
//
// Top-k and top-p need a threshold, not a sort: the k-th largest logit, and the smallest
// probability still inside the top-p mass. Both are found by a 32-step descent over the bits of
// an order-preserving integer key of the logits, each step one block-wide count or sum. The
// reductions have a fixed order, so a (seed, counter) pair always picks the same token.
#include "common.cuh"
#include "cuda_api.h"
#include "philox.cuh"

namespace siked {
namespace {

constexpr int kThreads = 1024;

// Order-preserving map of a float to uint32 (larger float, larger key; -0 and +0 adjacent).
__device__ __forceinline__ uint32_t order_key(float x) {
  const uint32_t bits = __float_as_uint(x);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Largest key K such that sum over {key_i >= K} of weight(i) >= need (weight 1 counts tokens).
template <typename Weight>
__device__ uint32_t threshold_key(const float* logits, int v, float need, Weight weight, float* scratch) {
  uint32_t answer = 0;
  for (int bit = 31; bit >= 0; --bit) {
    const uint32_t candidate = answer | (1u << bit);
    float mass = 0.f;
    for (int i = threadIdx.x; i < v; i += blockDim.x)
      if (order_key(logits[i]) >= candidate) mass += weight(i);
    if (block_sum(mass, scratch) >= need) answer = candidate;
  }
  return answer;
}

__global__ void __launch_bounds__(kThreads)
    sample_kernel(int32_t* __restrict__ token_out, float* __restrict__ logprob_out,
                  const float* __restrict__ all_logits, int v, const float* __restrict__ temperature,
                  const int32_t* __restrict__ top_k, const float* __restrict__ top_p,
                  const uint64_t* __restrict__ seed, uint64_t* __restrict__ counter) {
  __shared__ float scratch[32];
  __shared__ float warp_totals[32];
  __shared__ int chosen_shared;
  const int row = blockIdx.x;
  const float* logits = all_logits + static_cast<int64_t>(row) * v;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  // Log-sum-exp of the unscaled logits (for the returned log-probability); ties in the arg max
  // go to the lowest index.
  float thread_max = -INFINITY;
  int thread_arg = v;
  for (int i = threadIdx.x; i < v; i += blockDim.x)
    if (logits[i] > thread_max) thread_max = logits[i], thread_arg = i;
  const float row_max = block_max(thread_max, scratch);
  float sum = 0.f;
  for (int i = threadIdx.x; i < v; i += blockDim.x) sum += __expf(logits[i] - row_max);
  const float lse = row_max + logf(block_sum(sum, scratch));

  const float t = temperature[row];
  const int k = top_k[row];
  int chosen;
  if (t <= 0.f || k == 1) {
    // Lowest index among the threads holding the maximum.
    if (threadIdx.x == 0) chosen_shared = v;
    __syncthreads();
    if (thread_max == row_max) atomicMin(&chosen_shared, thread_arg);
    __syncthreads();
    chosen = min(chosen_shared, v - 1);  // a row of all -inf has no arg max: any index is as good
  } else {
    const float inv_t = 1.f / t;
    auto in_top_k_mass = [&](int) { return 1.f; };
    const uint32_t k_key = (k > 0 && k < v) ? threshold_key(logits, v, static_cast<float>(k), in_top_k_mass, scratch) : 0u;
    // Unnormalised tempered probabilities, zero outside the top-k set.
    auto tempered = [&](int i) {
      return order_key(logits[i]) >= k_key ? __expf((logits[i] - row_max) * inv_t) : 0.f;
    };
    float mass = 0.f;
    for (int i = threadIdx.x; i < v; i += blockDim.x) mass += tempered(i);
    const float top_k_mass = block_sum(mass, scratch);
    const float p = top_p[row];
    uint32_t keep_key = k_key;
    if (p < 1.f) {
      const uint32_t p_key = threshold_key(logits, v, p * top_k_mass, tempered, scratch);
      keep_key = p_key > k_key ? p_key : k_key;
    }
    auto kept = [&](int i) { return order_key(logits[i]) >= keep_key ? tempered(i) : 0.f; };
    mass = 0.f;
    for (int i = threadIdx.x; i < v; i += blockDim.x) mass += kept(i);
    const float kept_mass = block_sum(mass, scratch);
    const float target = philox_uniform(seed[row], counter[row]) * kept_mass;

    // Inverse CDF in index order: a block-wide inclusive scan over chunks of kThreads tokens.
    if (threadIdx.x == 0) chosen_shared = v;
    __syncthreads();
    float running = 0.f;
    int last_kept = -1;
    for (int base = 0; base < v; base += blockDim.x) {
      const int i = base + threadIdx.x;
      const float w = i < v ? kept(i) : 0.f;
      if (w > 0.f) last_kept = i;
      float inclusive = w;
#pragma unroll
      for (int offset = 1; offset < 32; offset <<= 1) {
        const float other = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) inclusive += other;
      }
      __syncthreads();  // every thread has finished reading the previous chunk's totals/flag
      if (lane == 31) warp_totals[warp] = inclusive;
      __syncthreads();
      float warp_offset = 0.f, chunk_total = 0.f;
      for (int w2 = 0; w2 < (int)(blockDim.x >> 5); ++w2) {
        if (w2 < warp) warp_offset += warp_totals[w2];
        chunk_total += warp_totals[w2];
      }
      const float cumulative = running + warp_offset + inclusive;
      if (w > 0.f && cumulative >= target) atomicMin(&chosen_shared, i);
      running += chunk_total;
      __syncthreads();
      // Uniform across the block: nothing writes the flag until the next chunk's first barrier.
      if (chosen_shared < v) break;
    }
    // Rounding can leave the scanned total a hair under `target`: take the last kept token.
    if (chosen_shared == v) {
      const float last = block_max(static_cast<float>(last_kept), scratch);
      if (threadIdx.x == 0) chosen_shared = static_cast<int>(last);
      __syncthreads();
    }
    chosen = chosen_shared;
  }
  if (threadIdx.x == 0) {
    token_out[row] = chosen;
    logprob_out[row] = logits[chosen] - lse;
    counter[row] += 1;
  }
}

__global__ void decode_advance_kernel(int32_t* next_input, int32_t* position, int32_t* generated,
                                      int32_t* finished, int32_t* out_tokens, float* out_logprobs,
                                      const int32_t* token, const float* logprob,
                                      const int32_t* stop_ids, int stop_count, int rows, int max_new) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows || finished[row]) return;
  const int tok = token[row];
  const int count = generated[row];
  out_tokens[static_cast<int64_t>(row) * max_new + count] = tok;
  out_logprobs[static_cast<int64_t>(row) * max_new + count] = logprob[row];
  generated[row] = count + 1;
  position[row] += 1;
  next_input[row] = tok;
  bool stop = false;
  for (int s = 0; s < stop_count; ++s) stop |= stop_ids[s] == tok;
  if (stop) finished[row] = 1;
  else if (count + 1 >= max_new) finished[row] = 2;
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" float siked_cuda_philox_uniform(uint64_t seed, uint64_t counter) {
  return philox_uniform(seed, counter);
}

extern "C" int siked_cuda_sample(int32_t* token_out, float* logprob_out, const float* logits, int rows,
                                 int v, const float* temperature, const int32_t* top_k,
                                 const float* top_p, const uint64_t* seed, uint64_t* counter,
                                 void* stream) {
  if (rows <= 0 || v <= 0) return fail("sample: bad shape rows=%d v=%d", rows, v);
  if (v > (1 << 24)) return fail("sample: vocabulary %d exceeds 2^24 (token counts are summed in fp32)", v);
  sample_kernel<<<rows, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      token_out, logprob_out, logits, v, temperature, top_k, top_p, seed, counter);
  return check_launch("sample");
}

extern "C" int siked_cuda_decode_advance(int32_t* next_input, int32_t* position, int32_t* generated,
                                         int32_t* finished, int32_t* out_tokens, float* out_logprobs,
                                         const int32_t* token, const float* logprob,
                                         const int32_t* stop_ids, int stop_count, int rows,
                                         int max_new, void* stream) {
  if (rows <= 0 || max_new <= 0 || stop_count < 0)
    return fail("decode_advance: bad arguments rows=%d max_new=%d stop_count=%d", rows, max_new, stop_count);
  decode_advance_kernel<<<blocks_for(rows, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      next_input, position, generated, finished, out_tokens, out_logprobs, token, logprob, stop_ids,
      stop_count, rows, max_new);
  return check_launch("decode_advance");
}
