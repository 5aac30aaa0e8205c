// Masked cross-entropy over the vocabulary, fused with its gradient. The logits stay bf16: one
// pass reads them to get each row's max and log-sum-exp (online, per thread, then merged across
// the block), a second pass overwrites them in place with the bf16 gradient. No fp32 [rows, V]
// copy is ever made, which for a 49k vocabulary at 8k tokens saves 1.6 GB.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kThreads = 512;

__global__ void __launch_bounds__(kThreads)
    cross_entropy_kernel(bf16* logits, float* __restrict__ loss, const int32_t* __restrict__ targets,
                         int v, float grad_scale, int write_grad) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  bf16* row_logits = logits + row * v;
  const int target = targets[row];
  if (target < 0) {  // not trained: no loss, zero gradient
    if (threadIdx.x == 0) loss[row] = 0.f;
    if (write_grad)
      for (int i = threadIdx.x; i < v; i += blockDim.x) row_logits[i] = to_bf16(0.f);
    return;
  }
  // Read before the gradient pass overwrites it; block_* below synchronise first.
  const float target_logit = to_float(row_logits[target]);
  float thread_max = -INFINITY, thread_sum = 0.f;
  for (int i = threadIdx.x; i < v; i += blockDim.x) {
    const float x = to_float(row_logits[i]);
    if (x > thread_max) {
      thread_sum = thread_sum * __expf(thread_max - x) + 1.f;
      thread_max = x;
    } else {
      thread_sum += __expf(x - thread_max);
    }
  }
  const float row_max = block_max(thread_max, scratch);
  const float scaled = thread_max == -INFINITY ? 0.f : thread_sum * __expf(thread_max - row_max);
  const float lse = row_max + logf(block_sum(scaled, scratch));
  if (threadIdx.x == 0) loss[row] = lse - target_logit;
  if (!write_grad) return;
  for (int i = threadIdx.x; i < v; i += blockDim.x) {
    const float p = __expf(to_float(row_logits[i]) - lse);
    row_logits[i] = to_bf16(grad_scale * (p - (i == target ? 1.f : 0.f)));
  }
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_cross_entropy(void* logits, float* loss, const int32_t* targets, int rows,
                                        int v, float grad_scale, int write_grad, void* stream) {
  if (rows <= 0 || v <= 0) return fail("cross_entropy: bad shape rows=%d v=%d", rows, v);
  cross_entropy_kernel<<<rows, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(logits), loss, targets, v, grad_scale, write_grad);
  return check_launch("cross_entropy");
}
