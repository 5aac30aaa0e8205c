// Inference of the CUDA model: one packed, KV-cached forward over rows (slot, position) serves
// logits(), score() and generate(), as in the CPU engine's llama_generate.cpp. Every row's keys
// and values are appended before any row attends, so a prompt's rows are causal by their
// lengths (position + 1), and prefill rows of new prompts can share a forward with decode rows
// of running ones: generate() refills finished slots with waiting prompts (continuous batching).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>

#include "backend_checks.h"
#include "cuda_model_internal.cuh"
#include "random.h"

namespace siked {

namespace {

constexpr int kMaxPackedRows = 2048;  // rows of one forward (bounds the [rows, F] buffers)
constexpr int kMaxSlots = 256;        // sequences decoded together (SIKED_CUDA_MAX_SLOTS overrides)
constexpr int kSplitLen = 128;        // decode attention: positions per split-K chunk

// Decode steps replayed from CUDA graphs. A decode step is ~15 launches per layer of small
// kernels; on a small model the host's launch time exceeds the GPU's work, so the step is
// captured once and replayed while the batch keeps the same row count. A graph is captured for M
// rows when two consecutive pure decode steps (no prefill rows, no prefix copies: the same input
// layout) have M rows, so the shrinking tail of a batch captures little. Graphs live for one
// generate() call and are dropped if any buffer they point into moves.
// SIKED_CUDA_GRAPHS=0 turns them off; SIKED_CUDA_TRACE=1 reports replays on stderr.
class DecodeGraphs {
 public:
  explicit DecodeGraphs(cudaStream_t stream) : stream_(stream) {
    const char* env = std::getenv("SIKED_CUDA_GRAPHS");
    enabled_ = !(env && std::string(env) == "0");
  }
  DecodeGraphs(const DecodeGraphs&) = delete;
  DecodeGraphs& operator=(const DecodeGraphs&) = delete;
  ~DecodeGraphs() { clear(); }

  // Enqueues one step for M rows: replays its graph, captures one, or runs `step` eagerly.
  // `buffers` identify the memory the step reads and writes.
  void run(int M, bool pure_decode, const std::vector<const void*>& buffers, const std::function<void()>& step) {
    ++steps_;
    if (!enabled_ || !pure_decode) {
      last_pure_rows_ = -1;
      step();
      return;
    }
    if (buffers != buffers_) clear(), buffers_ = buffers;
    auto found = graphs_.find(M);
    if (found == graphs_.end() && last_pure_rows_ == M) found = graphs_.emplace(M, capture(step)).first;
    last_pure_rows_ = M;
    if (found == graphs_.end()) {
      step();
      return;
    }
    cuda_check_status(cudaGraphLaunch(found->second, stream_), "decode graph launch");
    ++replays_;
  }
  void report(const char* what) const {
    const char* env = std::getenv("SIKED_CUDA_TRACE");
    if (env && std::string(env) == "1")
      std::fprintf(stderr, "siked cuda %s: %d steps, %d graph replays, %zu graphs captured\n", what, steps_,
                   replays_, captures_);
  }

