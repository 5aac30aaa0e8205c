// The shape of a Llama-family decoder (LlamaForCausalLM, Qwen2ForCausalLM), as read from a
// Hugging Face config.json by the TS layer. Plain data; validate() throws std::invalid_argument.
#pragma once

#include <stdexcept>
#include <string>

namespace siked {

struct LlamaConfig {
  int vocab_size = 0;
  int hidden_size = 0;        // C
  int intermediate_size = 0;  // F (SwiGLU width)
  int num_layers = 0;         // L
  int num_heads = 0;          // H (query heads)
  int num_kv_heads = 0;       // KV (grouped-query attention: H % KV == 0)
  int head_dim = 0;           // hd (even, for rotary embeddings)
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000.0;
  int max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;      // Qwen2 always; Llama when attention_bias is set

  void validate() const {
    auto positive = [](int v, const char* name) {
      if (v <= 0) throw std::invalid_argument(std::string("config: ") + name + " must be positive");
    };
    positive(vocab_size, "vocab_size");
    positive(hidden_size, "hidden_size");
    positive(intermediate_size, "intermediate_size");
    positive(num_layers, "num_hidden_layers");
    positive(num_heads, "num_attention_heads");
    positive(num_kv_heads, "num_key_value_heads");
    positive(head_dim, "head_dim");
    positive(max_position_embeddings, "max_position_embeddings");
    if (num_heads % num_kv_heads != 0)
      throw std::invalid_argument("config: num_attention_heads must be a multiple of num_key_value_heads");
    if (head_dim % 2 != 0) throw std::invalid_argument("config: head_dim must be even (rotary embeddings)");
    if (!(rms_norm_eps > 0)) throw std::invalid_argument("config: rms_norm_eps must be positive");
    if (!(rope_theta > 0)) throw std::invalid_argument("config: rope_theta must be positive");
  }
};

}  // namespace siked
