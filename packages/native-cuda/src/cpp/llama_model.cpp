// Model construction, parameter access, training (forward, backward, AdamW) and LoRA.
// Sampling and cached inference live in llama_generate.cpp.
#include "llama_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "backend_checks.h"
#include "gemm.h"
#include "llama_model_internal.h"
#include "random.h"
#include "vector_math.h"

namespace siked {

const char* projection_name(int projection) {
  static const char* names[kProjectionCount] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
  return names[projection];
}

namespace {
const char* projection_module(int projection) { return projection <= kO ? "self_attn" : "mlp"; }
std::string layer_prefix(int l) { return "model.layers." + std::to_string(l) + "."; }
}  // namespace

LlamaModel::LlamaModel(const LlamaConfig& config, int threads, uint64_t seed, bool random_init)
    : config_(config) {
  config_.validate();
  pool_ = std::make_unique<ThreadPool>(threads);
  build_tables();
  const int half = config_.head_dim / 2;
  rope_cos_.resize(size_t(config_.max_position_embeddings) * half);
  rope_sin_.resize(rope_cos_.size());
  rope_table_fill(rope_cos_.data(), rope_sin_.data(), config_.max_position_embeddings, config_.head_dim,
                  config_.rope_theta);
  rope_ = RopeTable{config_.head_dim, config_.max_position_embeddings, rope_cos_.data(), rope_sin_.data()};
  if (random_init) {
    // As HF's _init_weights: normal(0, initializer_range = 0.02) for embeddings and linear
    // weights, ones for norms, zeros for biases.
    Rng rng(hash_seed(seed, 0x11a4a));
    for (const TensorEntry& t : params_table_) {
      float* p = params_.data() + t.offset;
      const bool is_norm = t.name.find("norm") != std::string::npos;
      const bool is_bias = t.name.size() > 5 && t.name.compare(t.name.size() - 5, 5, ".bias") == 0;
      for (size_t i = 0; i < t.numel; ++i)
        p[i] = is_norm ? 1.f : is_bias ? 0.f : float(0.02 * rng.normal());
    }
  }
}

LlamaModel::~LlamaModel() = default;

void LlamaModel::build_tables() {
  const LlamaConfig& c = config_;
  const int64_t C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int64_t q_dim = int64_t(c.num_heads) * c.head_dim, kv_dim = int64_t(c.num_kv_heads) * c.head_dim;
  size_t offset = 0;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    size_t numel = 1;
    for (int64_t d : shape) numel *= size_t(d);
    params_table_.push_back(TensorEntry{name, std::move(shape), offset, numel});
    offset += numel;
    return offset - numel;
  };
  embed_ = add("model.embed_tokens.weight", {V, C});
  layers_.resize(c.num_layers);
  const int64_t out_dims[kProjectionCount] = {q_dim, kv_dim, kv_dim, C, F, F, C};
  const int64_t in_dims[kProjectionCount] = {C, C, C, q_dim, C, C, F};
  for (int l = 0; l < c.num_layers; ++l) {
    Layer& layer = layers_[l];
    const std::string prefix = layer_prefix(l);
    layer.ln1 = add(prefix + "input_layernorm.weight", {C});
    for (int p = 0; p < kProjectionCount; ++p) {
      if (p == kGate) layer.ln2 = add(prefix + "post_attention_layernorm.weight", {C});
      Linear& lin = layer.proj[p];
      const std::string base = prefix + projection_module(p) + "." + projection_name(p);
      lin.in_dim = int(in_dims[p]);
      lin.out_dim = int(out_dims[p]);
      lin.w = add(base + ".weight", {out_dims[p], in_dims[p]});
      if (c.qkv_bias && p <= kV) lin.b = add(base + ".bias", {out_dims[p]});
    }
  }
  final_norm_ = add("model.norm.weight", {C});
  lm_head_ = c.tie_word_embeddings ? embed_ : add("lm_head.weight", {V, C});
  params_.assign(offset, 0.f);
}

