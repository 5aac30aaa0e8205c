// Slot-based bf16 KV cache: each generating sequence owns a slot [hkv, max_len, d] per layer.
// Slots are recycled by continuous batching (a finished sequence's slot takes the next prompt),
// and the n samples of one prompt copy its prefilled prefix instead of recomputing it.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

__device__ __forceinline__ int64_t cache_index(int slot, int head, int position, int hkv, int max_len,
                                               int d) {
  return ((static_cast<int64_t>(slot) * hkv + head) * max_len + position) * d;
}

__global__ void kv_append_kernel(bf16* __restrict__ k_cache, bf16* __restrict__ v_cache,
                                 const bf16* __restrict__ k_new, const bf16* __restrict__ v_new,
                                 const int32_t* __restrict__ slot_of_row,
                                 const int32_t* __restrict__ position_of_row, int rows, int hkv,
                                 int max_len, int d) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * hkv * d) return;
  const int dd = static_cast<int>(i % d);
  const int head = static_cast<int>((i / d) % hkv);
  const int row = static_cast<int>(i / (static_cast<int64_t>(d) * hkv));
  const int position = position_of_row[row];
  // A position past the slot cannot be reported from the device; the host bounds lengths by
  // max_len before each step, so this only guards memory.
  if (position < 0 || position >= max_len) return;
  const int64_t dst = cache_index(slot_of_row[row], head, position, hkv, max_len, d) + dd;
  k_cache[dst] = k_new[i];
  v_cache[dst] = v_new[i];
}

__global__ void kv_copy_prefix_kernel(bf16* k_cache, bf16* v_cache, const int32_t* __restrict__ src_slot,
                                      const int32_t* __restrict__ dst_slot,
                                      const int32_t* __restrict__ length, int hkv, int max_len, int d) {
  const int item = blockIdx.x, head = blockIdx.y;
  const int n = min(length[item], max_len) * d;
  const int64_t src = cache_index(src_slot[item], head, 0, hkv, max_len, d);
  const int64_t dst = cache_index(dst_slot[item], head, 0, hkv, max_len, d);
  if (src == dst) return;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    k_cache[dst + i] = k_cache[src + i];
    v_cache[dst + i] = v_cache[src + i];
  }
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_kv_append(void* k_cache, void* v_cache, const void* k_new, const void* v_new,
                                    const int32_t* slot_of_row, const int32_t* position_of_row,
                                    int rows, int hkv, int max_len, int d, void* stream) {
  if (rows <= 0 || hkv <= 0 || max_len <= 0 || d <= 0)
    return fail("kv_append: bad shape rows=%d hkv=%d max_len=%d d=%d", rows, hkv, max_len, d);
  kv_append_kernel<<<blocks_for(static_cast<int64_t>(rows) * hkv * d, 256), 256, 0,
                     static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(k_cache), static_cast<bf16*>(v_cache), static_cast<const bf16*>(k_new),
      static_cast<const bf16*>(v_new), slot_of_row, position_of_row, rows, hkv, max_len, d);
  return check_launch("kv_append");
}

extern "C" int siked_cuda_kv_copy_prefix(void* k_cache, void* v_cache, const int32_t* src_slot,
                                         const int32_t* dst_slot, const int32_t* length, int count,
                                         int hkv, int max_len, int d, void* stream) {
  if (count <= 0 || hkv <= 0 || max_len <= 0 || d <= 0)
    return fail("kv_copy_prefix: bad shape count=%d hkv=%d max_len=%d d=%d", count, hkv, max_len, d);
  kv_copy_prefix_kernel<<<dim3(count, hkv), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(k_cache), static_cast<bf16*>(v_cache), src_slot, dst_slot, length, hkv,
      max_len, d);
  return check_launch("kv_copy_prefix");
}
