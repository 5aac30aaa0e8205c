// AVX-512 softmax / log-sum-exp (see vector_math.h). Built without -march like the GEMM kernels:
// each function carries its own target attribute and runs only after the dispatch saw AVX-512.
#include "vector_math.h"

#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
// As in gemm_kernels_avx512.cpp: GCC 12 reports its own AVX-512 headers' _mm512_undefined_*().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#define SIKED_TARGET_AVX512 __attribute__((target("avx512f")))

namespace siked {
namespace vector_math_detail {
namespace {

// exp(x) for 16 lanes: n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts, exact first
// product), exp(r) by the Cephes polynomial, times 2^n by vscalefps (which also flushes
// exp(-104) and below to 0, so -inf lanes give 0).
SIKED_TARGET_AVX512 inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(p, n);
}

SIKED_TARGET_AVX512 inline __mmask16 tail_mask(int64_t count) {
  return count >= 16 ? __mmask16(0xffff) : __mmask16((1u << count) - 1);
}

// The largest of scale * x[i].
SIKED_TARGET_AVX512 float max_scaled(const float* x, int n, __m512 scale) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    mx = _mm512_mask_max_ps(mx, m, mx, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale));
  }
  return _mm512_reduce_max_ps(mx);
}

SIKED_TARGET_AVX512 void scale_row(float* row, int n, float factor) {
  const __m512 f = _mm512_set1_ps(factor);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(row + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + i), f));
  }
}


SIKED_TARGET_AVX512 void softmax_scaled_avx512(float* row, int n, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512 mx = _mm512_set1_ps(max_scaled(row, n, s));
  __m512 sum = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = exp16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, row + i), s, mx));
    sum = _mm512_mask_add_ps(sum, m, sum, e);
    _mm512_mask_storeu_ps(row + i, m, e);
  }
  scale_row(row, n, 1.f / _mm512_reduce_add_ps(sum));
}

SIKED_TARGET_AVX512 float log_sum_exp_avx512(const float* x, int n) {
  const float largest = max_scaled(x, n, _mm512_set1_ps(1.f));
  const __m512 mx = _mm512_set1_ps(largest);
  __m512 sum = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    sum = _mm512_mask_add_ps(sum, m, sum, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx)));
  }
  return float(double(largest) + std::log(double(_mm512_reduce_add_ps(sum))));
}

SIKED_TARGET_AVX512 void softmax_backward_scaled_avx512(float* d, const float* p, int n, float scale) {
  __m512 dot = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    dot = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p + i), _mm512_maskz_loadu_ps(m, d + i), dot);
  }
  const __m512 total = _mm512_set1_ps(_mm512_reduce_add_ps(dot)), s = _mm512_set1_ps(scale);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 pi = _mm512_maskz_loadu_ps(m, p + i);
    const __m512 di = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, d + i), total);
    _mm512_mask_storeu_ps(d + i, m, _mm512_mul_ps(_mm512_mul_ps(pi, di), s));
  }
}

SIKED_TARGET_AVX512 double cross_entropy_row_avx512(float* row, int n, int target, bool with_grad) {
  const float largest = max_scaled(row, n, _mm512_set1_ps(1.f));
  const float target_logit = row[target];
  const __m512 mx = _mm512_set1_ps(largest);
  // Two accumulators: at a 49k vocabulary each lane sums ~1.5k terms.
  __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + i), mx));
    if ((i / 16) % 2 == 0) sum0 = _mm512_mask_add_ps(sum0, m, sum0, e);
    else sum1 = _mm512_mask_add_ps(sum1, m, sum1, e);
    if (with_grad) _mm512_mask_storeu_ps(row + i, m, e);
  }
  const double sum = double(_mm512_reduce_add_ps(sum0)) + double(_mm512_reduce_add_ps(sum1));
  if (with_grad) {
    scale_row(row, n, float(1.0 / sum));
    row[target] -= 1.f;
  }
  return std::log(sum) + largest - target_logit;
}

// sigmoid(g) for 16 lanes.
SIKED_TARGET_AVX512 inline __m512 sigmoid16(__m512 g) {
  const __m512 one = _mm512_set1_ps(1.f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
}

SIKED_TARGET_AVX512 void swiglu_row_avx512(float* h, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 silu = _mm512_mul_ps(g, sigmoid16(g));
    _mm512_mask_storeu_ps(h + i, m, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

SIKED_TARGET_AVX512 void swiglu_backward_row_avx512(float* dgate, float* dup, const float* dh,
                                                    const float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 s = sigmoid16(g);
    const __m512 d = _mm512_maskz_loadu_ps(m, dh + i);
    _mm512_mask_storeu_ps(dup + i, m, _mm512_mul_ps(d, _mm512_mul_ps(g, s)));
    // silu'(g) = s * (1 + g * (1 - s))
    const __m512 slope = _mm512_mul_ps(s, _mm512_fmadd_ps(g, _mm512_sub_ps(one, s), one));
    _mm512_mask_storeu_ps(dgate + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, up + i)), slope));
  }
}

// The scalar loop 16 lanes at a time. fp-contract=off: GCC would otherwise fuse the vector
// multiplies and adds into FMAs, which round once instead of twice and so differ in the last bit.
SIKED_TARGET_AVX512 __attribute__((optimize("fp-contract=off"))) void adamw_update_avx512(
    float* p, float* m, float* v, float* g, int64_t n, const AdamWStep& s) {
  const __m512 clip = _mm512_set1_ps(s.clip), decay = _mm512_set1_ps(s.decay);
  const __m512 b1 = _mm512_set1_ps(s.beta1), b2 = _mm512_set1_ps(s.beta2);
  const __m512 one_b1 = _mm512_set1_ps(1.f - s.beta1), one_b2 = _mm512_set1_ps(1.f - s.beta2);
  const __m512 step = _mm512_set1_ps(s.step_size), bc2 = _mm512_set1_ps(s.bc2_sqrt);
  const __m512 eps = _mm512_set1_ps(s.eps), zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512 gi = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, g + i), clip);
    __m512 pi = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, p + i), decay);
    const __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(k, m + i)),
                                    _mm512_mul_ps(one_b1, gi));
    const __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(k, v + i)),
                                    _mm512_mul_ps(_mm512_mul_ps(one_b2, gi), gi));
    const __m512 denominator = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), eps);
    pi = _mm512_sub_ps(pi, _mm512_div_ps(_mm512_mul_ps(step, mi), denominator));
    _mm512_mask_storeu_ps(p + i, k, pi);
    _mm512_mask_storeu_ps(m + i, k, mi);
    _mm512_mask_storeu_ps(v + i, k, vi);
    _mm512_mask_storeu_ps(g + i, k, zero);
  }
}

}  // namespace

const RowOps& avx512_row_ops() {
  static const RowOps ops{softmax_scaled_avx512,          log_sum_exp_avx512,
                          softmax_backward_scaled_avx512, cross_entropy_row_avx512,
                          swiglu_row_avx512,              swiglu_backward_row_avx512,
                          adamw_update_avx512};
  return ops;
}

}  // namespace vector_math_detail
}  // namespace siked

#else  // not x86-64: the portable versions (never dispatched to AVX-512 here)

namespace siked {
namespace vector_math_detail {
const RowOps& avx512_row_ops() { return scalar_row_ops(); }
}  // namespace vector_math_detail
}  // namespace siked

#endif
