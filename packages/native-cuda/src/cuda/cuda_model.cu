// The CUDA model: construction, parameter access, LoRA, and training (forward, masked
// cross-entropy, backward, AdamW), composed from the kernels of cuda_api.h in the order of the
// CPU engine's llama_model.cpp so the two can be compared step by step. Inference lives in
// cuda_inference.cu.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend_checks.h"
#include "cuda_model_internal.cuh"

namespace siked {

void cuda_check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("CUDA backend: ") + what + ": " + siked_cuda_last_error());
}

void cuda_check_status(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw std::runtime_error(std::string("CUDA backend: ") + what + ": " + cudaGetErrorString(status));
}

void DeviceBuffer::allocate(size_t bytes, const char* what) {
  release();
  if (bytes == 0) return;
  const cudaError_t status = cudaMalloc(&ptr_, bytes);
  if (status != cudaSuccess) {
    ptr_ = nullptr;
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    char message[512];
    std::snprintf(message, sizeof message,
                  "CUDA out of memory: %.1f MiB for %s (device has %.1f MiB free of %.1f MiB; %s)",
                  double(bytes) / 1048576.0, what, double(free_bytes) / 1048576.0,
                  double(total_bytes) / 1048576.0, cudaGetErrorString(status));
    throw std::runtime_error(message);
  }
  bytes_ = bytes;
}