const TensorEntry* LlamaModel::find(const std::string& name, bool* is_lora) const {
  for (const TensorEntry& t : params_table_)
    if (t.name == name) {
      *is_lora = false;
      return &t;
    }
  for (const TensorEntry& t : lora_table_)
    if (t.name == name) {
      *is_lora = true;
      return &t;
    }
  throw std::invalid_argument("unknown tensor name '" + name + "'");
}

std::vector<float> LlamaModel::get_parameter(const std::string& name) const {
  bool is_lora = false;
  const TensorEntry* t = find(name, &is_lora);
  const float* base = (is_lora ? lora_.data() : params_.data()) + t->offset;
  return std::vector<float>(base, base + t->numel);
}

void LlamaModel::set_parameter(const std::string& name, const float* data, size_t count) {
  bool is_lora = false;
  const TensorEntry* t = find(name, &is_lora);
  if (count != t->numel)
    throw std::invalid_argument("tensor '" + name + "' has " + std::to_string(t->numel) +
                                " elements but " + std::to_string(count) + " were given");
  std::memcpy((is_lora ? lora_.data() : params_.data()) + t->offset, data, sizeof(float) * count);
  if (!is_lora) ++weights_version_;
}

std::vector<float> LlamaModel::get_gradient(const std::string& name) const {
  bool is_lora = false;
  const TensorEntry* t = find(name, &is_lora);
  const std::vector<float>& grads = is_lora ? lora_grads_ : grads_;
  std::vector<float> out(t->numel, 0.f);
  if (grads.empty()) {
    if (!is_lora && lora_enabled())
      throw std::invalid_argument("tensor '" + name + "' is frozen (LoRA is enabled) and has no gradient");
    return out;
  }
  const float scale = accumulated_tokens_ > 0 ? float(1.0 / double(accumulated_tokens_)) : 0.f;
  for (size_t i = 0; i < t->numel; ++i) out[i] = grads[t->offset + i] * scale;
  return out;
}

std::vector<float> LlamaModel::merged_parameter(const std::string& name) const {
  std::vector<float> w = get_parameter(name);
  if (!lora_enabled()) return w;
  bool is_lora = false;
  const TensorEntry* t = find(name, &is_lora);
  if (is_lora) return w;
  for (const Layer& layer : layers_)
    for (const Linear& lin : layer.proj)
      if (lin.w == t->offset && lin.lora_a != SIZE_MAX) {
        // W + scale * B A: scale B first because the GEMM has no alpha.
        std::vector<float> scaled_b(lora_.begin() + lin.lora_b,
                                    lora_.begin() + lin.lora_b + size_t(lin.out_dim) * lora_rank_);
        for (float& x : scaled_b) x *= lora_scale_;
        sgemm_nn(lin.out_dim, lin.in_dim, lora_rank_, scaled_b.data(), lora_rank_, lora_.data() + lin.lora_a,
                 lin.in_dim, w.data(), lin.in_dim, 1.f, pool_.get());
      }
  return w;
}

