// Times each CUDA kernel family at the SmolLM-135M training shape (16 x 1024 tokens) and at a
// self-generation decode shape (256 rows), with CUDA events (3 warm-ups, median of 20), on
// random inputs. Prints one JSON object; tools/device/torch_bench.py times the PyTorch
// equivalents at the same shapes in the same device call, so the two can be compared directly.
//
// Build: nvcc -std=c++17 -O2 -gencode arch=compute_90a,code=sm_90a \
//   -Ipackages/native-cuda/src/cpp tools/device/bench_kernels.cu packages/native-cuda/src/cuda/*.cu -ldl
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>
#include "cuda_api.h"

namespace {

// The 135M shape (shapes.json: smollm-135m) and the training micro-batch.
constexpr int kBatch = 16, kSeq = 1024, kHidden = 576, kMlp = 1536, kHeads = 9, kKvHeads = 3, kHeadDim = 64;
constexpr int kVocab = 49152;
constexpr int kTokens = kBatch * kSeq;
constexpr int64_t kParameters = 134515008;  // SmolLM-135M, tied embedding counted once
// Decode shape: 64 prompts x 4 samples, 384 cached positions of 512.
constexpr int kRows = 256, kMaxLen = 512, kLength = 384, kSplit = 128;

bool failed = false;
std::string json;

void ok(int rc, const char* what) {
  if (rc) {
    std::fprintf(stderr, "%s: %s\n", what, siked_cuda_last_error());
    failed = true;
  }
}

// cudaMalloc + a check: a failed allocation must not turn into a null pointer that a kernel then
// writes through (that would be an illegal address and poison every later figure).
template <typename T>
T* device_alloc(size_t n) {
  T* ptr = nullptr;
  if (cudaMalloc(&ptr, sizeof(T) * n) != cudaSuccess) {
    std::fprintf(stderr, "cudaMalloc of %zu bytes failed: %s\n", sizeof(T) * n, cudaGetErrorString(cudaGetLastError()));
    std::printf("{\"ok\": false, \"error\": \"cudaMalloc of %zu bytes failed\"}\n", sizeof(T) * n);
    std::exit(1);
  }
  return ptr;
}

// Normal(0, scale) data. At most kRandomBlock values are drawn on the host and the block is
// repeated on the device: drawing the 0.8G logits one by one took tens of seconds of the call,
// and a repeated random block is as good as fresh data for timing (never zeros: METHOD.md).
constexpr size_t kRandomBlock = size_t{1} << 22;
template <typename T>
T* device_random(size_t n, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<T> host(std::min(n, kRandomBlock));
  for (T& x : host) x = static_cast<T>(normal(rng));
  T* ptr = device_alloc<T>(n);
  for (size_t at = 0; at < n; at += host.size()) {
    const size_t count = std::min(host.size(), n - at);
    cudaMemcpy(ptr + at, host.data(), sizeof(T) * count, cudaMemcpyHostToDevice);
  }
  return ptr;
}

template <typename T>
T* device_filled(size_t n, T value) {
  std::vector<T> host(n, value);
  T* ptr = device_alloc<T>(n);
  cudaMemcpy(ptr, host.data(), sizeof(T) * n, cudaMemcpyHostToDevice);
  return ptr;
}

// Set once a launch fails with a sticky error (an illegal address): every later launch would fail
// too, so the rest is skipped and named instead of reported as figures.
std::string poisoned_by;

// Median ms of `body` over 20 runs after 3 warm-ups; records it with the bytes it must move at
// least (for an achieved-bandwidth figure) or the flops it does.
void time_it(const char* name, double min_bytes, double flops, const std::function<void()>& body) {
  if (!poisoned_by.empty()) {
    std::fprintf(stderr, "%-28s skipped (CUDA context lost in %s)\n", name, poisoned_by.c_str());
    failed = true;
    return;
  }
  for (int i = 0; i < 3; ++i) body();
  cudaDeviceSynchronize();
  std::vector<float> ms;
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (int i = 0; i < 20; ++i) {
    cudaEventRecord(start);
    body();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float elapsed = 0;
    cudaEventElapsedTime(&elapsed, start, stop);
    ms.push_back(elapsed);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  // Synchronise before reading the error so a fault in the last launch is charged to this name.
  cudaError_t status = cudaDeviceSynchronize();
  if (status == cudaSuccess) status = cudaGetLastError();
  if (status != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", name, cudaGetErrorString(status));
    failed = true;
    if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) poisoned_by = name;
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "%s\n  {\"name\": \"%s\", \"ms\": %.4f, \"bytes_per_s\": %.4g, \"flops_per_s\": %.4g, \"ok\": %s}",
                json.empty() ? "" : ",", name, median, min_bytes / (median / 1e3), flops / (median / 1e3),
                status == cudaSuccess ? "true" : "false");
  json += line;
  std::fprintf(stderr, "%-28s %9.3f ms\n", name, median);
}

}  // namespace