void DeviceBuffer::release() {
  if (ptr_) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void DeviceSlab::load(const std::vector<float>& host, cudaStream_t stream, const char* what) {
  size = host.size();
  master.allocate(size * 4, what);
  half.allocate(size * 2, what);
  cuda_check_status(cudaMemcpyAsync(master.get(), host.data(), size * 4, cudaMemcpyHostToDevice, stream), what);
  cuda_check(siked_cuda_cast_f32_to_bf16(half.get(), master.get<float>(), int64_t(size), stream), what);
  cuda_check_status(cudaStreamSynchronize(stream), what);
}

void DeviceSlab::store(std::vector<float>& host, const char* what) const {
  cuda_check_status(cudaMemcpy(host.data(), master.get(), size * 4, cudaMemcpyDeviceToHost), what);
}

void DeviceSlab::start_training(cudaStream_t stream, const char* what) {
  for (DeviceBuffer* b : {&grad, &m, &v}) {
    b->allocate(size * 4, what);
    cuda_check_status(cudaMemsetAsync(b->get(), 0, b->bytes(), stream), what);
  }
}

namespace {

// The shapes the kernels are specialised for, checked before any allocation.
void check_supported(const LlamaConfig& c) {
  if (c.head_dim != 64 && c.head_dim != 128)
    throw std::invalid_argument("device 'cuda': head_dim " + std::to_string(c.head_dim) +
                                " is not supported by the CUDA kernels (64 or 128); use device 'cpu'");
  if (c.num_heads / c.num_kv_heads > 16)
    throw std::invalid_argument("device 'cuda': " + std::to_string(c.num_heads / c.num_kv_heads) +
                                " query heads per KV head; the decode kernel supports at most 16");
}

void require_device() {
  char error[256] = {0};
  const int count = siked_cuda_device_count(error, sizeof error);
  if (count < 0) throw std::runtime_error(std::string("device 'cuda': the CUDA runtime failed: ") + error);
  if (count == 0) throw std::runtime_error("device 'cuda': no CUDA device is visible");
}

}  // namespace

CudaModel::CudaModel(const LlamaConfig& config, uint64_t seed, bool random_init) {
  config.validate();
  check_supported(config);
  require_device();
  host_ = std::make_unique<LlamaModel>(config, 1, seed, random_init);
  const LlamaConfig& c = host_->config();
  // gate_proj and up_proj are adjacent in the slab, so one GEMM computes both ([2F, C] weight).
  for (const auto& layer : host_->layer_layout()) {
    if (layer.proj[kUp].w != layer.proj[kGate].w + size_t(c.intermediate_size) * c.hidden_size)
      throw std::logic_error("CUDA backend: gate_proj and up_proj are not adjacent in the slab");
  }
  cuda_check_status(cudaSetDevice(0), "cudaSetDevice(0)");
  cuda_check_status(cudaStreamCreate(&stream_), "cudaStreamCreate");
  try {
    cuda_check(siked_cuda_blas_create(&blas_, stream_), "cuBLAS");
    base_.load(host_->parameter_slab(), stream_, "weights (fp32 masters and bf16 copy)");
    scalars_.allocate(2 * sizeof(float), "optimizer scalars");
  } catch (...) {
    if (blas_) siked_cuda_blas_destroy(blas_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

CudaModel::~CudaModel() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (plan_) siked_cuda_adam_plan_destroy(plan_);
  if (blas_) siked_cuda_blas_destroy(blas_);
  train_.reset();
  infer_.reset();
  if (stream_) cudaStreamDestroy(stream_);
}

// --- host <-> device ---------------------------------------------------------------------------

void CudaModel::refresh_host() const {
  if (host_params_stale_) base_.store(host_->parameter_slab(), "download of the weights");
  if (host_lora_stale_) lora_.store(host_->lora_slab(), "download of the adapters");
  host_params_stale_ = host_lora_stale_ = false;
}

std::vector<float> CudaModel::get_parameter(const std::string& name) const {
  refresh_host();
  return host_->get_parameter(name);
}

std::vector<float> CudaModel::merged_parameter(const std::string& name) const {
  refresh_host();
  return host_->merged_parameter(name);
}

const TensorEntry& CudaModel::find_tensor(const std::string& name, bool* is_lora) const {
  for (const TensorEntry& t : host_->parameters())
    if (t.name == name) return *is_lora = false, t;
  for (const TensorEntry& t : host_->lora_parameters())
    if (t.name == name) return *is_lora = true, t;
  throw std::invalid_argument("unknown tensor name '" + name + "'");
}

void CudaModel::set_parameter(const std::string& name, const float* data, size_t count) {
  refresh_host();
  host_->set_parameter(name, data, count);  // validates the name and the count
  bool is_lora = false;
  const TensorEntry& entry = find_tensor(name, &is_lora);
  const DeviceSlab& slab = is_lora ? lora_ : base_;
  float* master = slab.master.get<float>() + entry.offset;
  void* copy = slab.half.get<char>() + entry.offset * 2;
  cuda_check_status(cudaMemcpyAsync(master, data, count * 4, cudaMemcpyHostToDevice, stream_), "setParameter upload");
  cuda_check(siked_cuda_cast_f32_to_bf16(copy, master, int64_t(count), stream_), "setParameter bf16 copy");
  cuda_check_status(cudaStreamSynchronize(stream_), "setParameter");
}

std::vector<float> CudaModel::get_gradient(const std::string& name) const {
  bool is_lora = false;
  const TensorEntry& entry = find_tensor(name, &is_lora);
  if (!is_lora && lora_enabled())
    throw std::invalid_argument("tensor '" + name + "' is frozen (LoRA is enabled) and has no gradient");
  std::vector<float> out(entry.numel, 0.f);
  const DeviceBuffer& g = (is_lora ? lora_ : base_).grad;
  if (g.empty()) return out;
  cuda_check_status(cudaStreamSynchronize(stream_), "getGradient");
  cuda_check_status(cudaMemcpy(out.data(), g.get<float>() + entry.offset, entry.numel * 4, cudaMemcpyDeviceToHost),
                    "getGradient download");
  const float scale = accumulated_tokens_ > 0 ? float(1.0 / double(accumulated_tokens_)) : 0.f;
  for (float& x : out) x *= scale;
  return out;
}

void CudaModel::enable_lora(const LoraSpec& spec) {
  refresh_host();
  host_->enable_lora(spec);  // validates, builds the PEFT table and PEFT's init
  lora_.load(host_->lora_slab(), stream_, "LoRA adapters (fp32 masters and bf16 copy)");
  lora_.start_training(stream_, "LoRA gradients and AdamW moments");
  // The base is frozen: its gradients and moments are released, as on the CPU.
  base_.stop_training();
  train_.reset();  // the activation layout depends on the adapters
  adam_step_ = 0;
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
  rebuild_optimizer_plan();
}

void CudaModel::merge_lora() {
  refresh_host();
  host_->merge_lora();  // throws when LoRA is off
  lora_.release();
  base_.load(host_->parameter_slab(), stream_, "merged weights (fp32 masters and bf16 copy)");
  train_.reset();
  adam_step_ = 0;
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
  if (plan_) siked_cuda_adam_plan_destroy(plan_);
  plan_ = nullptr;
}

std::string CudaModel::set_precision(const std::string& precision) {
  if (precision != "fp32" && precision != "bf16")
    throw std::invalid_argument("precision must be 'fp32' or 'bf16', got '" + precision + "'");
  return "cuda-bf16";
}

void CudaModel::configure_optimizer(const AdamWOptions& options) {
  const bool decay_changed = options.weight_decay != adam_.weight_decay;
  adam_ = options;
  if (decay_changed && plan_) rebuild_optimizer_plan();
}

void CudaModel::ensure_training_state() {
  if (lora_enabled()) return;
  if (!base_.trained()) {
    base_.start_training(stream_, "gradients and AdamW moments");
    adam_step_ = 0;
    rebuild_optimizer_plan();
  }
}

// One AdamW table entry for the whole trained slab: the CPU engine decays every tensor alike.
void CudaModel::rebuild_optimizer_plan() {
  if (plan_) siked_cuda_adam_plan_destroy(plan_);
  plan_ = nullptr;
  DeviceSlab& slab = trained_slab();
  if (!slab.trained()) return;  // created by ensure_training_state once gradients exist
  SikedAdamTensor t{};
  t.param = slab.master.get<float>();
  t.grad = slab.grad.get<float>();
  t.m = slab.m.get<float>();
  t.v = slab.v.get<float>();
  t.param_bf16 = slab.half.get();
  t.n = int64_t(slab.size);
  t.weight_decay = adam_.weight_decay;
  cuda_check(siked_cuda_adam_plan_create(&plan_, &t, 1), "AdamW plan");
}

// --- matrix helpers ----------------------------------------------------------------------------

void CudaModel::gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const void* a, int lda,
                     const void* b, int ldb, float beta, void* c, int ldc, bool c_fp32, const char* what) {
  cuda_check(siked_cuda_gemm(blas_, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, c_fp32 ? 1 : 0),
             what);
}

void CudaModel::linear_extras_forward(void* y, int ld_y, void* mid, const void* x, int rows, const Linear& lin) {
  if (lin.lora_a != SIZE_MAX) {
    const int r = host_->lora_rank();
    gemm(0, 1, rows, r, lin.in_dim, host_->lora_scale(), x, lin.in_dim, lora_half(lin.lora_a), lin.in_dim, 0.f,
         mid, r, false, "LoRA down projection");
    gemm(0, 1, rows, lin.out_dim, r, 1.f, mid, r, lora_half(lin.lora_b), r, 1.f, y, ld_y, false,
         "LoRA up projection");
  }
  if (lin.b != SIZE_MAX)
    cuda_check(siked_cuda_bias_add(y, half(lin.b), rows, lin.out_dim, ld_y, stream_), "bias");
}

void CudaModel::linear_forward(void* y, int ld_y, bool accumulate, void* mid, const void* x, int rows,
                               const Linear& lin) {
  gemm(0, 1, rows, lin.out_dim, lin.in_dim, 1.f, x, lin.in_dim, half(lin.w), lin.in_dim, accumulate ? 1.f : 0.f,
       y, ld_y, false, "linear");
  linear_extras_forward(y, ld_y, mid, x, rows, lin);
}

void CudaModel::linear_backward(void* dx, bool accumulate, const void* dy, int ld_dy, const void* x,
                                const void* mid, int rows, const Linear& lin, bool base_gemms) {
  CudaTrainActivations& a = *train_;
  if (base_gemms) {
    gemm(0, 0, rows, lin.in_dim, lin.out_dim, 1.f, dy, ld_dy, half(lin.w), lin.in_dim, accumulate ? 1.f : 0.f, dx,
         lin.in_dim, false, "linear backward (input)");
    if (base_.trained())
      gemm(1, 0, lin.out_dim, lin.in_dim, rows, 1.f, dy, ld_dy, x, lin.in_dim, 1.f, grad(lin.w), lin.in_dim, true,
           "linear backward (weight)");
  }
  if (lin.b != SIZE_MAX && base_.trained())
    cuda_check(siked_cuda_bias_grad(grad(lin.b), a.bias_partial, dy, rows, lin.out_dim, stream_), "bias gradient");
  if (lin.lora_a != SIZE_MAX) {
    const int r = host_->lora_rank();
    const float scale = host_->lora_scale();
    float* dA = lora_.grad.get<float>() + lin.lora_a;
    float* dB = lora_.grad.get<float>() + lin.lora_b;
    gemm(1, 0, lin.out_dim, r, rows, 1.f, dy, ld_dy, mid, r, 1.f, dB, r, true, "LoRA backward (B)");
    gemm(0, 0, rows, r, lin.out_dim, 1.f, dy, ld_dy, lora_half(lin.lora_b), r, 0.f, a.lora_scratch, r, false,
         "LoRA backward (mid)");
    gemm(1, 0, r, lin.in_dim, rows, scale, a.lora_scratch, r, x, lin.in_dim, 1.f, dA, lin.in_dim, true,
         "LoRA backward (A)");
    gemm(0, 0, rows, lin.in_dim, r, scale, a.lora_scratch, r, lora_half(lin.lora_a), lin.in_dim, 1.f, dx,
         lin.in_dim, false, "LoRA backward (input)");
  }
}

// --- training ----------------------------------------------------------------------------------

namespace {

// Lays out (or, with base == nullptr, only measures) the activations of one (B, T).
size_t carve_train(CudaTrainActivations& a, char* base, const LlamaConfig& c,
                   const std::vector<LlamaModel::Layer>& layout, int rank) {
  ArenaCarver arena(base);
  const int64_t N = int64_t(a.B) * a.T, C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int64_t qd = int64_t(c.num_heads) * c.head_dim, kvd = int64_t(c.num_kv_heads) * c.head_dim;
  const int64_t heads_rows = int64_t(a.B) * c.num_heads * a.T;
  using bf = uint16_t;
  a.layers.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    CudaTrainActivations::Layer& x = a.layers[l];
    x.x_in = arena.take<bf>(N * C);
    x.ln1 = arena.take<bf>(N * C);
    x.rstd1 = arena.take<float>(N);
    x.q = arena.take<bf>(N * qd);
    x.k = arena.take<bf>(N * kvd);
    x.v = arena.take<bf>(N * kvd);
    x.atty = arena.take<bf>(N * qd);
    x.lse = arena.take<float>(heads_rows);
    x.resid_mid = arena.take<bf>(N * C);
    x.ln2 = arena.take<bf>(N * C);
    x.rstd2 = arena.take<float>(N);
    x.gu = arena.take<bf>(N * 2 * F);
    x.h = arena.take<bf>(N * F);
    for (int p = 0; p < kProjectionCount; ++p)
      x.lora_mid[p] = layout[l].proj[p].lora_a != SIZE_MAX ? arena.take<bf>(N * rank) : nullptr;
  }
  a.resid_out = arena.take<bf>(N * C);
  a.lnf = arena.take<bf>(N * C);
  a.rstdf = arena.take<float>(N);
  a.logits = arena.take<bf>(N * V);
  a.loss = arena.take<float>(N);
  a.tokens = arena.take<int32_t>(3 * N);
  a.targets = base ? a.tokens + N : nullptr;
  a.positions = base ? a.tokens + 2 * N : nullptr;
  a.dresid = arena.take<bf>(N * C);
  a.dln = arena.take<bf>(N * C);
  a.dq = arena.take<bf>(N * qd);
  a.dk = arena.take<bf>(N * kvd);
  a.dv = arena.take<bf>(N * kvd);
  a.datty = arena.take<bf>(N * qd);
  a.dgu = arena.take<bf>(N * 2 * F);
  a.dh = arena.take<bf>(N * F);
  a.lora_scratch = arena.take<bf>(N * std::max(rank, 1));
  a.delta = arena.take<float>(heads_rows);
  a.norm_partial = arena.take<float>(siked_cuda_rmsnorm_partial_floats(int(N), int(C)));
  a.bias_partial = arena.take<float>(siked_cuda_bias_grad_partial_floats(int(N), int(std::max(qd, kvd))));
  return arena.used();
}

}  // namespace

void CudaModel::forward_train(int B, int T) {
  const LlamaConfig& c = host_->config();
  const int N = B * T, C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  const float theta = float(c.rope_theta), eps = c.rms_norm_eps;
  CudaTrainActivations& a = *train_;
  const auto& layout = host_->layer_layout();
  // Packed rows: each query attends within its own document only (a.positions, as RoPE reads them).
  const int32_t* packed = a.packed ? a.positions : nullptr;
  cuda_check(siked_cuda_embedding_forward(a.layers.empty() ? a.resid_out : a.layers[0].x_in,
                                          half(host_->embed_offset()), a.tokens, N, C, stream_),
             "embedding");
  for (int l = 0; l < c.num_layers; ++l) {
    const LlamaModel::Layer& layer = layout[l];
    CudaTrainActivations::Layer& x = a.layers[l];
    void* out = l + 1 < c.num_layers ? a.layers[l + 1].x_in : a.resid_out;
    cuda_check(siked_cuda_rmsnorm_forward(x.ln1, x.rstd1, x.x_in, half(layer.ln1), N, C, eps, stream_), "rmsnorm");
    linear_forward(x.q, H * hd, false, x.lora_mid[kQ], x.ln1, N, layer.proj[kQ]);
    linear_forward(x.k, KV * hd, false, x.lora_mid[kK], x.ln1, N, layer.proj[kK]);
    linear_forward(x.v, KV * hd, false, x.lora_mid[kV], x.ln1, N, layer.proj[kV]);
    cuda_check(siked_cuda_rope(x.q, a.positions, N, H, hd, theta, 0, stream_), "rope (q)");
    cuda_check(siked_cuda_rope(x.k, a.positions, N, KV, hd, theta, 0, stream_), "rope (k)");
    cuda_check(siked_cuda_attention_forward(x.atty, x.lse, x.q, x.k, x.v, packed, B, T, H, KV, hd, stream_),
               "attention");
    cuda_check_status(cudaMemcpyAsync(x.resid_mid, x.x_in, size_t(N) * C * 2, cudaMemcpyDeviceToDevice, stream_),
                      "residual copy");
    linear_forward(x.resid_mid, C, true, x.lora_mid[kO], x.atty, N, layer.proj[kO]);
    cuda_check(siked_cuda_rmsnorm_forward(x.ln2, x.rstd2, x.resid_mid, half(layer.ln2), N, C, eps, stream_),
               "rmsnorm");
    // gate|up as one [N, 2F] GEMM (adjacent weights), adapters added into their halves.
    gemm(0, 1, N, 2 * F, C, 1.f, x.ln2, C, half(layer.proj[kGate].w), C, 0.f, x.gu, 2 * F, false, "gate|up");
    linear_extras_forward(x.gu, 2 * F, x.lora_mid[kGate], x.ln2, N, layer.proj[kGate]);
    linear_extras_forward(static_cast<char*>(x.gu) + size_t(F) * 2, 2 * F, x.lora_mid[kUp], x.ln2, N,
                          layer.proj[kUp]);
    cuda_check(siked_cuda_swiglu_forward(x.h, x.gu, static_cast<char*>(x.gu) + size_t(F) * 2, N, F, 2 * F, stream_),
               "swiglu");
    cuda_check_status(cudaMemcpyAsync(out, x.resid_mid, size_t(N) * C * 2, cudaMemcpyDeviceToDevice, stream_),
                      "residual copy");
    linear_forward(out, C, true, x.lora_mid[kDown], x.h, N, layer.proj[kDown]);
  }
  cuda_check(siked_cuda_rmsnorm_forward(a.lnf, a.rstdf, a.resid_out, half(host_->final_norm_offset()), N, C, eps,
                                        stream_),
             "final rmsnorm");
  gemm(0, 1, N, V, C, 1.f, a.lnf, C, half(host_->lm_head_offset()), C, 0.f, a.logits, V, false, "lm_head");
}

void CudaModel::backward_train(int B, int T) {
  const LlamaConfig& c = host_->config();
  const int N = B * T, C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  const float theta = float(c.rope_theta);
  CudaTrainActivations& a = *train_;
  const auto& layout = host_->layer_layout();
  const bool full = base_.trained();
  const int32_t* packed = a.packed ? a.positions : nullptr;  // the forward's attention mask
  // a.logits now holds d(sum loss)/d(logits) in bf16.
  gemm(0, 0, N, C, V, 1.f, a.logits, V, half(host_->lm_head_offset()), C, 0.f, a.dln, C, false, "lm_head backward");
  if (full)
    gemm(1, 0, V, C, N, 1.f, a.logits, V, a.lnf, C, 1.f, grad(host_->lm_head_offset()), C, true,
         "lm_head weight gradient");
  cuda_check(siked_cuda_rmsnorm_backward(a.dresid, full ? grad(host_->final_norm_offset()) : nullptr, a.norm_partial,
                                         a.dln, nullptr, a.resid_out, half(host_->final_norm_offset()), a.rstdf, N, C,
                                         stream_),
             "final rmsnorm backward");
  for (int l = c.num_layers - 1; l >= 0; --l) {
    const LlamaModel::Layer& layer = layout[l];
    CudaTrainActivations::Layer& x = a.layers[l];
    void* dup = static_cast<char*>(a.dgu) + size_t(F) * 2;
    // MLP block: out = resid_mid + down(silu(gate) * up)
    linear_backward(a.dh, false, a.dresid, C, x.h, x.lora_mid[kDown], N, layer.proj[kDown]);
    cuda_check(siked_cuda_swiglu_backward(a.dgu, dup, a.dh, x.gu, static_cast<char*>(x.gu) + size_t(F) * 2, N, F,
                                          2 * F, stream_),
               "swiglu backward");
    gemm(0, 0, N, C, 2 * F, 1.f, a.dgu, 2 * F, half(layer.proj[kGate].w), C, 0.f, a.dln, C, false,
         "gate|up backward (input)");
    if (full)
      gemm(1, 0, 2 * F, C, N, 1.f, a.dgu, 2 * F, x.ln2, C, 1.f, grad(layer.proj[kGate].w), C, true,
           "gate|up backward (weight)");
    linear_backward(a.dln, true, a.dgu, 2 * F, x.ln2, x.lora_mid[kGate], N, layer.proj[kGate], false);
    linear_backward(a.dln, true, dup, 2 * F, x.ln2, x.lora_mid[kUp], N, layer.proj[kUp], false);
    cuda_check(siked_cuda_rmsnorm_backward(a.dresid, full ? grad(layer.ln2) : nullptr, a.norm_partial, a.dln,
                                           a.dresid, x.resid_mid, half(layer.ln2), x.rstd2, N, C, stream_),
               "rmsnorm backward");
    // Attention block: resid_mid = x_in + o(attention(rope(q), rope(k), v))
    linear_backward(a.datty, false, a.dresid, C, x.atty, x.lora_mid[kO], N, layer.proj[kO]);
    cuda_check(siked_cuda_attention_backward(a.dq, a.dk, a.dv, a.delta, a.datty, x.atty, x.lse, x.q, x.k, x.v, packed,
                                             B, T, H, KV, hd, stream_),
               "attention backward");
    cuda_check(siked_cuda_rope(a.dq, a.positions, N, H, hd, theta, 1, stream_), "rope backward (q)");
    cuda_check(siked_cuda_rope(a.dk, a.positions, N, KV, hd, theta, 1, stream_), "rope backward (k)");
    linear_backward(a.dln, false, a.dq, H * hd, x.ln1, x.lora_mid[kQ], N, layer.proj[kQ]);
    linear_backward(a.dln, true, a.dk, KV * hd, x.ln1, x.lora_mid[kK], N, layer.proj[kK]);
    linear_backward(a.dln, true, a.dv, KV * hd, x.ln1, x.lora_mid[kV], N, layer.proj[kV]);
    cuda_check(siked_cuda_rmsnorm_backward(a.dresid, full ? grad(layer.ln1) : nullptr, a.norm_partial, a.dln,
                                           a.dresid, x.x_in, half(layer.ln1), x.rstd1, N, C, stream_),
               "rmsnorm backward");
  }
  if (full)
    cuda_check(siked_cuda_embedding_backward(grad(host_->embed_offset()), a.dresid, a.tokens, N, C, V, stream_),
               "embedding backward");
}

std::pair<double, int64_t> CudaModel::accumulate(const int32_t* tokens, const uint8_t* mask, int B, int T,
                                                 const int32_t* packed_positions) {
  const LlamaConfig& c = host_->config();
  check_train_batch(c, tokens, B, T, packed_positions);
  ensure_training_state();
  const int rank = host_->lora_rank();
  if (!train_ || train_->B != B || train_->T != T || train_->lora_rank != rank) {
    auto next = std::make_unique<CudaTrainActivations>();
    next->B = B, next->T = T, next->lora_rank = rank;
    const size_t bytes = carve_train(*next, nullptr, c, host_->layer_layout(), rank);
    if (train_ && train_->block.bytes() >= bytes) {
      next->block.swap(train_->block);
    } else {
      train_.reset();  // free the old block before asking for a bigger one
      next->block.allocate(bytes, "training activations");
    }
    carve_train(*next, next->block.get<char>(), c, host_->layer_layout(), rank);
    train_ = std::move(next);
  }
  CudaTrainActivations& a = *train_;
  const int64_t N = int64_t(B) * T;
  // Tokens, next-token targets and positions, uploaded together.
  a.host_ints.resize(size_t(3 * N));
  std::memcpy(a.host_ints.data(), tokens, size_t(N) * 4);
  const int64_t count = next_token_targets(tokens, mask, B, T, a.host_ints.data() + N, packed_positions);
  fill_positions(a.host_ints.data() + 2 * N, packed_positions, B, T);
  a.packed = packed_positions != nullptr;
  cuda_check_status(cudaMemcpyAsync(a.tokens, a.host_ints.data(), size_t(3 * N) * 4, cudaMemcpyHostToDevice, stream_),
                    "batch upload");
  forward_train(B, T);
  cuda_check(siked_cuda_cross_entropy(a.logits, a.loss, a.targets, int(N), c.vocab_size, 1.f, count > 0 ? 1 : 0,
                                      stream_),
             "cross-entropy");
  if (count > 0) backward_train(B, T);
  a.host_loss.resize(size_t(N));
  cuda_check_status(cudaMemcpyAsync(a.host_loss.data(), a.loss, size_t(N) * 4, cudaMemcpyDeviceToHost, stream_),
                    "loss download");
  cuda_check_status(cudaStreamSynchronize(stream_), "training step");
  double loss = 0;
  for (float x : a.host_loss) loss += x;
  accumulated_loss_ += loss;
  accumulated_tokens_ += count;
  return {loss, count};
}

StepStats CudaModel::step(float learning_rate) {
  if (accumulated_tokens_ == 0)
    throw std::invalid_argument("step(): no masked tokens were accumulated since the last step");
  const bool lora = lora_enabled();
  const DeviceBuffer& g = trained_slab().grad;
  const int64_t n = int64_t(trained_slab().size);
  float* scalars = scalars_.get<float>();
  // Gradients hold d(sum loss); the step uses the mean over every accumulated token.
  cuda_check(siked_cuda_scale_f32(g.get<float>(), n, float(1.0 / double(accumulated_tokens_)), stream_),
             "gradient scale");
  cuda_check(siked_cuda_grad_norm(plan_, scalars, scalars + 1, adam_.max_grad_norm, stream_), "gradient norm");
  ++adam_step_;
  cuda_check(siked_cuda_adamw_step(plan_, learning_rate, adam_.beta1, adam_.beta2, adam_.eps, int(adam_step_),
                                   scalars + 1, stream_),
             "AdamW");
  cuda_check_status(cudaMemsetAsync(g.get(), 0, g.bytes(), stream_), "gradient reset");
  float norm = 0;
  cuda_check_status(cudaMemcpyAsync(&norm, scalars, 4, cudaMemcpyDeviceToHost, stream_), "norm download");
  cuda_check_status(cudaStreamSynchronize(stream_), "optimizer step");
  (lora ? host_lora_stale_ : host_params_stale_) = true;
  StepStats stats{accumulated_loss_ / double(accumulated_tokens_), double(norm), accumulated_tokens_};
  accumulated_loss_ = 0;
  accumulated_tokens_ = 0;
  return stats;
}

std::unique_ptr<ModelBackend> make_cuda_model(const LlamaConfig& config, uint64_t seed, bool random_init) {
  return std::make_unique<CudaModel>(config, seed, random_init);
}

}  // namespace siked
