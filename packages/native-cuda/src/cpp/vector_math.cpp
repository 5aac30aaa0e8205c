// Portable row operations (libm expf, the formulas the engine used before vectorising) and the
// per-process dispatch.
#include "vector_math.h"

#include <algorithm>
#include <cmath>

#include "cpu_features.h"

namespace siked {
namespace vector_math_detail {
namespace {

void softmax_scaled_scalar(float* row, int n, float scale) {
  float mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = std::max(mx, row[i] * scale);
  float sum = 0;
  for (int i = 0; i < n; ++i) sum += row[i] = std::exp(row[i] * scale - mx);
  const float inverse = 1.f / sum;
  for (int i = 0; i < n; ++i) row[i] *= inverse;
}

float log_sum_exp_scalar(const float* x, int n) {
  float mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - mx);  // float exp, double sum
  return float(double(mx) + std::log(sum));
}

void softmax_backward_scaled_scalar(float* d, const float* p, int n, float scale) {
  float dot = 0.f;
  for (int i = 0; i < n; ++i) dot += p[i] * d[i];
  for (int i = 0; i < n; ++i) d[i] = p[i] * (d[i] - dot) * scale;
}

double cross_entropy_row_scalar(float* row, int n, int target, bool with_grad) {
  float mx = -INFINITY;
  for (int j = 0; j < n; ++j) mx = std::max(mx, row[j]);
  const float target_logit = row[target];
  // One float exp per logit, reused for the gradient; the sum is accumulated in double.
  double sum = 0.0;
  if (with_grad) {
    for (int j = 0; j < n; ++j) sum += row[j] = std::exp(row[j] - mx);
    const float inv = float(1.0 / sum);
    for (int j = 0; j < n; ++j) row[j] *= inv;
    row[target] -= 1.f;
  } else {
    for (int j = 0; j < n; ++j) sum += std::exp(row[j] - mx);
  }
  return std::log(sum) + mx - target_logit;
}

void swiglu_row_scalar(float* h, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    h[i] = g / (1.f + std::exp(-g)) * up[i];
  }
}

void swiglu_backward_row_scalar(float* dgate, float* dup, const float* dh, const float* gate,
                                const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float s = 1.f / (1.f + std::exp(-g));
    dup[i] = dh[i] * (g * s);
    dgate[i] = dh[i] * up[i] * s * (1.f + g * (1.f - s));
  }
}

void adamw_update_scalar(float* p, float* m, float* v, float* g, int64_t n, const AdamWStep& s) {
  for (int64_t i = 0; i < n; ++i) {  // decoupled decay first
    const float gi = g[i] * s.clip;
    p[i] *= s.decay;
    m[i] = s.beta1 * m[i] + (1.f - s.beta1) * gi;
    v[i] = s.beta2 * v[i] + (1.f - s.beta2) * gi * gi;
    p[i] -= s.step_size * m[i] / (std::sqrt(v[i]) / s.bc2_sqrt + s.eps);
    g[i] = 0.f;
  }
}

}  // namespace

const RowOps& scalar_row_ops() {
  static const RowOps ops{softmax_scaled_scalar,     log_sum_exp_scalar,
                          softmax_backward_scaled_scalar, cross_entropy_row_scalar,
                          swiglu_row_scalar,         swiglu_backward_row_scalar,
                          adamw_update_scalar};
  return ops;
}

}  // namespace vector_math_detail

namespace {
const vector_math_detail::RowOps& active() {
  static const vector_math_detail::RowOps& chosen = detect_simd_level() >= SimdLevel::Avx512
                                                         ? vector_math_detail::avx512_row_ops()
                                                         : vector_math_detail::scalar_row_ops();
  return chosen;
}
}  // namespace

void softmax_scaled(float* row, int n, float scale) { active().softmax_scaled(row, n, scale); }
float log_sum_exp(const float* x, int n) { return active().log_sum_exp(x, n); }
void softmax_backward_scaled(float* d, const float* p, int n, float scale) {
  active().softmax_backward_scaled(d, p, n, scale);
}
double cross_entropy_row(float* row, int n, int target, bool with_grad) {
  return active().cross_entropy_row(row, n, target, with_grad);
}
void swiglu_row(float* h, const float* gate, const float* up, int64_t n) {
  active().swiglu_row(h, gate, up, n);
}
void swiglu_backward_row(float* dgate, float* dup, const float* dh, const float* gate,
                         const float* up, int64_t n) {
  active().swiglu_backward_row(dgate, dup, dh, gate, up, n);
}
void adamw_update(float* p, float* m, float* v, float* g, int64_t n, const AdamWStep& s) {
  active().adamw_update(p, m, v, g, n, s);
}

}  // namespace siked
