// bf16 <-> fp32 conversions (master weights to their bf16 compute copy, and back for saving).
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

__global__ void f32_to_bf16_kernel(bf16* __restrict__ out, const float* __restrict__ in, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = to_bf16(in[i]);
}

__global__ void bf16_to_f32_kernel(float* __restrict__ out, const bf16* __restrict__ in, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = to_float(in[i]);
}

// A grid-stride loop over at most this many blocks keeps the launch small for huge tensors.
constexpr unsigned kMaxBlocks = 4096;

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_cast_f32_to_bf16(void* out, const float* in, int64_t n, void* stream) {
  if (n <= 0) return n == 0 ? 0 : fail("cast_f32_to_bf16: negative length %lld", (long long)n);
  unsigned blocks = blocks_for(n, 256);
  f32_to_bf16_kernel<<<blocks < kMaxBlocks ? blocks : kMaxBlocks, 256, 0,
                       static_cast<cudaStream_t>(stream)>>>(static_cast<bf16*>(out), in, n);
  return check_launch("cast_f32_to_bf16");
}

extern "C" int siked_cuda_cast_bf16_to_f32(float* out, const void* in, int64_t n, void* stream) {
  if (n <= 0) return n == 0 ? 0 : fail("cast_bf16_to_f32: negative length %lld", (long long)n);
  unsigned blocks = blocks_for(n, 256);
  bf16_to_f32_kernel<<<blocks < kMaxBlocks ? blocks : kMaxBlocks, 256, 0,
                       static_cast<cudaStream_t>(stream)>>>(out, static_cast<const bf16*>(in), n);
  return check_launch("cast_bf16_to_f32");
}