void LlamaModel::enable_lora(const LoraSpec& spec) {
  if (lora_enabled()) throw std::invalid_argument("LoRA is already enabled; call mergeLora() first");
  if (spec.rank <= 0) throw std::invalid_argument("LoRA rank must be positive");
  bool any = false;
  for (bool t : spec.targets) any = any || t;
  if (!any) throw std::invalid_argument("LoRA needs at least one target module");
  lora_spec_ = spec;
  lora_rank_ = spec.rank;
  lora_scale_ = spec.alpha / float(spec.rank);
  lora_table_.clear();
  size_t offset = 0;
  for (int l = 0; l < config_.num_layers; ++l)
    for (int p = 0; p < kProjectionCount; ++p) {
      if (!spec.targets[p]) continue;
      Linear& lin = layers_[l].proj[p];
      const std::string base = "base_model.model." + layer_prefix(l) + projection_module(p) + "." +
                               projection_name(p);
      lin.lora_a = offset;
      lora_table_.push_back({base + ".lora_A.weight", {spec.rank, lin.in_dim}, offset,
                             size_t(spec.rank) * lin.in_dim});
      offset += size_t(spec.rank) * lin.in_dim;
      lin.lora_b = offset;
      lora_table_.push_back({base + ".lora_B.weight", {lin.out_dim, spec.rank}, offset,
                             size_t(lin.out_dim) * spec.rank});
      offset += size_t(lin.out_dim) * spec.rank;
    }
  // PEFT's init: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0.
  lora_.assign(offset, 0.f);
  Rng rng(hash_seed(spec.seed, 0x10a));
  for (const TensorEntry& t : lora_table_) {
    if (t.name.find("lora_A") == std::string::npos) continue;
    const double bound = 1.0 / std::sqrt(double(t.shape[1]));
    for (size_t i = 0; i < t.numel; ++i) lora_[t.offset + i] = float((2.0 * rng.uniform() - 1.0) * bound);
  }
  lora_grads_.assign(offset, 0.f);
  lora_m_.assign(offset, 0.f);
  lora_v_.assign(offset, 0.f);
  // The base is frozen: its gradients and moments are released.
  std::vector<float>().swap(grads_);
  std::vector<float>().swap(adam_m_);
  std::vector<float>().swap(adam_v_);
  adam_step_ = 0;
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
}

void LlamaModel::merge_lora() {
  if (!lora_enabled()) throw std::invalid_argument("mergeLora(): LoRA is not enabled");
  for (const TensorEntry& t : params_table_) {
    for (const Layer& layer : layers_)
      for (const Linear& lin : layer.proj)
        if (lin.w == t.offset && lin.lora_a != SIZE_MAX) {
          std::vector<float> merged = merged_parameter(t.name);
          std::memcpy(params_.data() + t.offset, merged.data(), sizeof(float) * t.numel);
        }
  }
  ++weights_version_;
  for (Layer& layer : layers_)
    for (Linear& lin : layer.proj) lin.lora_a = lin.lora_b = SIZE_MAX;
  lora_table_.clear();
  for (auto* v : {&lora_, &lora_grads_, &lora_m_, &lora_v_}) std::vector<float>().swap(*v);
  lora_rank_ = 0;
  lora_scale_ = 0.f;
  adam_step_ = 0;
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
  acts_.reset();  // activation layout depended on the adapters
}

void LlamaModel::ensure_grads() {
  if (lora_enabled()) return;
  if (grads_.size() != params_.size()) {
    grads_.assign(params_.size(), 0.f);
    adam_m_.assign(params_.size(), 0.f);
    adam_v_.assign(params_.size(), 0.f);
    adam_step_ = 0;
  }
}

std::string LlamaModel::set_precision(const std::string& precision) {
  if (precision == "fp32") precision_ = MatmulPrecision::Fp32;
  else if (precision == "bf16") precision_ = MatmulPrecision::Bf16;
  else throw std::invalid_argument("precision must be 'fp32' or 'bf16', got '" + precision + "'");
  return matmul_kernel_name(precision_);
}

LinearWeights LlamaModel::weights_of(const Layer& layer, int p) const {
  const Linear& lin = layer.proj[p];
  LinearWeights w;
  w.precision = precision_;
  w.w = params_.data() + lin.w;
  w.b = lin.b == SIZE_MAX ? nullptr : params_.data() + lin.b;
  if (lin.lora_a != SIZE_MAX) {
    w.lora_a = lora_.data() + lin.lora_a;
    w.lora_b = lora_.data() + lin.lora_b;
    w.lora_scale = lora_scale_;
    w.rank = lora_rank_;
  }
  return w;
}

LinearGrads LlamaModel::grads_of(const Layer& layer, int p) {
  const Linear& lin = layer.proj[p];
  LinearGrads g;
  if (!grads_.empty()) {
    g.dw = grads_.data() + lin.w;
    g.db = lin.b == SIZE_MAX ? nullptr : grads_.data() + lin.b;
  }
  if (lin.lora_a != SIZE_MAX) {
    g.dlora_a = lora_grads_.data() + lin.lora_a;
    g.dlora_b = lora_grads_.data() + lin.lora_b;
  }
  return g;
}

