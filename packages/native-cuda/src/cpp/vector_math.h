// The exponential row operations of training and decode (attention softmax and its backward,
// cross-entropy, SwiGLU, token log-probabilities), vectorised where the CPU allows: the AVX-512
// versions use a Cephes-style expf (degree-6 polynomial after a two-constant range reduction,
// scaled by vscalefps), within a few ulp of libm's expf, which the portable versions call.
// Chosen once per process from detect_simd_level(). On a small model these loops, not the GEMMs,
// were a quarter of a training step with libm's scalar expf.
#pragma once

#include <cstdint>

namespace siked {

// row[i] = exp(scale * row[i] - m) / sum_j exp(scale * row[j] - m), m the largest scaled value;
// n >= 1.
void softmax_scaled(float* row, int n, float scale);

// log(sum_i exp(x[i])), shifted by the largest value so nothing overflows; n >= 1.
float log_sum_exp(const float* x, int n);

// Backward of row = softmax(scale * x) given the probabilities p: d[i] = p[i] * (d[i] -
// sum_j p[j] d[j]) * scale, d holding dL/drow on entry and dL/dx on return.
void softmax_backward_scaled(float* d, const float* p, int n, float scale);

// Cross-entropy of one row of logits against `target`: returns log(sum_j exp(row[j])) -
// row[target]. With with_grad, row becomes its gradient softmax(row) - onehot(target).
double cross_entropy_row(float* row, int n, int target, bool with_grad);

// h[i] = silu(gate[i]) * up[i], silu(g) = g * sigmoid(g).
void swiglu_row(float* h, const float* gate, const float* up, int64_t n);

// Backward of swiglu_row: dup = dh * silu(gate), dgate = dh * up * silu'(gate).
void swiglu_backward_row(float* dgate, float* dup, const float* dh, const float* gate,
                         const float* up, int64_t n);

// The AdamW constants of one step (torch.optim.AdamW, decoupled weight decay).
struct AdamWStep {
  float clip;         // gradient scale from norm clipping (1 when not clipped)
  float decay;        // 1 - lr * weight_decay
  float beta1, beta2, eps;
  float step_size;    // lr / (1 - beta1^t)
  float bc2_sqrt;     // sqrt(1 - beta2^t)
};

// One AdamW update of n parameters; zeroes the gradients. Every lane does the scalar loop's
// operations in the same order, without fused multiply-adds, so the result is bit-identical.
void adamw_update(float* p, float* m, float* v, float* g, int64_t n, const AdamWStep& s);

namespace vector_math_detail {
// The two implementations behind each dispatch, exposed for the kernel lab's checks.
struct RowOps {
  void (*softmax_scaled)(float* row, int n, float scale);
  float (*log_sum_exp)(const float* x, int n);
  void (*softmax_backward_scaled)(float* d, const float* p, int n, float scale);
  double (*cross_entropy_row)(float* row, int n, int target, bool with_grad);
  void (*swiglu_row)(float* h, const float* gate, const float* up, int64_t n);
  void (*swiglu_backward_row)(float* dgate, float* dup, const float* dh, const float* gate,
                              const float* up, int64_t n);
  void (*adamw_update)(float* p, float* m, float* v, float* g, int64_t n, const AdamWStep& s);
};
const RowOps& scalar_row_ops();
const RowOps& avx512_row_ops();  // the scalar ones where the build has no AVX-512
}  // namespace vector_math_detail

}  // namespace siked
