// Portable softmax / log-sum-exp (libm expf, double sums) and the per-process dispatch.
#include "vector_math.h"

#include <algorithm>
#include <cmath>

#include "cpu_features.h"

namespace siked {
namespace vector_math_detail {

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

}  // namespace vector_math_detail

namespace {
bool use_avx512() {
  static const bool chosen = detect_simd_level() >= SimdLevel::Avx512;
  return chosen;
}
}  // namespace

void softmax_scaled(float* row, int n, float scale) {
  if (use_avx512()) vector_math_detail::softmax_scaled_avx512(row, n, scale);
  else vector_math_detail::softmax_scaled_scalar(row, n, scale);
}

float log_sum_exp(const float* x, int n) {
  return use_avx512() ? vector_math_detail::log_sum_exp_avx512(x, n)
                      : vector_math_detail::log_sum_exp_scalar(x, n);
}

}  // namespace siked
