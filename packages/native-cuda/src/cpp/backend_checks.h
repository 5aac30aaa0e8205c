// Argument checks and small host-side preparations shared by the CPU engine and the CUDA backend,
// so both refuse the same inputs with the same messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_backend.h"

namespace siked {

// Every id in [0, vocab_size); the error names `what[i]` and the bad value.
void check_token_ids(const LlamaConfig& config, const int32_t* tokens, int64_t n, const std::string& what);

// A training batch of B x T token ids (positive sizes, T within the model's positions), and its
// packed positions when given.
void check_train_batch(const LlamaConfig& config, const int32_t* tokens, int B, int T,
                       const int32_t* positions = nullptr);
// The same for logits(): the messages name logits.
void check_logits_batch(const LlamaConfig& config, const int32_t* tokens, int B, int T);

// Sequences to score: non-empty, within the model's positions, valid ids.
void check_score_sequences(const LlamaConfig& config, const std::vector<std::vector<int32_t>>& sequences);

// Prompts and settings of generate(); returns the KV length needed (longest prompt + new tokens).
int check_generation(const LlamaConfig& config, const std::vector<std::vector<int32_t>>& prompts,
                     const SampleSpec& spec);

// Packed position ids of a (B, T) batch: each row is documents back to back, positions counting
// 0, 1, 2... within each (a 0 starts the next one). Throws naming the first bad entry.
void check_packed_positions(const int32_t* positions, int B, int T);

// Position t predicts token t+1, and is trained on when mask[t+1] is set and t+1 does not start a
// new document (positions[t+1] != 0, when positions are given): targets[n] is that token or -1.
// Returns how many positions are trained on.
int64_t next_token_targets(const int32_t* tokens, const uint8_t* mask, int B, int T, int32_t* targets,
                           const int32_t* positions = nullptr);

// Positions 0..T-1 in every row, or a copy of the given packed positions.
void fill_positions(int32_t* out, const int32_t* positions, int B, int T);

// Whole sequences from `first` on, as many as fit in `max_rows` tokens (always at least one);
// returns one past the last taken and their token count and longest length.
size_t pack_sequences(const std::vector<std::vector<int32_t>>& sequences, size_t first, int max_rows, int* rows,
                      int* max_len);

}  // namespace siked
