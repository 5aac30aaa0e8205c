// Small kernels the CUDA model needs between the big ones: bias add and bias gradient (Qwen2's
// q/k/v biases), the 1/tokens pre-scale of summed-loss gradients, and the fp32 log-softmax
// gather behind score(). All deterministic: the bias gradient is reduced in two fixed-order
// stages like the RMSNorm weight gradient, never with atomics.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kBiasRowsPerSplit = 256;  // rows each partial sum covers
constexpr int kGatherThreads = 256;

__global__ void bias_add_kernel(bf16* __restrict__ y, const bf16* __restrict__ bias, int rows,
                                int cols, int ld) {
  const int64_t total = static_cast<int64_t>(rows) * cols;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols;
    const int j = static_cast<int>(i % cols);
    bf16* at = y + r * ld + j;
    *at = to_bf16(to_float(*at) + to_float(bias[j]));
  }
}

// partial[s, j] = sum of dy[r, j] over the rows of split s, in row order.
__global__ void bias_grad_partial_kernel(float* __restrict__ partial, const bf16* __restrict__ dy,
                                         int rows, int cols) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  const int split = blockIdx.y;
  if (j >= cols) return;
  const int r0 = split * kBiasRowsPerSplit;
  const int r1 = min(rows, r0 + kBiasRowsPerSplit);
  float sum = 0.f;
  for (int r = r0; r < r1; ++r) sum += to_float(dy[static_cast<int64_t>(r) * cols + j]);
  partial[static_cast<int64_t>(split) * cols + j] = sum;
}

__global__ void bias_grad_reduce_kernel(float* __restrict__ dbias, const float* __restrict__ partial,
                                        int splits, int cols) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  float sum = 0.f;
  for (int s = 0; s < splits; ++s) sum += partial[static_cast<int64_t>(s) * cols + j];
  dbias[j] += sum;
}

__global__ void scale_kernel(float* __restrict__ x, int64_t n, float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] *= scale;
}

// One block per row: max, then sum of exp in fp32, then logit[target] - max - log(sum).
__global__ void __launch_bounds__(kGatherThreads)
    log_softmax_gather_kernel(float* __restrict__ out, const float* __restrict__ logits,
                              const int32_t* __restrict__ targets, int v) {
  __shared__ float scratch[32];
  const int row = blockIdx.x;
  const float* x = logits + static_cast<int64_t>(row) * v;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < v; i += blockDim.x) mx = fmaxf(mx, x[i]);
  mx = block_max(mx, scratch);
  float sum = 0.f;
  for (int i = threadIdx.x; i < v; i += blockDim.x) sum += expf(x[i] - mx);
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) {
    const int target = targets[row];
    out[row] = target < 0 || target >= v ? NAN : x[target] - mx - logf(sum);
  }
}

unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + 255) / 256;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > 65535 ? 65535 : blocks);
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_bias_add(void* y, const void* bias, int rows, int cols, int ld, void* stream) {
  if (rows <= 0 || cols <= 0 || ld < cols) return fail("bias_add: bad shape rows=%d cols=%d ld=%d", rows, cols, ld);
  bias_add_kernel<<<grid_for(static_cast<int64_t>(rows) * cols), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(y), static_cast<const bf16*>(bias), rows, cols, ld);
  return check_launch("bias_add");
}

extern "C" int64_t siked_cuda_bias_grad_partial_floats(int rows, int cols) {
  return static_cast<int64_t>((rows + kBiasRowsPerSplit - 1) / kBiasRowsPerSplit) * cols;
}

extern "C" int siked_cuda_bias_grad(float* dbias, float* partial, const void* dy, int rows, int cols,
                                    void* stream) {
  if (rows <= 0 || cols <= 0) return fail("bias_grad: bad shape rows=%d cols=%d", rows, cols);
  auto s = static_cast<cudaStream_t>(stream);
  const int splits = (rows + kBiasRowsPerSplit - 1) / kBiasRowsPerSplit;
  bias_grad_partial_kernel<<<dim3(blocks_for(cols, 128), splits), 128, 0, s>>>(
      partial, static_cast<const bf16*>(dy), rows, cols);
  if (check_launch("bias_grad (partial)")) return 1;
  bias_grad_reduce_kernel<<<blocks_for(cols, 128), 128, 0, s>>>(dbias, partial, splits, cols);
  return check_launch("bias_grad (reduce)");
}

extern "C" int siked_cuda_scale_f32(float* x, int64_t n, float scale, void* stream) {
  if (n <= 0) return fail("scale_f32: bad length %lld", static_cast<long long>(n));
  scale_kernel<<<grid_for(n), 256, 0, static_cast<cudaStream_t>(stream)>>>(x, n, scale);
  return check_launch("scale_f32");
}

extern "C" int siked_cuda_log_softmax_gather(float* out, const float* logits, const int32_t* targets,
                                             int rows, int v, void* stream) {
  if (rows <= 0 || v <= 0) return fail("log_softmax_gather: bad shape rows=%d v=%d", rows, v);
  log_softmax_gather_kernel<<<rows, kGatherThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      out, logits, targets, v);
  return check_launch("log_softmax_gather");
}
