// Shared helpers of the CUDA kernels: bf16 conversion, warp/block reductions, and the error
// channel of the C API (a thread-local message read back with siked_cuda_last_error).
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cstdint>
#include <cstdio>

namespace siked {

using bf16 = __nv_bfloat16;

// Records `message` as this thread's last error and returns 1, so C API functions can
// `return fail(...)`.
int fail(const char* format, ...);

// Checks the launch just made (configuration errors surface here; execution errors surface at
// the next synchronising call). Returns 0 or records an error naming `what`.
int check_launch(const char* what);

// Returns 0 when `status` is cudaSuccess, else records "<what>: <cuda error text>".
int check_cuda(cudaError_t status, const char* what);

__device__ __forceinline__ float to_float(bf16 x) { return __bfloat162float(x); }
__device__ __forceinline__ bf16 to_bf16(float x) { return __float2bfloat16_rn(x); }

__device__ __forceinline__ float warp_sum(float value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

__device__ __forceinline__ float warp_max(float value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1)
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

// Block-wide sum; every thread gets the result. `scratch` holds at least 32 floats. blockDim.x
// must be a multiple of 32.
__device__ __forceinline__ float block_sum(float value, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  value = warp_sum(value);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = lane < warps ? scratch[lane] : 0.f;
  return warp_sum(value);
}

__device__ __forceinline__ float block_max(float value, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  value = warp_max(value);
  __syncthreads();
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(value);
}

inline unsigned blocks_for(int64_t work, int per_block) {
  int64_t blocks = (work + per_block - 1) / per_block;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

}  // namespace siked
