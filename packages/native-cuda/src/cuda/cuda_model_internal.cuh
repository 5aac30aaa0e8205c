// Private layout of the CUDA model, shared by cuda_model.cu (construction, parameters, training)
// and cuda_inference.cu (logits, score, generate).
//
// Memory plan: one fp32 master slab and one bf16 copy laid out exactly like the CPU engine's
// parameter slab (same offsets), fp32 gradients and AdamW moments beside them (released under
// LoRA), the same four for the LoRA adapter slab, a grow-only training arena for one (B, T),
// a grow-only inference arena for a packed batch of rows, and one KV cache. A host LlamaModel
// mirrors the tables and holds the fp32 copy that get/set_parameter and save read and write.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cuda_api.h"
#include "cuda_model.h"
#include "llama_model.h"

namespace siked {

// Throws std::runtime_error("CUDA backend: <what>: <last C API error>") when rc != 0.
void cuda_check(int rc, const char* what);
// Throws with the CUDA runtime's text when status is not cudaSuccess.
void cuda_check_status(cudaError_t status, const char* what);

// One cudaMalloc'd block, freed on destruction. grow() keeps the block when it is big enough.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }
  // Allocates exactly `bytes` (freeing what was held); out of memory throws a message naming
  // `what`, the size and the device's free memory.
  void allocate(size_t bytes, const char* what);
  void grow(size_t bytes, const char* what) {
    if (bytes > bytes_) allocate(bytes, what);
  }
  void release();
  void swap(DeviceBuffer& other) {
    std::swap(ptr_, other.ptr_);
    std::swap(bytes_, other.bytes_);
  }
  bool empty() const { return ptr_ == nullptr; }
  size_t bytes() const { return bytes_; }
  template <typename T = void>
  T* get() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Hands out 256-byte aligned pieces of one block: a first pass with base == nullptr only counts.
class ArenaCarver {
 public:
  explicit ArenaCarver(char* base) : base_(base) {}
  template <typename T>
  T* take(int64_t count) {
    const size_t at = used_;
    used_ += (size_t(count) * sizeof(T) + 255) & ~size_t(255);
    return base_ ? reinterpret_cast<T*>(base_ + at) : nullptr;
  }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_ = 0;
};

// One parameter slab on the device (the base weights, or the LoRA adapters): fp32 masters and the
// bf16 copy the kernels read, plus fp32 gradients and AdamW moments while it is the trained one.
struct DeviceSlab {
  DeviceBuffer master, half, grad, m, v;
  size_t size = 0;  // floats
  bool trained() const { return !grad.empty(); }
  // Allocates the masters and copies for `n` floats and uploads `host` into both.
  void load(const std::vector<float>& host, cudaStream_t stream, const char* what);
  // Downloads the masters into `host` (same size).
  void store(std::vector<float>& host, const char* what) const;
  // Zeroed gradients and moments: the slab becomes trainable.
  void start_training(cudaStream_t stream, const char* what);
  void stop_training() { grad.release(), m.release(), v.release(); }
  void release() { master.release(), half.release(), stop_training(), size = 0; }
};

struct CudaTrainActivations;
struct CudaInferenceBuffers;

class CudaModel final : public ModelBackend {
 public:
  CudaModel(const LlamaConfig& config, uint64_t seed, bool random_init);
  ~CudaModel() override;

  const char* device_name() const override { return "cuda"; }
  const LlamaConfig& config() const override { return host_->config(); }
  const std::vector<TensorEntry>& parameters() const override { return host_->parameters(); }
  const std::vector<TensorEntry>& lora_parameters() const override { return host_->lora_parameters(); }
  int64_t parameter_count() const override { return host_->parameter_count(); }

  std::vector<float> get_parameter(const std::string& name) const override;
  void set_parameter(const std::string& name, const float* data, size_t count) override;
  std::vector<float> get_gradient(const std::string& name) const override;
  std::vector<float> merged_parameter(const std::string& name) const override;
  void enable_lora(const LoraSpec& spec) override;
  void merge_lora() override;
  void configure_optimizer(const AdamWOptions& options) override;
  // bf16 tensor cores whatever is asked (the name is still checked).
  std::string set_precision(const std::string& precision) override;

  std::pair<double, int64_t> accumulate(const int32_t* tokens, const uint8_t* mask, int B, int T,
                                        const int32_t* positions = nullptr) override;
  StepStats step(float learning_rate) override;

  std::vector<float> logits(const int32_t* tokens, int B, int T) override;
  std::vector<std::vector<float>> score(const std::vector<std::vector<int32_t>>& sequences) override;
  std::vector<GenerationResult> generate(const std::vector<std::vector<int32_t>>& prompts,
                                         const SampleSpec& spec) override;

 private:
  using Linear = LlamaModel::Linear;
  bool lora_enabled() const { return host_->lora_rank() > 0; }
  // The table entry of a base or adapter tensor; throws std::invalid_argument for unknown names.
  const TensorEntry& find_tensor(const std::string& name, bool* is_lora) const;
  // bf16 copy of a base tensor at a slab offset (in elements), and of an adapter tensor.
  void* half(size_t offset) const { return base_.half.get<char>() + offset * 2; }
  void* lora_half(size_t offset) const { return lora_.half.get<char>() + offset * 2; }
  float* grad(size_t offset) const { return base_.trained() ? base_.grad.get<float>() + offset : nullptr; }
  DeviceSlab& trained_slab() { return lora_enabled() ? lora_ : base_; }