// --- training ---------------------------------------------------------------------------------

void LlamaModel::forward_train(const int32_t* tokens, int B, int T, const int32_t* positions) {
  const LlamaConfig& c = config_;
  const int N = B * T, C = c.hidden_size, F = c.intermediate_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  if (!acts_)
    acts_ = std::make_unique<Activations>(*this, B, T);
  else if (acts_->B != B || acts_->T != T || acts_->lora_rank != lora_rank_)
    acts_->reshape(*this, B, T);
  Activations& a = *acts_;
  ThreadPool* pool = pool_.get();
  const float* P = params_.data();
  fill_positions(a.positions.data(), positions, B, T);
  // Packed rows: each query attends within its own document only.
  a.packed = positions != nullptr;
  const int32_t* packed = a.packed ? a.positions.data() : nullptr;

  embedding_forward(a.resid[0], tokens, P + embed_, N, C);
  for (int l = 0; l < c.num_layers; ++l) {
    const Layer& layer = layers_[l];
    Activations::Layer& x = a.layers[l];
    rmsnorm_forward(x.ln1, x.rstd1, a.resid[l], P + layer.ln1, N, C, c.rms_norm_eps, pool);
    linear_forward(x.q, x.lora_mid[kQ], x.ln1, weights_of(layer, kQ), N, C, H * hd, pool);
    linear_forward(x.k, x.lora_mid[kK], x.ln1, weights_of(layer, kK), N, C, KV * hd, pool);
    linear_forward(x.v, x.lora_mid[kV], x.ln1, weights_of(layer, kV), N, C, KV * hd, pool);
    rope_forward(x.q, a.positions.data(), N, H, rope_);
    rope_forward(x.k, a.positions.data(), N, KV, rope_);
    attention_forward(x.atty, x.probs, x.q, x.k, x.v, B, T, H, KV, hd, pool, packed);
    std::memcpy(x.resid_mid, a.resid[l], sizeof(float) * N * C);
    linear_forward(x.resid_mid, x.lora_mid[kO], x.atty, weights_of(layer, kO), N, H * hd, C, pool, true);
    rmsnorm_forward(x.ln2, x.rstd2, x.resid_mid, P + layer.ln2, N, C, c.rms_norm_eps, pool);
    linear_forward(x.gate, x.lora_mid[kGate], x.ln2, weights_of(layer, kGate), N, C, F, pool);
    linear_forward(x.up, x.lora_mid[kUp], x.ln2, weights_of(layer, kUp), N, C, F, pool);
    swiglu_forward(x.h, x.gate, x.up, int64_t(N) * F, pool);
    std::memcpy(a.resid[l + 1], x.resid_mid, sizeof(float) * N * C);
    linear_forward(a.resid[l + 1], x.lora_mid[kDown], x.h, weights_of(layer, kDown), N, F, C, pool, true);
  }
  rmsnorm_forward(a.lnf, a.rstdf, a.resid[c.num_layers], P + final_norm_, N, C, c.rms_norm_eps, pool);
}

double LlamaModel::head_forward_backward() {
  Activations& a = *acts_;
  const int C = config_.hidden_size, V = config_.vocab_size;
  const int rows = static_cast<int>(a.target_rows.size());
  if (rows == 0) return 0.0;
  // Gather the rows' final-norm outputs and targets (targets compacted in place: row i's index
  // is at least i). Each logit is the same dot product as over all N rows, so the loss and
  // d(lnf) are unchanged; only dW's sum over tokens skips the zero rows.
  std::vector<int32_t>& targets = a.targets;
  for (int i = 0; i < rows; ++i) {
    const int32_t n = a.target_rows[i];
    std::memcpy(a.head_rows + int64_t(i) * C, a.lnf + int64_t(n) * C, sizeof(float) * C);
    targets[i] = targets[n];
  }
  sgemm_nt(rows, V, C, a.head_rows, C, params_.data() + lm_head_, C, a.logits, V, 0.f, pool_.get(),
           precision_);
  return crossentropy_forward_backward(a.logits, targets.data(), rows, V, true, pool_.get());
}

