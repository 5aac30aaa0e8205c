// C interface of the CUDA backend, callable from the CPU-side addon code (and from the parity
// harness tools/device/parity.cu). Compiled only when SIKED_WITH_CUDA is defined (nvcc found).
//
// Conventions (docs/CUDA.md has the design):
// - Every pointer named `*_device` or documented as "device" is a CUDA device pointer; `stream`
//   is a cudaStream_t passed as void* so this header needs no CUDA header.
// - Tensors are row-major; shapes are given in a comment beside each pointer.
// - Activations/weights used by matrix work are bf16 (`void*` = __nv_bfloat16*); gradients of
//   parameters, master weights, optimizer moments and losses are fp32.
// - Functions return 0 on success and non-zero on failure; the message is then read with
//   siked_cuda_last_error() (per host thread). Launches are asynchronous: an execution error
//   surfaces at the next call that synchronises.
// - Nothing here allocates inside a hot path or synchronises with the host, so a sequence of
//   calls on one stream can be captured in a CUDA graph (except the *_create functions).
#pragma once
#include <cstddef>
#include <cstdint>

extern "C" {

// ---- device and errors ------------------------------------------------------------------------
// Number of CUDA devices visible, or -1 with a message in `error` when the runtime fails
// (no driver, no device). Never aborts.
int siked_cuda_device_count(char* error, size_t error_size);
// Name and compute capability of device `index`; returns 0 on success.
int siked_cuda_device_name(int index, char* name, size_t name_size, int* major, int* minor);
// The message of the last failed call on this host thread ("" when none).
const char* siked_cuda_last_error(void);

// ---- matrix products (cuBLAS, opened at run time) ---------------------------------------------
typedef struct SikedBlas SikedBlas;
// Opens libcublas (libcublas.so.13, .so.12, .so, then the PyTorch wheel layout under
// $SIKED_CUBLAS_PATH if set) and creates a handle bound to `stream`. On failure returns non-zero
// and the error lists every path tried.
int siked_cuda_blas_create(SikedBlas** out, void* stream);
void siked_cuda_blas_destroy(SikedBlas* blas);
// Rebinds the handle to another stream (e.g. the side stream a CUDA graph is captured on).
int siked_cuda_blas_set_stream(SikedBlas* blas, void* stream);
// Path of the library actually opened (valid while `blas` lives).
const char* siked_cuda_blas_library(const SikedBlas* blas);
// Row-major C[m,n] = alpha * op(A) op(B) + beta * C, bf16 operands, fp32 accumulation.
// op(A) is [m,k]: A is [m,k] (lda >= k) or, with trans_a, [k,m] (lda >= m); likewise B.
// C is bf16 or, with c_fp32 != 0, fp32 (used to accumulate weight gradients with beta = 1).
int siked_cuda_gemm(SikedBlas* blas, int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const void* a, int lda, const void* b, int ldb, float beta, void* c, int ldc,
                    int c_fp32);

// ---- elementwise and normalisation ------------------------------------------------------------
int siked_cuda_cast_f32_to_bf16(void* out /*bf16 [n]*/, const float* in /*[n]*/, int64_t n, void* stream);
int siked_cuda_cast_bf16_to_f32(float* out /*[n]*/, const void* in /*bf16 [n]*/, int64_t n, void* stream);

// out = x / rms(x) * weight; saves rstd (fp32 [rows]) for the backward.
int siked_cuda_rmsnorm_forward(void* out /*bf16 [rows,c]*/, float* rstd /*[rows]*/,
                               const void* x /*bf16 [rows,c]*/, const void* weight /*bf16 [c]*/,
                               int rows, int c, float eps, void* stream);
// dx = (residual_grad or 0) + d(out)/dx . dout  (dx may alias residual_grad);
// dweight += sum over rows of dout * x * rstd (skipped when dweight is NULL: a frozen weight),
// reduced without atomics through `partial`
// (fp32 scratch of siked_cuda_rmsnorm_partial_floats(rows, c) floats).
int siked_cuda_rmsnorm_backward(void* dx /*bf16 [rows,c]*/, float* dweight /*[c]*/,
                                float* partial, const void* dout /*bf16 [rows,c]*/,
                                const void* residual_grad /*bf16 [rows,c] or NULL*/,
                                const void* x, const void* weight, const float* rstd, int rows,
                                int c, void* stream);
int64_t siked_cuda_rmsnorm_partial_floats(int rows, int c);

// Rotary embedding in place (HF rotate_half: pairs (i, i + d/2)); positions [tokens].
// inverse != 0 applies the transpose rotation (the backward of the forward).
int siked_cuda_rope(void* x /*bf16 [tokens,heads,d]*/, const int32_t* positions /*[tokens]*/,
                    int tokens, int heads, int d, float theta, int inverse, void* stream);

// h = silu(gate) * up. gate/up rows are `ld_in` apart (so both may be halves of one [rows,2f]).
int siked_cuda_swiglu_forward(void* h /*bf16 [rows,f]*/, const void* gate, const void* up,
                              int rows, int f, int ld_in, void* stream);
int siked_cuda_swiglu_backward(void* dgate, void* dup /*bf16, rows ld_in apart*/,
                               const void* dh /*bf16 [rows,f]*/, const void* gate, const void* up,
                               int rows, int f, int ld_in, void* stream);

// ---- attention (causal, GQA, flash-style: no [T,T] matrix in memory) -------------------------
// q [b,t,hq,d], k/v [b,t,hkv,d], out [b,t,hq,d], lse fp32 [b,hq,t] (natural log, of scaled
// scores). hq % hkv == 0; d is 64 or 128 (specialised kernels). Softmax scale 1/sqrt(d).
// positions: device int32 [b,t] packed position ids (documents back to back in a row, each
// counting 0, 1, 2...; a 0 starts the next), or NULL for one document per row. Query i then sees
// keys i - positions[i] .. i only; the backward must get the forward's positions.
int siked_cuda_attention_forward(void* out, float* lse, const void* q, const void* k,
                                 const void* v, const int32_t* positions, int b, int t, int hq,
                                 int hkv, int d, void* stream);
// dq/dk/dv written (not accumulated); delta: fp32 scratch [b,hq,t]. Atomic-free: one kernel
// owns each dq row, another each dk/dv row (summing the q heads of its group).
int siked_cuda_attention_backward(void* dq, void* dk, void* dv, float* delta, const void* dout,
                                  const void* out, const float* lse, const void* q, const void* k,
                                  const void* v, const int32_t* positions, int b, int t, int hq,
                                  int hkv, int d, void* stream);

// ---- loss -------------------------------------------------------------------------------------
// Masked cross-entropy over the vocabulary, one pass to find max/log-sum-exp then one to write
// gradients, reading bf16 logits without an fp32 copy. targets[row] < 0 means "not trained";
// otherwise targets[row] < v is the caller's to check (the kernel cannot report it).
// loss[row] = lse - logit[target] (0 where masked). With write_grad, logits are overwritten in
// place by dlogits = grad_scale * (softmax - onehot) (0 on masked rows).
int siked_cuda_cross_entropy(void* logits /*bf16 [rows,v], in: logits, out: dlogits*/,
                             float* loss /*[rows]*/, const int32_t* targets /*[rows]*/, int rows,
                             int v, float grad_scale, int write_grad, void* stream);

// ---- embedding --------------------------------------------------------------------------------
int siked_cuda_embedding_forward(void* out /*bf16 [n,c]*/, const void* table /*bf16 [vocab,c]*/,
                                 const int32_t* tokens /*[n]*/, int n, int c, void* stream);
// dtable[token] += dout[row], deterministic and atomic-free (each thread owns a column and walks
// the rows in order).
int siked_cuda_embedding_backward(float* dtable /*[vocab,c]*/, const void* dout /*bf16 [n,c]*/,
                                  const int32_t* tokens, int n, int c, int vocab, void* stream);

// ---- optimizer ---------------------------------------------------------------------------------
typedef struct SikedAdamTensor {
  float* param;          // fp32 master weights [n]
  float* grad;           // fp32 gradients [n]
  float* m;              // first moment [n]
  float* v;              // second moment [n]
  void* param_bf16;      // bf16 copy refreshed after the update, or NULL
  int64_t n;
  float weight_decay;    // decoupled, multiplied by lr (0 for norms/biases if the caller wants)
} SikedAdamTensor;
typedef struct SikedAdamPlan SikedAdamPlan;
// Uploads the tensor table and its chunk list once (allocates; not capturable).
int siked_cuda_adam_plan_create(SikedAdamPlan** out, const SikedAdamTensor* tensors, int count);
void siked_cuda_adam_plan_destroy(SikedAdamPlan* plan);
// Global L2 norm of all grads in two stages (per-chunk partial sums, then one block), written to
// norm_device[0]; clip_scale_device[0] = min(1, max_norm / (norm + 1e-6)) when max_norm > 0,
// else 1 (PyTorch clip_grad_norm_). No host sync.
int siked_cuda_grad_norm(SikedAdamPlan* plan, float* norm_device, float* clip_scale_device,
                         float max_norm, void* stream);
// One AdamW step (PyTorch semantics: p -= lr*wd*p; m,v update; p -= lr * mhat / (sqrt(vhat)+eps)),
// grads multiplied by clip_scale_device[0] (NULL = 1) first. step counts from 1.
int siked_cuda_adamw_step(SikedAdamPlan* plan, float lr, float beta1, float beta2, float eps,
                          int step, const float* clip_scale_device, void* stream);

// ---- LoRA --------------------------------------------------------------------------------------
// weight[out,in] += scale * b[out,r] @ a[r,in] (fp32), the merge of an adapter into its base.
int siked_cuda_lora_merge(float* weight, const float* a, const float* b, int out_features,
                          int in_features, int rank, float scale, void* stream);

// ---- generation: KV cache, decode attention, sampling -----------------------------------------
// Cache of one layer: k/v bf16 [slots, hkv, max_len, d].
// Writes the new keys/values of `rows` tokens at (slot_of_row[i], position_of_row[i]).
int siked_cuda_kv_append(void* k_cache, void* v_cache, const void* k_new /*bf16 [rows,hkv,d]*/,
                         const void* v_new, const int32_t* slot_of_row, const int32_t* position_of_row,
                         int rows, int hkv, int max_len, int d, void* stream);
// Copies positions [0, length[i]) of src_slot[i] to dst_slot[i] (n samples share one prefill).
int siked_cuda_kv_copy_prefix(void* k_cache, void* v_cache, const int32_t* src_slot,
                              const int32_t* dst_slot, const int32_t* length, int count, int hkv,
                              int max_len, int d, void* stream);
// One query token per row against its slot's first length_of_row[i] cached positions (the
// current token already appended). Split-K ("flash-decoding"): the positions are cut into
// chunks of `split_len`, each chunk reduced by its own block, then merged. `scratch` is fp32 of
// siked_cuda_decode_scratch_floats(rows, hq, d, max_len, split_len) floats. The grid depends on
// max_len, not on the lengths, so the call is graph-capturable.
int siked_cuda_decode_attention(void* out /*bf16 [rows,hq,d]*/, const void* q /*bf16 [rows,hq,d]*/,
                                const void* k_cache, const void* v_cache,
                                const int32_t* slot_of_row, const int32_t* length_of_row, int rows,
                                int hq, int hkv, int max_len, int d, int split_len, float* scratch,
                                void* stream);
int64_t siked_cuda_decode_scratch_floats(int rows, int hq, int d, int max_len, int split_len);

// Per-row sampling on the GPU. temperature <= 0: greedy (lowest index among ties). Else
// softmax(logits / temperature) restricted to the top_k largest (0 = off; ties at the k-th value
// kept) then to the smallest high-probability set of mass >= top_p (1 = off), sampled with
// Philox4x32-10 keyed by seed[row], counter = counter[row], which is then incremented (so a
// captured graph replays with fresh numbers). Writes the token and its log-probability under
// the unscaled model, log_softmax(logits)[token].
int siked_cuda_sample(int32_t* token_out /*[rows]*/, float* logprob_out /*[rows]*/,
                      const float* logits /*[rows,v]*/, int rows, int v,
                      const float* temperature /*[rows]*/, const int32_t* top_k /*[rows]*/,
                      const float* top_p /*[rows]*/, const uint64_t* seed /*[rows]*/,
                      uint64_t* counter /*[rows]*/, void* stream);
// Host reference of the random stream: the uniform in (0,1] that siked_cuda_sample draws for
// (seed, counter). Lets a CPU backend or a test reproduce GPU sampling exactly.
float siked_cuda_philox_uniform(uint64_t seed, uint64_t counter);

// Bookkeeping after a sampled step, on the device so decode steps need no host sync: for each
// active row, appends token to the output buffer (out_tokens/out_logprobs [rows,max_new]),
// advances generated[row] and position[row], and marks finished[row] = 1 (stop) or 2 (length)
// when the token is one of stop_ids or generated reaches max_new. Finished rows are untouched.
int siked_cuda_decode_advance(int32_t* next_input /*[rows]*/, int32_t* position /*[rows]*/,
                              int32_t* generated /*[rows]*/, int32_t* finished /*[rows]*/,
                              int32_t* out_tokens, float* out_logprobs, const int32_t* token,
                              const float* logprob, const int32_t* stop_ids, int stop_count,
                              int rows, int max_new, void* stream);
// ---- model glue: biases, gradient scaling, scoring ---------------------------------------------
// y[r, j] += bias[j] for r < rows, j < cols; rows are ld apart (Qwen2's q/k/v biases).
int siked_cuda_bias_add(void* y /*bf16 [rows,ld]*/, const void* bias /*bf16 [cols]*/, int rows,
                        int cols, int ld, void* stream);
// dbias[j] += sum over rows of dy[r, j], in a fixed order (deterministic, atomic-free); partial is
// fp32 scratch of siked_cuda_bias_grad_partial_floats(rows, cols) floats.
int siked_cuda_bias_grad(float* dbias /*[cols]*/, float* partial, const void* dy /*bf16 [rows,cols]*/,
                         int rows, int cols, void* stream);
int64_t siked_cuda_bias_grad_partial_floats(int rows, int cols);
// x[i] *= scale (the 1/tokens normalisation of summed-loss gradients before clipping and AdamW).
int siked_cuda_scale_f32(float* x, int64_t n, float scale, void* stream);
// out[r] = log_softmax(logits[r])[targets[r]] in fp32 (NaN where targets[r] < 0).
int siked_cuda_log_softmax_gather(float* out /*[rows]*/, const float* logits /*[rows,v]*/,
                                  const int32_t* targets /*[rows]*/, int rows, int v, void* stream);
}