  void refresh_host() const;  // downloads what training changed since the last read
  void ensure_training_state();
  void rebuild_optimizer_plan();

  // Matrix helpers over one projection. y (rows ld_y apart) = x W^T (+ bias) (+ LoRA), or
  // y += ... when accumulate; mid receives scale * x A^T when the projection has an adapter.
  void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const void* a, int lda,
            const void* b, int ldb, float beta, void* c, int ldc, bool c_fp32, const char* what);
  void linear_forward(void* y, int ld_y, bool accumulate, void* mid, const void* x, int rows,
                      const Linear& lin);
  // The adapter and bias parts alone (the base GEMM may be fused with a neighbour's).
  void linear_extras_forward(void* y, int ld_y, void* mid, const void* x, int rows, const Linear& lin);
  // dx (+)= dy W (+ LoRA); dW, db, dA, dB accumulated when trained. dy rows are ld_dy apart.
  void linear_backward(void* dx, bool accumulate, const void* dy, int ld_dy, const void* x,
                       const void* mid, int rows, const Linear& lin, bool base_gemms = true);

  void forward_train(int B, int T);
  void backward_train(int B, int T);

  // Packed cached forward over M rows (token, slot, position) already uploaded to the inference
  // arena; writes fp32 logits of the R gathered rows to the arena's logits buffer.
  void forward_cached(int M, int R, int max_len);
  // Sizes the inference arena for M rows / R logit rows and the KV cache for slots x max_len.
  void prepare_inference(int M, int R, int slots, int max_len);
  // Layer `layer`'s keys and values in the KV cache shaped (L, 2, slots, KV, max_len, hd).
  void kv_layer(int layer, int max_len, char** k, char** v) const;

  std::unique_ptr<LlamaModel> host_;  // tables, layout, init and the host fp32 copies
  mutable bool host_params_stale_ = false, host_lora_stale_ = false;
  cudaStream_t stream_ = nullptr;
  SikedBlas* blas_ = nullptr;
  DeviceSlab base_, lora_;
  DeviceBuffer scalars_;  // [0] grad norm, [1] clip factor
  SikedAdamPlan* plan_ = nullptr;
  AdamWOptions adam_;
  int64_t adam_step_ = 0;
  double accumulated_loss_ = 0;
  int64_t accumulated_tokens_ = 0;
  std::unique_ptr<CudaTrainActivations> train_;
  std::unique_ptr<CudaInferenceBuffers> infer_;
  DeviceBuffer kv_;  // (L, 2, slots, KV, max_len, hd) bf16
  int kv_slots_ = 0;  // the KV cache's current (slots, ...) shape: its layer stride
};

// Training activations of one (B, T), carved from one grow-only block.
struct CudaTrainActivations {
  struct Layer {
    void *x_in, *ln1, *q, *k, *v, *atty, *resid_mid, *ln2, *gu, *h;
    float *rstd1, *rstd2, *lse;
    void* lora_mid[kProjectionCount];
  };
  int B = 0, T = 0, lora_rank = 0;
  DeviceBuffer block;
  std::vector<Layer> layers;
  void *resid_out = nullptr, *lnf = nullptr, *logits = nullptr;
  float *rstdf = nullptr, *loss = nullptr;
  int32_t *tokens = nullptr, *targets = nullptr, *positions = nullptr;
  bool packed = false;  // positions are packed rows' (attention masked per document), not 0..T-1
  // Backward scratch, reused by every layer.
  void *dresid, *dln, *dq, *dk, *dv, *datty, *dgu, *dh, *lora_scratch;
  float *delta, *norm_partial, *bias_partial;
  std::vector<float> host_loss;
  std::vector<int32_t> host_ints;  // tokens, targets, positions
};

// Buffers of one packed inference forward, grown to the largest shape seen.
struct CudaInferenceBuffers {
  int capacity_rows = 0, capacity_logit_rows = 0, capacity_len = 0;  // what `block` is carved for
  DeviceBuffer block;
  void *x, *ln, *q, *k, *v, *atty, *gu, *h, *lora_mid, *gathered, *normed;
  float *rstd, *logits, *decode_scratch, *gathered_logprobs;
  // Per-row inputs, uploaded together from `staging`: tokens, slots, positions, lengths (M each),
  // logit_rows, targets (R each), then 64-bit seeds and counters (R each).
  DeviceBuffer inputs;
  std::vector<char> staging;
  int32_t *tokens, *slots, *positions, *lengths, *logit_rows, *targets;
  uint64_t *seeds, *counters;
  // Sampling: per-row settings and outputs.
  DeviceBuffer sampling;
  float *temperature, *top_p, *sampled_logprob;
  int32_t *top_k, *sampled_token;
};

}  // namespace siked