void LlamaModel::backward_train(const int32_t* tokens, int B, int T) {
  const LlamaConfig& c = config_;
  const int N = B * T, C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  Activations& a = *acts_;
  ThreadPool* pool = pool_.get();
  const float* P = params_.data();
  float* G = grads_.empty() ? nullptr : grads_.data();
  auto grad = [&](size_t offset) { return G ? G + offset : nullptr; };

  // a.logits holds d(sum loss)/d(logits) of the target rows, a.head_rows their lnf: dW first,
  // then head_rows is overwritten with their d(lnf), scattered into dln (zero elsewhere).
  const int rows = static_cast<int>(a.target_rows.size());
  if (G) sgemm_tn(V, C, rows, a.logits, V, a.head_rows, C, G + lm_head_, C, 1.f, pool, precision_);
  sgemm_nn(rows, C, V, a.logits, V, P + lm_head_, C, a.head_rows, C, 0.f, pool, precision_);
  std::fill(a.dln, a.dln + int64_t(N) * C, 0.f);
  for (int i = 0; i < rows; ++i)
    std::memcpy(a.dln + int64_t(a.target_rows[i]) * C, a.head_rows + int64_t(i) * C, sizeof(float) * C);
  std::fill(a.dresid, a.dresid + int64_t(N) * C, 0.f);
  rmsnorm_backward(a.dresid, grad(final_norm_), a.dln, a.resid[c.num_layers], P + final_norm_, a.rstdf,
                   N, C, pool);
  for (int l = c.num_layers - 1; l >= 0; --l) {
    const Layer& layer = layers_[l];
    Activations::Layer& x = a.layers[l];
    // MLP block: resid[l+1] = resid_mid + down(silu(gate) * up)
    linear_backward(a.dh, false, grads_of(layer, kDown), a.dresid, x.h, x.lora_mid[kDown],
                    weights_of(layer, kDown), a.lora_scratch, N, F, C, pool);
    swiglu_backward(a.dgate, a.dup, a.dh, x.gate, x.up, int64_t(N) * F, pool);
    linear_backward(a.dln, false, grads_of(layer, kGate), a.dgate, x.ln2, x.lora_mid[kGate],
                    weights_of(layer, kGate), a.lora_scratch, N, C, F, pool);
    linear_backward(a.dln, true, grads_of(layer, kUp), a.dup, x.ln2, x.lora_mid[kUp],
                    weights_of(layer, kUp), a.lora_scratch, N, C, F, pool);
    rmsnorm_backward(a.dresid, grad(layer.ln2), a.dln, x.resid_mid, P + layer.ln2, x.rstd2, N, C, pool);
    // Attention block: resid_mid = resid[l] + o(attention(rope(q), rope(k), v))
    linear_backward(a.datty, false, grads_of(layer, kO), a.dresid, x.atty, x.lora_mid[kO],
                    weights_of(layer, kO), a.lora_scratch, N, H * hd, C, pool);
    attention_backward(a.dq, a.dk, a.dv, a.datty, x.probs, x.q, x.k, x.v, B, T, H, KV, hd, pool,
                       a.packed ? a.positions.data() : nullptr);
    rope_backward(a.dq, a.positions.data(), N, H, rope_);
    rope_backward(a.dk, a.positions.data(), N, KV, rope_);
    linear_backward(a.dln, false, grads_of(layer, kQ), a.dq, x.ln1, x.lora_mid[kQ],
                    weights_of(layer, kQ), a.lora_scratch, N, C, H * hd, pool);
    linear_backward(a.dln, true, grads_of(layer, kK), a.dk, x.ln1, x.lora_mid[kK],
                    weights_of(layer, kK), a.lora_scratch, N, C, KV * hd, pool);
    linear_backward(a.dln, true, grads_of(layer, kV), a.dv, x.ln1, x.lora_mid[kV],
                    weights_of(layer, kV), a.lora_scratch, N, C, KV * hd, pool);
    rmsnorm_backward(a.dresid, grad(layer.ln1), a.dln, a.resid[l], P + layer.ln1, x.rstd1, N, C, pool);
  }
  if (G) embedding_backward(G + embed_, a.dresid, tokens, N, C);
}

