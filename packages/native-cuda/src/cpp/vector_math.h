// Exponential row operations of decode (attention softmax, token log-probabilities), vectorised
// where the CPU allows: the AVX-512 versions use a Cephes-style expf (degree-6 polynomial after
// a two-constant range reduction, scaled by vscalefps), within a few ulp of libm's expf, which
// the portable versions call. Chosen once per process from detect_simd_level().
#pragma once

namespace siked {

// row[i] = exp(scale * row[i] - m) / sum_j exp(scale * row[j] - m), m the largest scaled value;
// n >= 1.
void softmax_scaled(float* row, int n, float scale);

// log(sum_i exp(x[i])), shifted by the largest value so nothing overflows; n >= 1.
float log_sum_exp(const float* x, int n);

namespace vector_math_detail {
// The two implementations behind the dispatch, exposed for the kernel lab's checks.
void softmax_scaled_scalar(float* row, int n, float scale);
float log_sum_exp_scalar(const float* x, int n);
void softmax_scaled_avx512(float* row, int n, float scale);
float log_sum_exp_avx512(const float* x, int n);
}  // namespace vector_math_detail

}  // namespace siked