 private:
  cudaGraphExec_t capture(const std::function<void()>& step) {
    cuda_check_status(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "decode graph capture");
    try {
      step();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(stream_, &broken);
      if (broken) cudaGraphDestroy(broken);
      cudaGetLastError();
      throw;
    }
    cudaGraph_t graph = nullptr;
    cuda_check_status(cudaStreamEndCapture(stream_, &graph), "decode graph capture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    cuda_check_status(status, "decode graph instantiation");
    ++captures_;
    return exec;
  }
  void clear() {
    for (auto& entry : graphs_) cudaGraphExecDestroy(entry.second);
    graphs_.clear();
  }

  cudaStream_t stream_;
  bool enabled_ = true;
  std::map<int, cudaGraphExec_t> graphs_;
  std::vector<const void*> buffers_;
  int last_pure_rows_ = -1, steps_ = 0, replays_ = 0;
  size_t captures_ = 0;
};

}  // namespace

void CudaModel::prepare_inference(int M, int R, int slots, int max_len) {
  const LlamaConfig& c = host_->config();
  if (!infer_) infer_ = std::make_unique<CudaInferenceBuffers>();
  CudaInferenceBuffers& b = *infer_;
  const int rank = std::max(host_->lora_rank(), 1);
  const int rows = std::max({M, R, b.capacity_rows}), logit_rows = std::max(R, b.capacity_logit_rows);
  const int len = std::max(max_len, b.capacity_len);
  if (rows != b.capacity_rows || logit_rows != b.capacity_logit_rows || len != b.capacity_len || b.block.empty()) {
    const int64_t C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
    const int64_t qd = int64_t(c.num_heads) * c.head_dim, kvd = int64_t(c.num_kv_heads) * c.head_dim;
    auto carve = [&](char* base) {
      ArenaCarver arena(base);
      using bf = uint16_t;
      b.x = arena.take<bf>(rows * C);
      b.ln = arena.take<bf>(rows * C);
      b.q = arena.take<bf>(rows * qd);
      b.k = arena.take<bf>(rows * kvd);
      b.v = arena.take<bf>(rows * kvd);
      b.atty = arena.take<bf>(rows * qd);
      b.gu = arena.take<bf>(rows * 2 * F);
      b.h = arena.take<bf>(rows * F);
      b.lora_mid = arena.take<bf>(int64_t(rows) * rank);
      b.gathered = arena.take<bf>(logit_rows * C);
      b.normed = arena.take<bf>(logit_rows * C);
      b.rstd = arena.take<float>(rows);
      b.logits = arena.take<float>(logit_rows * V);
      b.gathered_logprobs = arena.take<float>(logit_rows);
      b.decode_scratch = arena.take<float>(
          siked_cuda_decode_scratch_floats(rows, c.num_heads, c.head_dim, len, kSplitLen));
      return arena.used();
    };
    const size_t bytes = carve(nullptr);
    b.block.grow(bytes, "inference activations");
    carve(b.block.get<char>());
    b.capacity_rows = rows, b.capacity_logit_rows = logit_rows, b.capacity_len = len;
  }
  // KV cache: (L, 2, slots, KV, max_len, hd) bf16, grown, never shrunk.
  const size_t kv_bytes = size_t(c.num_layers) * 2 * slots * c.num_kv_heads * size_t(max_len) * c.head_dim * 2;
  kv_.grow(kv_bytes, "KV cache");
  kv_slots_ = slots;
}

namespace {

// The inputs of one packed forward, in row order.
struct RowInputs {
  std::vector<int32_t> tokens, slots, positions, logit_rows, targets;
  std::vector<uint64_t> seeds, counters;
  void clear() {
    tokens.clear(), slots.clear(), positions.clear(), logit_rows.clear(), targets.clear();
    seeds.clear(), counters.clear();
  }
};

// Uploads every row input with one copy (a staging buffer laid out as the device block).
void upload_rows(CudaInferenceBuffers& b, const RowInputs& in, cudaStream_t stream) {
  const size_t M = in.tokens.size();
  std::vector<int32_t> lengths(M);
  for (size_t i = 0; i < M; ++i) lengths[i] = in.positions[i] + 1;
  struct Part {
    const void* data;
    size_t bytes, align, offset;
  } parts[] = {{in.tokens.data(), M * 4, 4, 0},
               {in.slots.data(), M * 4, 4, 0},
               {in.positions.data(), M * 4, 4, 0},
               {lengths.data(), M * 4, 4, 0},
               {in.logit_rows.data(), in.logit_rows.size() * 4, 4, 0},
               {in.targets.data(), in.targets.size() * 4, 4, 0},
               {in.seeds.data(), in.seeds.size() * 8, 8, 0},
               {in.counters.data(), in.counters.size() * 8, 8, 0}};
  size_t at = 0;
  for (Part& part : parts) {
    at = (at + part.align - 1) & ~(part.align - 1);
    part.offset = at;
    at += part.bytes;
  }
  b.staging.resize(at);
  for (const Part& part : parts)
    if (part.bytes) std::memcpy(b.staging.data() + part.offset, part.data, part.bytes);
  b.inputs.grow(std::max<size_t>(at, 256), "inference inputs");
  char* base = b.inputs.get<char>();
  b.tokens = reinterpret_cast<int32_t*>(base + parts[0].offset);
  b.slots = reinterpret_cast<int32_t*>(base + parts[1].offset);
  b.positions = reinterpret_cast<int32_t*>(base + parts[2].offset);
  b.lengths = reinterpret_cast<int32_t*>(base + parts[3].offset);
  b.logit_rows = reinterpret_cast<int32_t*>(base + parts[4].offset);
  b.targets = reinterpret_cast<int32_t*>(base + parts[5].offset);
  b.seeds = reinterpret_cast<uint64_t*>(base + parts[6].offset);
  b.counters = reinterpret_cast<uint64_t*>(base + parts[7].offset);
  cuda_check_status(cudaMemcpyAsync(base, b.staging.data(), at, cudaMemcpyHostToDevice, stream), "row upload");
}

}  // namespace

void CudaModel::kv_layer(int layer, int max_len, char** k, char** v) const {
  const LlamaConfig& c = host_->config();
  const size_t bytes = size_t(kv_slots_) * c.num_kv_heads * size_t(max_len) * c.head_dim * 2;  // one K or V
  *k = kv_.get<char>() + size_t(2 * layer) * bytes;
  *v = *k + bytes;
}

void CudaModel::forward_cached(int M, int R, int max_len) {
  const LlamaConfig& c = host_->config();
  const int C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  const int qd = H * hd, kvd = KV * hd;
  const float theta = float(c.rope_theta), eps = c.rms_norm_eps;
  CudaInferenceBuffers& b = *infer_;
  const auto& layout = host_->layer_layout();
  cuda_check(siked_cuda_embedding_forward(b.x, half(host_->embed_offset()), b.tokens, M, C, stream_), "embedding");
  for (int l = 0; l < c.num_layers; ++l) {
    const LlamaModel::Layer& layer = layout[l];
    char *k_cache, *v_cache;
    kv_layer(l, max_len, &k_cache, &v_cache);
    cuda_check(siked_cuda_rmsnorm_forward(b.ln, b.rstd, b.x, half(layer.ln1), M, C, eps, stream_), "rmsnorm");
    linear_forward(b.q, qd, false, b.lora_mid, b.ln, M, layer.proj[kQ]);
    linear_forward(b.k, kvd, false, b.lora_mid, b.ln, M, layer.proj[kK]);
    linear_forward(b.v, kvd, false, b.lora_mid, b.ln, M, layer.proj[kV]);
    cuda_check(siked_cuda_rope(b.q, b.positions, M, H, hd, theta, 0, stream_), "rope (q)");
    cuda_check(siked_cuda_rope(b.k, b.positions, M, KV, hd, theta, 0, stream_), "rope (k)");
    cuda_check(siked_cuda_kv_append(k_cache, v_cache, b.k, b.v, b.slots, b.positions, M, KV, max_len, hd, stream_),
               "KV append");
    cuda_check(siked_cuda_decode_attention(b.atty, b.q, k_cache, v_cache, b.slots, b.lengths, M, H, KV, max_len, hd,
                                           kSplitLen, b.decode_scratch, stream_),
               "attention");
    linear_forward(b.x, C, true, b.lora_mid, b.atty, M, layer.proj[kO]);
    cuda_check(siked_cuda_rmsnorm_forward(b.ln, b.rstd, b.x, half(layer.ln2), M, C, eps, stream_), "rmsnorm");
    gemm(0, 1, M, 2 * F, C, 1.f, b.ln, C, half(layer.proj[kGate].w), C, 0.f, b.gu, 2 * F, false, "gate|up");
    linear_extras_forward(b.gu, 2 * F, b.lora_mid, b.ln, M, layer.proj[kGate]);
    linear_extras_forward(static_cast<char*>(b.gu) + size_t(F) * 2, 2 * F, b.lora_mid, b.ln, M, layer.proj[kUp]);
    cuda_check(siked_cuda_swiglu_forward(b.h, b.gu, static_cast<char*>(b.gu) + size_t(F) * 2, M, F, 2 * F, stream_),
               "swiglu");
    linear_forward(b.x, C, true, b.lora_mid, b.h, M, layer.proj[kDown]);
  }
  // Final norm and LM head only for the wanted rows (gathered, repeats allowed), fp32 logits.
  cuda_check(siked_cuda_embedding_forward(b.gathered, b.x, b.logit_rows, R, C, stream_), "row gather");
  cuda_check(siked_cuda_rmsnorm_forward(b.normed, b.rstd, b.gathered, half(host_->final_norm_offset()), R, C, eps,
                                        stream_),
             "final rmsnorm");
  gemm(0, 1, R, V, C, 1.f, b.normed, C, half(host_->lm_head_offset()), C, 0.f, b.logits, V, true, "lm_head");
}

std::vector<float> CudaModel::logits(const int32_t* tokens, int B, int T) {
  const LlamaConfig& c = host_->config();
  check_logits_batch(c, tokens, B, T);
  const int V = c.vocab_size;
  std::vector<float> out(size_t(B) * T * V);
  const int rows_per_call = std::max(1, kMaxPackedRows / T);
  RowInputs in;
  for (int b0 = 0; b0 < B; b0 += rows_per_call) {
    const int nb = std::min(rows_per_call, B - b0);
    in.clear();
    for (int i = 0; i < nb * T; ++i) {
      in.tokens.push_back(tokens[size_t(b0) * T + i]);
      in.slots.push_back(i / T);
      in.positions.push_back(i % T);
      in.logit_rows.push_back(i);
    }
    prepare_inference(nb * T, nb * T, nb, T);
    upload_rows(*infer_, in, stream_);
    forward_cached(nb * T, nb * T, T);
    cuda_check_status(cudaMemcpyAsync(out.data() + size_t(b0) * T * V, infer_->logits, size_t(nb) * T * V * 4,
                                      cudaMemcpyDeviceToHost, stream_),
                      "logits download");
    cuda_check_status(cudaStreamSynchronize(stream_), "logits");
  }
  return out;
}

std::vector<std::vector<float>> CudaModel::score(const std::vector<std::vector<int32_t>>& sequences) {
  const LlamaConfig& c = host_->config();
  std::vector<std::vector<float>> out(sequences.size());
  check_score_sequences(c, sequences);
  RowInputs in;
  std::vector<float> gathered;
  size_t i = 0;
  while (i < sequences.size()) {
    int rows = 0, max_len = 0;
    const size_t j = pack_sequences(sequences, i, kMaxPackedRows, &rows, &max_len);
    in.clear();
    for (size_t s = i; s < j; ++s)
      for (size_t t = 0; t < sequences[s].size(); ++t) {
        in.logit_rows.push_back(int32_t(in.tokens.size()));
        in.tokens.push_back(sequences[s][t]);
        in.slots.push_back(int32_t(s - i));
        in.positions.push_back(int32_t(t));
        in.targets.push_back(t + 1 < sequences[s].size() ? sequences[s][t + 1] : -1);
      }
    prepare_inference(rows, rows, int(j - i), max_len);
    upload_rows(*infer_, in, stream_);
    forward_cached(rows, rows, max_len);
    // log p(next token) per row on the device: only R floats come back, not R x V logits.
    cuda_check(siked_cuda_log_softmax_gather(infer_->gathered_logprobs, infer_->logits, infer_->targets, rows,
                                             c.vocab_size, stream_),
               "log-softmax gather");
    gathered.resize(size_t(rows));
    cuda_check_status(cudaMemcpyAsync(gathered.data(), infer_->gathered_logprobs, size_t(rows) * 4,
                                      cudaMemcpyDeviceToHost, stream_),
                      "score download");
    cuda_check_status(cudaStreamSynchronize(stream_), "score");
    int row = 0;
    for (size_t s = i; s < j; ++s) {
      const auto& seq = sequences[s];
      std::vector<float>& lp = out[s];
      lp.assign(seq.size(), std::numeric_limits<float>::quiet_NaN());
      for (size_t t = 1; t < seq.size(); ++t) lp[t] = gathered[size_t(row) + t - 1];
      row += int(seq.size());
    }
    i = j;
  }
  return out;
}

std::vector<GenerationResult> CudaModel::generate(const std::vector<std::vector<int32_t>>& prompts,
                                                  const SampleSpec& spec) {
  const LlamaConfig& c = host_->config();
  const int V = c.vocab_size, n = spec.num_samples, P = int(prompts.size());
  const int max_len = check_generation(c, prompts, spec);
  if (P == 0) return {};
  // Slots: every sample of a prompt must fit at once (they share its prefill); the KV cache of
  // all slots must leave room on the device.
  const size_t slot_bytes = size_t(c.num_layers) * 2 * c.num_kv_heads * size_t(max_len) * c.head_dim * 2;
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  const int by_memory = int(std::min<size_t>(1 << 20, (free_bytes + kv_.bytes()) / 2 / std::max<size_t>(slot_bytes, 1)));
  int max_slots = kMaxSlots;
  if (const char* env = std::getenv("SIKED_CUDA_MAX_SLOTS")) max_slots = std::max(1, std::atoi(env));
  const int slots = std::max(n, std::min({P * n, max_slots, std::max(by_memory, 1)}));
  prepare_inference(std::max(kMaxPackedRows, slots), slots, slots, max_len);
  CudaInferenceBuffers& b = *infer_;
  {  // per-row sampling settings, constant over the call, and the sampled outputs
    auto carve = [&](char* base) {
      ArenaCarver arena(base);
      b.temperature = arena.take<float>(slots);
      b.top_p = arena.take<float>(slots);
      b.sampled_logprob = arena.take<float>(slots);
      b.top_k = arena.take<int32_t>(slots);
      b.sampled_token = arena.take<int32_t>(slots);
      return arena.used();
    };
    b.sampling.grow(carve(nullptr), "sampling settings");
    carve(b.sampling.get<char>());
    std::vector<float> temperature(slots, spec.temperature), top_p(slots, spec.top_p);
    std::vector<int32_t> top_k(slots, spec.top_k);
    cuda_check_status(cudaMemcpyAsync(b.temperature, temperature.data(), slots * 4, cudaMemcpyHostToDevice, stream_),
                      "sampling settings");
    cuda_check_status(cudaMemcpyAsync(b.top_p, top_p.data(), slots * 4, cudaMemcpyHostToDevice, stream_),
                      "sampling settings");
    cuda_check_status(cudaMemcpyAsync(b.top_k, top_k.data(), slots * 4, cudaMemcpyHostToDevice, stream_),
                      "sampling settings");
  }

  std::vector<GenerationResult> results(size_t(P) * n);
  std::vector<int> slot_of(results.size(), -1);
  std::vector<int> free_slots;
  for (int s = slots - 1; s >= 0; --s) free_slots.push_back(s);
  std::vector<int> running;  // sequences holding a slot, each with >= 1 sampled token
  auto is_stop = [&](int32_t t) {
    return std::find(spec.stop_tokens.begin(), spec.stop_tokens.end(), t) != spec.stop_tokens.end();
  };
  RowInputs in;
  std::vector<int> row_sequence;  // logit row -> sequence
  std::vector<int32_t> copy_src, copy_dst, copy_len;
  std::vector<int32_t> sampled_tokens;
  std::vector<float> sampled_logprobs;
  int next_prompt = 0;
  DecodeGraphs graphs(stream_);
  for (;;) {
    in.clear();
    row_sequence.clear();
    copy_src.clear(), copy_dst.clear(), copy_len.clear();
    // Decode rows: each running sequence feeds its last token.
    for (int s : running) {
      const GenerationResult& r = results[s];
      in.logit_rows.push_back(int32_t(in.tokens.size()));
      in.tokens.push_back(r.tokens.back());
      in.slots.push_back(slot_of[s]);
      in.positions.push_back(int32_t(prompts[r.prompt_index].size() + r.tokens.size() - 1));
      row_sequence.push_back(s);
    }
    // Prefill rows: waiting prompts take free slots (all n samples at once) while rows allow.
    while (next_prompt < P && int(free_slots.size()) >= n &&
           (in.tokens.empty() || int(in.tokens.size() + prompts[next_prompt].size()) <= kMaxPackedRows)) {
      const int p = next_prompt++;
      const auto& prompt = prompts[p];
      for (int j = 0; j < n; ++j) {
        const int s = p * n + j;
        slot_of[s] = free_slots.back();
        free_slots.pop_back();
        results[s].prompt_index = p;
        results[s].sample_index = j;
      }
      for (size_t t = 0; t < prompt.size(); ++t) {
        in.tokens.push_back(prompt[t]);
        in.slots.push_back(slot_of[p * n]);
        in.positions.push_back(int32_t(t));
      }
      for (int j = 0; j < n; ++j) {  // every sample draws its first token from the prompt's last row
        in.logit_rows.push_back(int32_t(in.tokens.size() - 1));
        row_sequence.push_back(p * n + j);
        if (j > 0) {
          copy_src.push_back(slot_of[p * n]);
          copy_dst.push_back(slot_of[p * n + j]);
          copy_len.push_back(int32_t(prompt.size()));
        }
      }
    }
    if (in.tokens.empty()) break;
    const int M = int(in.tokens.size()), R = int(in.logit_rows.size());
    for (int s : row_sequence) {
      const GenerationResult& r = results[s];
      in.seeds.push_back(hash_seed(spec.seed, uint64_t(r.prompt_index), uint64_t(r.sample_index)));
      in.counters.push_back(uint64_t(r.tokens.size()));
    }
    // The prefix copies ride in the targets block (unused by generate): src, dst, length.
    in.targets.insert(in.targets.end(), copy_src.begin(), copy_src.end());
    in.targets.insert(in.targets.end(), copy_dst.begin(), copy_dst.end());
    in.targets.insert(in.targets.end(), copy_len.begin(), copy_len.end());
    prepare_inference(M, R, slots, max_len);
    upload_rows(b, in, stream_);
    const bool pure_decode = M == int(running.size()) && copy_src.empty();
    graphs.run(M, pure_decode, {b.block.get(), b.inputs.get(), b.sampling.get(), kv_.get()}, [&] {
      forward_cached(M, R, max_len);
      cuda_check(siked_cuda_sample(b.sampled_token, b.sampled_logprob, b.logits, R, V, b.temperature, b.top_k,
                                   b.top_p, b.seeds, b.counters, stream_),
                 "sampling");
    });
    if (!copy_src.empty()) {  // siblings share the prefill just written into the first slot
      const int count = int(copy_src.size());
      for (int l = 0; l < c.num_layers; ++l) {
        char *k_cache, *v_cache;
        kv_layer(l, max_len, &k_cache, &v_cache);
        cuda_check(siked_cuda_kv_copy_prefix(k_cache, v_cache, b.targets, b.targets + count,
                                             b.targets + 2 * count, count, c.num_kv_heads, max_len, c.head_dim,
                                             stream_),
                   "KV prefix copy");
      }
    }
    sampled_tokens.resize(size_t(R));
    sampled_logprobs.resize(size_t(R));
    cuda_check_status(cudaMemcpyAsync(sampled_tokens.data(), b.sampled_token, size_t(R) * 4, cudaMemcpyDeviceToHost,
                                      stream_),
                      "token download");
    cuda_check_status(cudaMemcpyAsync(sampled_logprobs.data(), b.sampled_logprob, size_t(R) * 4,
                                      cudaMemcpyDeviceToHost, stream_),
                      "token download");
    cuda_check_status(cudaStreamSynchronize(stream_), "decode step");
    running.clear();
    for (int i = 0; i < R; ++i) {
      const int s = row_sequence[i];
      GenerationResult& r = results[s];
      r.tokens.push_back(sampled_tokens[i]);
      r.logprobs.push_back(sampled_logprobs[i]);
      if (is_stop(sampled_tokens[i])) r.stopped = true;
      if (r.stopped || int(r.tokens.size()) >= spec.max_new_tokens)
        free_slots.push_back(slot_of[s]);  // refilled by a waiting prompt in the next step
      else
        running.push_back(s);
    }
  }
  graphs.report("generate");
  return results;
}

}  // namespace siked
