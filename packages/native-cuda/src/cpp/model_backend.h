// The engine's model interface, implemented by the CPU engine (LlamaModel) and the CUDA backend
// (CudaModel). The binding holds one of these; both take and return fp32 host data with the same
// HF/PEFT tensor names, so a checkpoint written from one device loads on the other.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llama_config.h"

namespace siked {

// One named tensor inside a slab.
struct TensorEntry {
  std::string name;             // HF (or PEFT, for adapters) tensor name
  std::vector<int64_t> shape;
  size_t offset = 0;            // in floats, from the slab start
  size_t numel = 0;
};

// The seven projections LoRA can adapt, in HF order.
enum Projection { kQ = 0, kK, kV, kO, kGate, kUp, kDown, kProjectionCount };
const char* projection_name(int projection);  // "q_proj", ...

struct AdamWOptions {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.f;
  float max_grad_norm = 0.f;  // <= 0: no clipping
};

struct LoraSpec {
  int rank = 16;
  float alpha = 32.f;
  bool targets[kProjectionCount] = {};
  uint64_t seed = 0;
};

struct StepStats {
  double loss = 0;       // mean over masked tokens accumulated since the last step
  double grad_norm = 0;  // global L2 norm before clipping
  int64_t tokens = 0;
};

enum class DecodeWeights { Fp32, Bf16, Int8 };

struct SampleSpec {
  int max_new_tokens = 16;
  float temperature = 0.f;  // 0: greedy
  int top_k = 0;            // 0: off
  float top_p = 1.f;        // 1: off
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;
  int num_samples = 1;
  // CPU engine: what decode steps (up to kWeightBoundRows = 8 rows) read the projection and head weights from:
  // float32, bfloat16 copies (half the bytes), or int8 copies quantized per row (a quarter).
  // Products and sums stay float32 and the prefill keeps float32. The CUDA backend computes in
  // bf16 anyway and ignores it.
  DecodeWeights weights = DecodeWeights::Fp32;
};

struct GenerationResult {
  int prompt_index = 0, sample_index = 0;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  bool stopped = false;
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual const char* device_name() const = 0;  // "cpu" or "cuda"
  virtual const LlamaConfig& config() const = 0;
  virtual const std::vector<TensorEntry>& parameters() const = 0;
  virtual const std::vector<TensorEntry>& lora_parameters() const = 0;
  virtual int64_t parameter_count() const = 0;

  // Copies of a tensor (base or adapter name). Throws std::invalid_argument for unknown names or
  // a wrong element count.
  virtual std::vector<float> get_parameter(const std::string& name) const = 0;
  virtual void set_parameter(const std::string& name, const float* data, size_t count) = 0;
  // Gradient of the mean loss over the tokens accumulated so far (zeros before any accumulate).
  virtual std::vector<float> get_gradient(const std::string& name) const = 0;
  // A base weight with the LoRA update folded in (W + scale * B A); equals get_parameter otherwise.
  virtual std::vector<float> merged_parameter(const std::string& name) const = 0;

  virtual void enable_lora(const LoraSpec& spec) = 0;
  virtual void merge_lora() = 0;
  virtual void configure_optimizer(const AdamWOptions& options) = 0;
  // The precision of the model's matrix multiplies: "fp32" or "bf16" (mixed precision: bf16
  // operands, float32 accumulation, float32 master weights, gradients and optimizer state).
  // Returns what runs: on the CPU engine the GEMM kernel ("amx", "avx512bf16", or a float32
  // kernel when the CPU has no bf16 instructions); the CUDA backend computes in bf16 whatever
  // is asked and returns "cuda-bf16". Throws std::invalid_argument for any other name.
  virtual std::string set_precision(const std::string& precision) = 0;

  // Training. tokens/mask: (B, T); mask[b,t] = 1 trains on predicting tokens[b,t] from its prefix.
  // positions: (B, T) position ids for packed rows (several documents back to back), or nullptr
  // for one document per row (positions 0..T-1). A position of 0 starts a document; token t then
  // attends to keys t - positions[t] .. t only (block-diagonal causal mask), RoPE uses
  // positions[t], and no token is trained on predicting the first token of the next document.
  // Returns the summed loss and the number of masked tokens of this micro-batch.
  virtual std::pair<double, int64_t> accumulate(const int32_t* tokens, const uint8_t* mask, int B, int T,
                                                const int32_t* positions = nullptr) = 0;
  virtual StepStats step(float learning_rate) = 0;

  // Forward only: logits (B, T, V).
  virtual std::vector<float> logits(const int32_t* tokens, int B, int T) = 0;
  // Per-token log p(seq[i] | seq[<i]) for each sequence; entry 0 is NaN.
  virtual std::vector<std::vector<float>> score(const std::vector<std::vector<int32_t>>& sequences) = 0;
  virtual std::vector<GenerationResult> generate(const std::vector<std::vector<int32_t>>& prompts,
                                                 const SampleSpec& spec) = 0;
};

}  // namespace siked