int main() {
  char error[256] = "";
  if (siked_cuda_device_count(error, sizeof error) <= 0) {
    std::printf("{\"ok\": false, \"error\": \"no CUDA device: %s\"}\n", error);
    return 2;
  }
  using bf16 = __nv_bfloat16;
  const size_t nq = size_t{kTokens} * kHeads * kHeadDim, nk = size_t{kTokens} * kKvHeads * kHeadDim;
  bf16 *q = device_random<bf16>(nq, 1, 1), *k = device_random<bf16>(nk, 1, 2), *v = device_random<bf16>(nk, 1, 3);
  bf16 *out = device_random<bf16>(nq, 1, 4), *dout = device_random<bf16>(nq, 1, 5);
  bf16 *dq = device_random<bf16>(nq, 1, 6), *dk = device_random<bf16>(nk, 1, 7), *dv = device_random<bf16>(nk, 1, 8);
  float *lse = device_random<float>(size_t{kTokens} * kHeads, 1, 9), *delta = device_random<float>(size_t{kTokens} * kHeads, 1, 10);
  const double attention_flops = 4.0 * kBatch * kHeads * kHeadDim * (double(kSeq) * kSeq / 2);  // causal
  time_it("attention_forward", 2.0 * (nq * 2 + nk * 2), attention_flops,
          [&] { ok(siked_cuda_attention_forward(out, lse, q, k, v, nullptr, kBatch, kSeq, kHeads, kKvHeads, kHeadDim, nullptr), "attn fwd"); });
  time_it("attention_backward", 2.0 * (nq * 4 + nk * 4), 2.5 * attention_flops, [&] {
    ok(siked_cuda_attention_backward(dq, dk, dv, delta, dout, out, lse, q, k, v, nullptr, kBatch, kSeq, kHeads, kKvHeads, kHeadDim, nullptr),
       "attn bwd");
  });

  const size_t nh = size_t{kTokens} * kHidden;
  bf16 *x = device_random<bf16>(nh, 1, 11), *y = device_random<bf16>(nh, 1, 12), *w = device_random<bf16>(kHidden, 1, 13);
  float *rstd = device_random<float>(kTokens, 1, 14), *dw = device_random<float>(kHidden, 1, 15);
  float* partial = device_random<float>(siked_cuda_rmsnorm_partial_floats(kTokens, kHidden), 1, 16);
  time_it("rmsnorm_forward", 2.0 * nh * 2, 0, [&] { ok(siked_cuda_rmsnorm_forward(y, rstd, x, w, kTokens, kHidden, 1e-5f, nullptr), "rms fwd"); });
  time_it("rmsnorm_backward", 2.0 * nh * 3, 0, [&] {
    ok(siked_cuda_rmsnorm_backward(y, dw, partial, x, nullptr, x, w, rstd, kTokens, kHidden, nullptr), "rms bwd");
  });

  // gate_up is the fused [tokens, 2f] gate|up activation, hidden the [tokens, f] SwiGLU output,
  // w_gate_up the fused [2f, h] weight (nn.Linear layout, used transposed).
  const size_t nf = size_t{kTokens} * kMlp;
  bf16 *gate_up = device_random<bf16>(2 * nf, 1, 17), *hidden = device_random<bf16>(nf, 1, 18);
  bf16* w_gate_up = device_random<bf16>(size_t{2} * kMlp * kHidden, 0.02f, 30);
  time_it("swiglu_forward", 2.0 * nf * 3, 0, [&] { ok(siked_cuda_swiglu_forward(hidden, gate_up, gate_up + kMlp, kTokens, kMlp, 2 * kMlp, nullptr), "swiglu fwd"); });
  time_it("swiglu_backward", 2.0 * nf * 5, 0, [&] {
    ok(siked_cuda_swiglu_backward(gate_up, gate_up + kMlp, hidden, gate_up, gate_up + kMlp, kTokens, kMlp, 2 * kMlp, nullptr), "swiglu bwd");
  });

  SikedBlas* blas = nullptr;
  if (siked_cuda_blas_create(&blas, nullptr) == 0) {
    // gate_up[tokens, 2f] = x[tokens, h] w_gate_up[2f, h]^T: the output is the [tokens, 2f] buffer
    // (an earlier version wrote it into the [tokens, f] `hidden` and read an activation as the
    // weight: an out-of-bounds write).
    time_it("gemm_gate_up_forward", 2.0 * (nh + 2 * kMlp * kHidden + 2 * nf), 2.0 * kTokens * kHidden * 2 * kMlp, [&] {
      ok(siked_cuda_gemm(blas, 0, 1, kTokens, 2 * kMlp, kHidden, 1.f, x, kHidden, w_gate_up, kHidden, 0.f, gate_up, 2 * kMlp, 0),
         "gemm");
    });
  } else {
    std::fprintf(stderr, "gemm skipped: %s\n", siked_cuda_last_error());
    failed = true;
  }

  const size_t nlogits = size_t{kTokens} * kVocab;
  bf16* logits = device_random<bf16>(nlogits, 2, 19);
  std::vector<int32_t> host_targets(kTokens);
  for (int i = 0; i < kTokens; ++i) host_targets[i] = (i * 7919) % kVocab;
  int32_t* targets = device_alloc<int32_t>(kTokens);
  cudaMemcpy(targets, host_targets.data(), sizeof(int32_t) * kTokens, cudaMemcpyHostToDevice);
  float* loss = device_random<float>(kTokens, 1, 20);
  // write_grad = 0 so every repetition sees logits, not gradients (the gradient pass adds one
  // more read + write of the logits; the bytes below are the forward's).
  time_it("cross_entropy_loss_only", 2.0 * nlogits, 0, [&] { ok(siked_cuda_cross_entropy(logits, loss, targets, kTokens, kVocab, 1.f / kTokens, 0, nullptr), "ce"); });

  float* dtable = device_random<float>(size_t{kVocab} * kHidden, 1, 21);
  time_it("embedding_backward", 2.0 * nh + 4.0 * nh * 2, 0, [&] { ok(siked_cuda_embedding_backward(dtable, x, targets, kTokens, kHidden, kVocab, nullptr), "emb bwd"); });

  float *param = device_random<float>(kParameters, 0.02f, 22), *grad = device_random<float>(kParameters, 1e-3f, 23);
  float *m = device_filled<float>(kParameters, 0.f), *vv = device_filled<float>(kParameters, 0.f);
  bf16* copy = device_random<bf16>(kParameters, 1, 24);
  SikedAdamTensor tensor{param, grad, m, vv, copy, kParameters, 0.1f};
  SikedAdamPlan* plan = nullptr;
  ok(siked_cuda_adam_plan_create(&plan, &tensor, 1), "adam plan");
  float *norm = device_filled<float>(1, 0.f), *clip = device_filled<float>(1, 1.f);
  int step = 1;
  if (plan)
    time_it("grad_norm_and_adamw_135m", double(kParameters) * (4 * 4 + 4 * 3 + 2), 0, [&] {
      ok(siked_cuda_grad_norm(plan, norm, clip, 1.f, nullptr), "norm");
      ok(siked_cuda_adamw_step(plan, 1e-4f, 0.9f, 0.999f, 1e-8f, step++, clip, nullptr), "adamw");
    });

  const size_t cache_n = size_t{kRows} * kKvHeads * kMaxLen * kHeadDim;
  bf16 *k_cache = device_random<bf16>(cache_n, 1, 25), *v_cache = device_random<bf16>(cache_n, 1, 26);
  // One query token per row: q1 [rows, hq, d] in, out1 [rows, hq, d] out.
  bf16 *q1 = device_random<bf16>(size_t{kRows} * kHeads * kHeadDim, 1, 27), *out1 = device_random<bf16>(size_t{kRows} * kHeads * kHeadDim, 1, 28);
  std::vector<int32_t> slots(kRows);
  for (int i = 0; i < kRows; ++i) slots[i] = i;
  int32_t *slot = device_alloc<int32_t>(kRows), *length = device_filled<int32_t>(kRows, kLength);
  cudaMemcpy(slot, slots.data(), sizeof(int32_t) * kRows, cudaMemcpyHostToDevice);
  float* scratch = device_filled<float>(siked_cuda_decode_scratch_floats(kRows, kHeads, kHeadDim, kMaxLen, kSplit), 0.f);
  time_it("decode_attention_256x384", 2.0 * kRows * kKvHeads * kLength * kHeadDim * 2, 0, [&] {
    ok(siked_cuda_decode_attention(out1, q1, k_cache, v_cache, slot, length, kRows, kHeads, kKvHeads, kMaxLen, kHeadDim, kSplit, scratch, nullptr),
       "decode");
  });

  float* sample_logits = device_random<float>(size_t{kRows} * kVocab, 2, 29);
  float *temperature = device_filled<float>(kRows, 0.7f), *top_p = device_filled<float>(kRows, 0.95f);
  int32_t *top_k = device_filled<int32_t>(kRows, 0), *token = device_filled<int32_t>(kRows, 0);
  uint64_t *seed = device_filled<uint64_t>(kRows, 42), *counter = device_filled<uint64_t>(kRows, 0);
  float* logprob = device_filled<float>(kRows, 0.f);
  time_it("sample_top_p_256x49152", 4.0 * kRows * kVocab, 0, [&] {
    ok(siked_cuda_sample(token, logprob, sample_logits, kRows, kVocab, temperature, top_k, top_p, seed, counter, nullptr), "sample");
  });
  cudaMemcpy(temperature, std::vector<float>(kRows, 0.f).data(), sizeof(float) * kRows, cudaMemcpyHostToDevice);
  time_it("sample_greedy_256x49152", 4.0 * kRows * kVocab, 0, [&] {
    ok(siked_cuda_sample(token, logprob, sample_logits, kRows, kVocab, temperature, top_k, top_p, seed, counter, nullptr), "sample");
  });

  char name[256] = "";
  int major = 0, minor = 0;
  siked_cuda_device_name(0, name, sizeof name, &major, &minor);
  std::printf("{\"ok\": %s, \"device\": \"%s\", \"context_lost_in\": \"%s\", \"kernels\": [%s\n]}\n", failed ? "false" : "true",
              name, poisoned_by.c_str(), json.c_str());
  siked_cuda_blas_destroy(blas);
  siked_cuda_adam_plan_destroy(plan);
  return failed ? 1 : 0;
}
