// A Llama-family decoder on the CPU: parameters, gradients and AdamW moments each in one slab laid
// out from a size table (HF tensor names), training (forward, masked cross-entropy, backward,
// AdamW with clipping and accumulation), LoRA adapters, and KV-cached sampling.
// Not thread-safe: the binding serialises calls per model with a mutex.
// Errors are std::invalid_argument / std::runtime_error with messages fit for users.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gemm.h"
#include "llama_config.h"
#include "llama_layers.h"
#include "model_backend.h"
#include "thread_pool.h"

namespace siked {

class LlamaModel : public ModelBackend {
 public:
  // threads <= 0: all cores. seed: random init as HF (normal(0, 0.02), norms 1, biases 0).
  LlamaModel(const LlamaConfig& config, int threads, uint64_t seed, bool random_init);
  ~LlamaModel();

  const LlamaConfig& config() const override { return config_; }
  const std::vector<TensorEntry>& parameters() const override { return params_table_; }
  const std::vector<TensorEntry>& lora_parameters() const override { return lora_table_; }
  int64_t parameter_count() const override { return int64_t(params_.size()); }
  const char* device_name() const override { return "cpu"; }
  bool lora_enabled() const { return lora_rank_ > 0; }
  const LoraSpec& lora_spec() const { return lora_spec_; }

  // Copies of a tensor (base or adapter name). Throws std::invalid_argument for unknown names or
  // a wrong element count.
  std::vector<float> get_parameter(const std::string& name) const override;
  void set_parameter(const std::string& name, const float* data, size_t count) override;
  // Gradient of the mean loss over the tokens accumulated so far (zeros before any accumulate).
  std::vector<float> get_gradient(const std::string& name) const override;
  // A base weight with the LoRA update folded in (W + scale * B A); equals get_parameter otherwise.
  std::vector<float> merged_parameter(const std::string& name) const override;

  void enable_lora(const LoraSpec& spec) override;
  void merge_lora() override;
  void configure_optimizer(const AdamWOptions& options) override { adam_ = options; }
  std::string set_precision(const std::string& precision) override;

  // Training. tokens/mask: (B, T); mask[b,t] = 1 trains on predicting tokens[b,t] from its prefix.
  // Returns the summed loss and the number of masked tokens of this micro-batch.
  std::pair<double, int64_t> accumulate(const int32_t* tokens, const uint8_t* mask, int B, int T,
                                        const int32_t* positions = nullptr) override;
  StepStats step(float learning_rate) override;

  // Forward only: logits (B, T, V).
  std::vector<float> logits(const int32_t* tokens, int B, int T) override;
  // Per-token log p(seq[i] | seq[<i]) for each sequence; entry 0 is NaN.
  std::vector<std::vector<float>> score(const std::vector<std::vector<int32_t>>& sequences) override;
  std::vector<GenerationResult> generate(const std::vector<std::vector<int32_t>>& prompts,
                                         const SampleSpec& spec) override;

  // The slab layout, read by the CUDA backend so both devices share one table and one init.
  struct Linear {          // one projection of one layer
    size_t w = 0, b = SIZE_MAX;
    int in_dim = 0, out_dim = 0;
    size_t lora_a = SIZE_MAX, lora_b = SIZE_MAX;  // in the adapter slab
  };
  struct Layer {
    size_t ln1 = 0, ln2 = 0;
    Linear proj[kProjectionCount];
  };
  const std::vector<Layer>& layer_layout() const { return layers_; }
  size_t embed_offset() const { return embed_; }
  size_t final_norm_offset() const { return final_norm_; }
  size_t lm_head_offset() const { return lm_head_; }
  int lora_rank() const { return lora_rank_; }
  float lora_scale() const { return lora_scale_; }
  // Mutable access (the CUDA backend's host mirror): the bf16/int8 copies are rebuilt on next use.
  std::vector<float>& parameter_slab() {
    ++weights_version_;
    return params_;
  }
  std::vector<float>& lora_slab() { return lora_; }

 private:
  struct Activations;  // training activations for one (B, T)
  struct KvCache;      // inference key/value cache
  struct InferenceBuffers;  // reused buffers of cached inference

  void build_tables();
  const TensorEntry* find(const std::string& name, bool* is_lora) const;
  void ensure_grads();
  LinearWeights weights_of(const Layer& layer, int p) const;
  LinearGrads grads_of(const Layer& layer, int p);
  // Runs the decoder on (B, T) tokens up to the final norm, keeping every activation.
  // positions: packed position ids (see ModelBackend::accumulate) or nullptr.
  void forward_train(const int32_t* tokens, int B, int T, const int32_t* positions = nullptr);
  // The LM head and cross-entropy on the rows with targets (acts_->target_rows); returns the
  // summed loss and leaves d(loss)/d(logits) of those rows in acts_->logits.
  double head_forward_backward();
  void backward_train(const int32_t* tokens, int B, int T);
  // Packed inference over rows (slot, position) that attend to their slot's KV cache; logits for
  // the rows with want_logits set are written in order to `logits_out` (count, V).
  // weights: the projections without an adapter and the head read params_bf16() or
  // params_int8() instead of the float32 weights.
  void forward_cached(KvCache& cache, const int32_t* tokens, const int32_t* slots,
                      const int32_t* positions, int M, const std::vector<int>& logit_rows,
                      float* logits_out, DecodeWeights weights = DecodeWeights::Fp32);
  // The weights rounded to bfloat16 (round to nearest even), rebuilt after any weight change.
  const uint16_t* params_bf16();
  // The projection and head weights quantized per row to int8 (quantize_rows_int8), rebuilt
  // after any weight change: the int8 values (laid out like params_) and each matrix's row scales.
  struct Int8Weights {
    std::vector<int8_t> values;
    std::vector<float> scales;
    std::unordered_map<size_t, size_t> scales_of;  // weight offset in params_ -> offset in scales
    uint64_t version = UINT64_MAX;
  };
  const Int8Weights& params_int8();
  // The model's KV cache shaped for `slots` sequences of max_len positions.
  KvCache& kv_cache(int slots, int max_len);

  LlamaConfig config_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<TensorEntry> params_table_, lora_table_;
  std::vector<Layer> layers_;
  size_t embed_ = 0, final_norm_ = 0, lm_head_ = 0;  // lm_head_ == embed_ when tied
  std::vector<float> params_, grads_, adam_m_, adam_v_;
  std::vector<uint16_t> params_bf16_;  // decode's bf16 copy of params_ (DecodeWeights::Bf16)
  uint64_t params_bf16_version_ = UINT64_MAX;
  Int8Weights params_int8_;            // decode's int8 copy (DecodeWeights::Int8)
  uint64_t weights_version_ = 0;       // bumped by every change of params_
  std::vector<float> lora_, lora_grads_, lora_m_, lora_v_;
  std::vector<float> rope_cos_, rope_sin_;
  RopeTable rope_;
  int lora_rank_ = 0;
  float lora_scale_ = 0.f;
  LoraSpec lora_spec_;
  AdamWOptions adam_;
  MatmulPrecision precision_ = MatmulPrecision::Fp32;  // every projection and the head
  int64_t adam_step_ = 0;
  double accumulated_loss_ = 0;
  int64_t accumulated_tokens_ = 0;
  std::unique_ptr<Activations> acts_;
  std::unique_ptr<InferenceBuffers> infer_;
  std::unique_ptr<KvCache> cache_;  // reused by logits, score and generate
};

}  // namespace siked
