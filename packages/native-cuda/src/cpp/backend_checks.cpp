#include "backend_checks.h"

#include <algorithm>
#include <stdexcept>

namespace siked {

void check_token_ids(const LlamaConfig& config, const int32_t* tokens, int64_t n, const std::string& what) {
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= config.vocab_size)
      throw std::invalid_argument(what + "[" + std::to_string(i) + "] = " + std::to_string(tokens[i]) +
                                  " is not a token id in [0, " + std::to_string(config.vocab_size) + ")");
}

void check_train_batch(const LlamaConfig& config, const int32_t* tokens, int B, int T, const int32_t* positions) {
  if (B <= 0 || T <= 0) throw std::invalid_argument("batch must have positive batchSize and seqLen");
  if (T > config.max_position_embeddings)
    throw std::invalid_argument("seqLen " + std::to_string(T) + " exceeds max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  check_token_ids(config, tokens, int64_t(B) * T, "tokens");
  if (positions) check_packed_positions(positions, B, T);
}

void check_logits_batch(const LlamaConfig& config, const int32_t* tokens, int B, int T) {
  if (B <= 0 || T <= 0) throw std::invalid_argument("logits: batchSize and seqLen must be positive");
  if (T > config.max_position_embeddings)
    throw std::invalid_argument("seqLen " + std::to_string(T) + " exceeds max_position_embeddings");
  check_token_ids(config, tokens, int64_t(B) * T, "tokens");
}

void check_score_sequences(const LlamaConfig& config, const std::vector<std::vector<int32_t>>& sequences) {
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto& seq = sequences[i];
    const std::string name = "sequences[" + std::to_string(i) + "]";
    if (seq.empty()) throw std::invalid_argument(name + " is empty");
    if (int(seq.size()) > config.max_position_embeddings)
      throw std::invalid_argument(name + " is longer than max_position_embeddings");
    check_token_ids(config, seq.data(), int64_t(seq.size()), name);
  }
}

int check_generation(const LlamaConfig& config, const std::vector<std::vector<int32_t>>& prompts,
                     const SampleSpec& spec) {
  if (spec.num_samples <= 0) throw std::invalid_argument("numSamples must be positive");
  if (spec.max_new_tokens <= 0) throw std::invalid_argument("maxNewTokens must be positive");
  int max_prompt = 0;
  for (size_t p = 0; p < prompts.size(); ++p) {
    const std::string name = "prompts[" + std::to_string(p) + "]";
    if (prompts[p].empty()) throw std::invalid_argument(name + " is empty");
    check_token_ids(config, prompts[p].data(), int64_t(prompts[p].size()), name);
    max_prompt = std::max(max_prompt, int(prompts[p].size()));
  }
  for (int32_t t : spec.stop_tokens) check_token_ids(config, &t, 1, "stopTokenIds");
  const int max_len = max_prompt + spec.max_new_tokens;
  if (!prompts.empty() && max_len > config.max_position_embeddings)
    throw std::invalid_argument("longest prompt + maxNewTokens = " + std::to_string(max_len) +
                                " exceeds max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  return max_len;
}

void check_packed_positions(const int32_t* positions, int B, int T) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const int32_t p = positions[int64_t(b) * T + t];
      const bool ok = p == 0 || (t > 0 && p == positions[int64_t(b) * T + t - 1] + 1);
      if (!ok)
        throw std::invalid_argument("positions[" + std::to_string(int64_t(b) * T + t) + "] (row " + std::to_string(b) +
                                    ", column " + std::to_string(t) + ") is " + std::to_string(p) +
                                    ": packed positions must be 0 (a document starts) or the previous one plus 1");
    }
}

void fill_positions(int32_t* out, const int32_t* positions, int B, int T) {
  const int64_t N = int64_t(B) * T;
  for (int64_t n = 0; n < N; ++n) out[n] = positions ? positions[n] : int32_t(n % T);
}

int64_t next_token_targets(const int32_t* tokens, const uint8_t* mask, int B, int T, int32_t* targets,
                           const int32_t* positions) {
  int64_t count = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const int64_t n = int64_t(b) * T + t;
      const bool same_document = positions == nullptr || (t + 1 < T && positions[n + 1] != 0);
      const bool trained = t + 1 < T && mask[n + 1] != 0 && same_document;
      targets[n] = trained ? tokens[n + 1] : -1;
      count += trained;
    }
  return count;
}

size_t pack_sequences(const std::vector<std::vector<int32_t>>& sequences, size_t first, int max_rows, int* rows,
                      int* max_len) {
  size_t j = first;
  *rows = 0, *max_len = 0;
  while (j < sequences.size() && (j == first || *rows + int(sequences[j].size()) <= max_rows)) {
    *rows += int(sequences[j].size());
    *max_len = std::max(*max_len, int(sequences[j].size()));
    ++j;
  }
  return j;
}

}  // namespace siked
