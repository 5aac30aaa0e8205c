// Multi-tensor AdamW and the global gradient norm. All parameter tensors are described once in a
// table on the device and cut into fixed-size chunks, so one launch updates every tensor and the
// norm is reduced in two deterministic stages (one partial per chunk, then a single block).
// The clip factor stays on the device and AdamW reads it there: a step never waits on the host.
#include <cmath>
#include <vector>
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int64_t kChunkElements = 65536;
constexpr int kThreads = 256;
constexpr int kReduceThreads = 1024;

struct Chunk {
  int tensor;
  int64_t begin, end;
};

__global__ void grad_sum_squares_kernel(float* __restrict__ partial, const SikedAdamTensor* tensors,
                                        const Chunk* __restrict__ chunks) {
  __shared__ float scratch[32];
  const Chunk chunk = chunks[blockIdx.x];
  const float* grad = tensors[chunk.tensor].grad;
  float sum = 0.f;
  for (int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) sum += grad[i] * grad[i];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

__global__ void grad_norm_finish_kernel(float* __restrict__ norm, float* __restrict__ clip_scale,
                                        const float* __restrict__ partial, int count, float max_norm) {
  __shared__ float scratch[32];
  // Each thread sums its partials in double: adding ~10^4 partials of similar size in fp32
  // would lose digits; the final 1024-way tree is short enough for fp32.
  double sum = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) sum += partial[i];
  const float total = block_sum(static_cast<float>(sum), scratch);
  if (threadIdx.x == 0) {
    const float value = sqrtf(total);
    norm[0] = value;
    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to 1.
    clip_scale[0] = max_norm > 0.f ? fminf(1.f, max_norm / (value + 1e-6f)) : 1.f;
  }
}

struct AdamConstants {
  float lr, beta1, beta2, eps, step_size, inv_sqrt_bias2;
};

__global__ void adamw_kernel(const SikedAdamTensor* tensors, const Chunk* __restrict__ chunks,
                             AdamConstants k, const float* __restrict__ clip_scale) {
  const Chunk chunk = chunks[blockIdx.x];
  const SikedAdamTensor t = tensors[chunk.tensor];
  const float scale = clip_scale ? clip_scale[0] : 1.f;
  const float decay = 1.f - k.lr * t.weight_decay;
  bf16* copy = static_cast<bf16*>(t.param_bf16);
  for (int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) {
    const float g = t.grad[i] * scale;
    const float m = k.beta1 * t.m[i] + (1.f - k.beta1) * g;
    const float v = k.beta2 * t.v[i] + (1.f - k.beta2) * g * g;
    t.m[i] = m;
    t.v[i] = v;
    // PyTorch AdamW: p *= 1 - lr*wd; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
    const float p = t.param[i] * decay - k.step_size * m / (sqrtf(v) * k.inv_sqrt_bias2 + k.eps);
    t.param[i] = p;
    if (copy) copy[i] = to_bf16(p);
  }
}

}  // namespace
}  // namespace siked

using namespace siked;

struct SikedAdamPlan {
  SikedAdamTensor* tensors = nullptr;  // device
  Chunk* chunks = nullptr;             // device
  float* partial = nullptr;            // device, one per chunk
  int chunk_count = 0;
};

extern "C" void siked_cuda_adam_plan_destroy(SikedAdamPlan* plan) {
  if (!plan) return;
  cudaFree(plan->tensors);
  cudaFree(plan->chunks);
  cudaFree(plan->partial);
  delete plan;
}

extern "C" int siked_cuda_adam_plan_create(SikedAdamPlan** out, const SikedAdamTensor* tensors,
                                           int count) {
  *out = nullptr;
  if (count <= 0) return fail("adam_plan_create: no tensors");
  std::vector<Chunk> chunks;
  for (int t = 0; t < count; ++t) {
    if (tensors[t].n <= 0 || !tensors[t].param || !tensors[t].grad || !tensors[t].m || !tensors[t].v)
      return fail("adam_plan_create: tensor %d has n=%lld or a null pointer", t,
                  static_cast<long long>(tensors[t].n));
    for (int64_t begin = 0; begin < tensors[t].n; begin += kChunkElements)
      chunks.push_back({t, begin, begin + kChunkElements < tensors[t].n ? begin + kChunkElements : tensors[t].n});
  }
  auto* plan = new SikedAdamPlan();
  plan->chunk_count = static_cast<int>(chunks.size());
  if (check_cuda(cudaMalloc(&plan->tensors, sizeof(SikedAdamTensor) * count), "adam plan") ||
      check_cuda(cudaMalloc(&plan->chunks, sizeof(Chunk) * chunks.size()), "adam plan") ||
      check_cuda(cudaMalloc(&plan->partial, sizeof(float) * chunks.size()), "adam plan") ||
      check_cuda(cudaMemcpy(plan->tensors, tensors, sizeof(SikedAdamTensor) * count,
                            cudaMemcpyHostToDevice), "adam plan upload") ||
      check_cuda(cudaMemcpy(plan->chunks, chunks.data(), sizeof(Chunk) * chunks.size(),
                            cudaMemcpyHostToDevice), "adam plan upload")) {
    siked_cuda_adam_plan_destroy(plan);
    return 1;
  }
  *out = plan;
  return 0;
}

extern "C" int siked_cuda_grad_norm(SikedAdamPlan* plan, float* norm_device, float* clip_scale_device,
                                    float max_norm, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  grad_sum_squares_kernel<<<plan->chunk_count, kThreads, 0, s>>>(plan->partial, plan->tensors, plan->chunks);
  if (check_launch("grad_norm (partial sums)")) return 1;
  grad_norm_finish_kernel<<<1, kReduceThreads, 0, s>>>(norm_device, clip_scale_device, plan->partial,
                                                       plan->chunk_count, max_norm);
  return check_launch("grad_norm (finish)");
}

extern "C" int siked_cuda_adamw_step(SikedAdamPlan* plan, float lr, float beta1, float beta2,
                                     float eps, int step, const float* clip_scale_device,
                                     void* stream) {
  if (step < 1) return fail("adamw_step: step must start at 1 (got %d)", step);
  const double bias1 = 1.0 - std::pow(static_cast<double>(beta1), step);
  const double bias2 = 1.0 - std::pow(static_cast<double>(beta2), step);
  AdamConstants k{lr, beta1, beta2, eps, static_cast<float>(lr / bias1),
                  static_cast<float>(1.0 / std::sqrt(bias2))};
  adamw_kernel<<<plan->chunk_count, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      plan->tensors, plan->chunks, k, clip_scale_device);
  return check_launch("adamw_step");
}