std::pair<double, int64_t> LlamaModel::accumulate(const int32_t* tokens, const uint8_t* mask, int B, int T,
                                                  const int32_t* positions) {
  check_train_batch(config_, tokens, B, T, positions);
  ensure_grads();
  forward_train(tokens, B, T, positions);
  std::vector<int32_t>& targets = acts_->targets;
  const int64_t count = next_token_targets(tokens, mask, B, T, targets.data(), positions);
  acts_->target_rows.clear();
  for (int32_t n = 0; n < B * T; ++n)
    if (targets[n] >= 0) acts_->target_rows.push_back(n);
  const double loss = head_forward_backward();
  if (count > 0) backward_train(tokens, B, T);
  accumulated_loss_ += loss;
  accumulated_tokens_ += count;
  return {loss, count};
}

StepStats LlamaModel::step(float learning_rate) {
  if (accumulated_tokens_ == 0)
    throw std::invalid_argument("step(): no masked tokens were accumulated since the last step");
  const bool lora = lora_enabled();
  std::vector<float>& p = lora ? lora_ : params_;
  if (!lora) ++weights_version_;
  std::vector<float>& g = lora ? lora_grads_ : grads_;
  std::vector<float>& m = lora ? lora_m_ : adam_m_;
  std::vector<float>& v = lora ? lora_v_ : adam_v_;
  const int64_t n = int64_t(p.size());
  ThreadPool* pool = pool_.get();
  // Gradients hold d(sum loss); the step uses the mean over every accumulated token, which makes
  // 4 micro-batches of 1 equal to 1 batch of 4.
  const float inv_tokens = float(1.0 / double(accumulated_tokens_));
  const int64_t chunk = 1 << 16;
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> partial(size_t(std::max<int64_t>(chunks, 1)), 0.0);
  pool->parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ++ci) {
      double ss = 0;
      for (int64_t i = ci * chunk; i < std::min(n, (ci + 1) * chunk); ++i) {
        g[i] *= inv_tokens;
        ss += double(g[i]) * g[i];
      }
      partial[ci] = ss;
    }
  });
  double ss = 0;
  for (double x : partial) ss += x;
  const double norm = std::sqrt(ss);
  float clip = 1.f;  // torch.nn.utils.clip_grad_norm_: coef = max / (norm + 1e-6), applied when < 1
  if (adam_.max_grad_norm > 0) clip = float(std::min(1.0, adam_.max_grad_norm / (norm + 1e-6)));
  ++adam_step_;
  const double bc1 = 1.0 - std::pow(double(adam_.beta1), double(adam_step_));
  const double bc2 = 1.0 - std::pow(double(adam_.beta2), double(adam_step_));
  const float step_size = float(learning_rate / bc1);
  const float bc2_sqrt = float(std::sqrt(bc2));
  const AdamWStep update{clip,        1.f - learning_rate * adam_.weight_decay,
                         adam_.beta1, adam_.beta2,
                         adam_.eps,   step_size,
                         bc2_sqrt};
  pool->parallel_for(0, n, 1 << 15, [&](int64_t i0, int64_t i1) {
    adamw_update(p.data() + i0, m.data() + i0, v.data() + i0, g.data() + i0, i1 - i0, update);
  });
  StepStats stats{accumulated_loss_ / double(accumulated_tokens_), norm, accumulated_tokens_};
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
  return stats;
}

}  // namespace siked
