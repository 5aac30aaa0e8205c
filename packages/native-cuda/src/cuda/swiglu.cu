// SwiGLU of the Llama MLP: h = silu(gate) * up, and its backward. Elementwise, fp32 arithmetic.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + __expf(-x)); }

__global__ void swiglu_forward_kernel(bf16* __restrict__ h, const bf16* __restrict__ gate,
                                      const bf16* __restrict__ up, int rows, int f, int ld_in) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * f) return;
  const int64_t row = i / f, col = i % f, in = row * ld_in + col;
  const float g = to_float(gate[in]);
  h[i] = to_bf16(g * sigmoid(g) * to_float(up[in]));
}

// d/dg [g s(g) u] = u s(g) (1 + g (1 - s(g))); d/du = g s(g).
__global__ void swiglu_backward_kernel(bf16* dgate, bf16* dup, const bf16* __restrict__ dh,
                                       const bf16* gate, const bf16* up, int rows, int f, int ld_in) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * f) return;
  const int64_t row = i / f, col = i % f, in = row * ld_in + col;
  const float g = to_float(gate[in]), u = to_float(up[in]), dy = to_float(dh[i]);
  const float s = sigmoid(g);
  // Reads happen before writes, so dgate/dup may alias gate/up (in-place backward).
  dgate[in] = to_bf16(dy * u * s * (1.f + g * (1.f - s)));
  dup[in] = to_bf16(dy * g * s);
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_swiglu_forward(void* h, const void* gate, const void* up, int rows, int f,
                                         int ld_in, void* stream) {
  if (rows <= 0 || f <= 0 || ld_in < f)
    return fail("swiglu_forward: bad shape rows=%d f=%d ld_in=%d", rows, f, ld_in);
  swiglu_forward_kernel<<<blocks_for(static_cast<int64_t>(rows) * f, 256), 256, 0,
                          static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(h), static_cast<const bf16*>(gate), static_cast<const bf16*>(up), rows, f,
      ld_in);
  return check_launch("swiglu_forward");
}

extern "C" int siked_cuda_swiglu_backward(void* dgate, void* dup, const void* dh, const void* gate,
                                          const void* up, int rows, int f, int ld_in, void* stream) {
  if (rows <= 0 || f <= 0 || ld_in < f)
    return fail("swiglu_backward: bad shape rows=%d f=%d ld_in=%d", rows, f, ld_in);
  swiglu_backward_kernel<<<blocks_for(static_cast<int64_t>(rows) * f, 256), 256, 0,
                           static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(dgate), static_cast<bf16*>(dup), static_cast<const bf16*>(dh),
      static_cast<const bf16*>(gate), static_cast<const bf16*>(up), rows, f, ld_in);
  return check_launch("swiglu_backward");
}
