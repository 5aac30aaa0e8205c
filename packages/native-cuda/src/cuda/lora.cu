// LoRA merge: folds an adapter into its base weight, W += (alpha / r) * B A. The adapter forward
// and backward are plain matrix products (siked_cuda_gemm); only the merge needs its own kernel.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

__global__ void lora_merge_kernel(float* __restrict__ weight, const float* __restrict__ a,
                                  const float* __restrict__ b, int out_features, int in_features,
                                  int rank, float scale) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(out_features) * in_features) return;
  const int64_t row = i / in_features, col = i % in_features;
  float sum = 0.f;
  for (int r = 0; r < rank; ++r) sum += b[row * rank + r] * a[static_cast<int64_t>(r) * in_features + col];
  weight[i] += scale * sum;
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_lora_merge(float* weight, const float* a, const float* b, int out_features,
                                     int in_features, int rank, float scale, void* stream) {
  if (out_features <= 0 || in_features <= 0 || rank <= 0)
    return fail("lora_merge: bad shape out=%d in=%d rank=%d", out_features, in_features, rank);
  lora_merge_kernel<<<blocks_for(static_cast<int64_t>(out_features) * in_features, 256), 256, 0,
                      static_cast<cudaStream_t>(stream)>>>(weight, a, b, out_features, in_features,
                                                           rank, scale);
  return check_launch("lora_merge");
}
