// AVX2+FMA GEMM kernels, for x86-64 CPUs without AVX-512. Like the AVX-512 file, the functions
// carry their own target attribute because the addon is built without -march flags.
//
// Register block: 6 x 16 (two ymm columns per row): 12 accumulators cover the 2 FMA pipes x 4
// cycles latency of current cores, and 12 + 2 B vectors + 1 broadcast fit the 16 ymm registers.
#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SIKED_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace siked {
namespace gemm_detail {

namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;

// Lanes [0, n) set, for masked loads and stores of a partial 8-wide row.
SIKED_TARGET_AVX2 inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

SIKED_TARGET_AVX2 inline void store_row(float* c, __m256 acc, int n, float beta) {
  if (n >= 8) {
    if (beta == 0.f) _mm256_storeu_ps(c, acc);
    else if (beta == 1.f) _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc));
    else _mm256_storeu_ps(c, _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c), acc));
  } else if (n > 0) {
    const __m256i mask = lane_mask(n);
    __m256 out = acc;
    if (beta != 0.f)
      out = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c, mask), acc);
    _mm256_maskstore_ps(c, mask, out);
  }
}

SIKED_TARGET_AVX2 void micro_avx2(int kc, const float* a, const float* b, float* c, int64_t ldc,
                                  int m, int n, float beta) {
  __m256 lo[kMR], hi[kMR];
#pragma GCC unroll 8
  for (int i = 0; i < kMR; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      lo[i] = _mm256_fmadd_ps(ai, b0, lo[i]);
      hi[i] = _mm256_fmadd_ps(ai, b1, hi[i]);
    }
    a += kMR;
    b += kNR;
  }
#pragma GCC unroll 8
  for (int i = 0; i < kMR; ++i) {
    if (i >= m) break;
    store_row(c + i * ldc, lo[i], n, beta);
    store_row(c + i * ldc + 8, hi[i], n - 8, beta);
  }
}

SIKED_TARGET_AVX2 inline float horizontal_sum(__m256 v) {
  const __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
  return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
}

// 8 values of a B row as float32: loaded, or (bfloat16) widened by a 16-bit shift; the masked
// forms read only the first `n` (< 8) values.
SIKED_TARGET_AVX2 inline __m256 load_b(const float* p) { return _mm256_loadu_ps(p); }
SIKED_TARGET_AVX2 inline __m256 load_b(const uint16_t* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}
SIKED_TARGET_AVX2 inline __m256 load_b(const int8_t* p) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}
SIKED_TARGET_AVX2 inline __m256 load_b_masked(const float* p, __m256i mask, int) {
  return _mm256_maskload_ps(p, mask);
}
SIKED_TARGET_AVX2 inline __m256 load_b_masked(const uint16_t* p, __m256i, int n) {
  alignas(16) uint16_t tail[8] = {};
  for (int i = 0; i < n; ++i) tail[i] = p[i];
  return load_b(tail);
}
SIKED_TARGET_AVX2 inline __m256 load_b_masked(const int8_t* p, __m256i, int n) {
  alignas(16) int8_t tail[16] = {};
  for (int i = 0; i < n; ++i) tail[i] = p[i];
  return load_b(tail);
}

template <int RA, int RB, typename BT = float>
SIKED_TARGET_AVX2 void dot_tile_avx2(int K, const float* A, int64_t lda, const BT* B,
                                     int64_t ldb, float* C, int64_t ldc, float beta) {
  __m256 acc[RA][RB];
#pragma GCC unroll 8
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < RB; ++j) acc[i][j] = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 bv[RB];
#pragma GCC unroll 8
    for (int j = 0; j < RB; ++j) bv[j] = load_b(B + j * ldb + k);
#pragma GCC unroll 8
    for (int i = 0; i < RA; ++i) {
      const __m256 av = _mm256_loadu_ps(A + i * lda + k);
#pragma GCC unroll 8
      for (int j = 0; j < RB; ++j) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  if (k < K) {
    const __m256i mask = lane_mask(K - k);
    __m256 bv[RB];
#pragma GCC unroll 8
    for (int j = 0; j < RB; ++j) bv[j] = load_b_masked(B + j * ldb + k, mask, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < RA; ++i) {
      const __m256 av = _mm256_maskload_ps(A + i * lda + k, mask);
#pragma GCC unroll 8
      for (int j = 0; j < RB; ++j) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < RB; ++j) {
      const float dot = horizontal_sum(acc[i][j]);
      float& cij = C[i * ldc + j];
      cij = beta == 0.f ? dot : beta * cij + dot;
    }
}

template <int RB, typename BT>
SIKED_TARGET_AVX2 void dot_rows_avx2(int M, int K, const float* A, int64_t lda, const BT* B,
                                     int64_t ldb, float* C, int64_t ldc, float beta) {
  int i = 0;
  for (; i + 3 <= M; i += 3)
    dot_tile_avx2<3, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta);
  switch (M - i) {
    case 2: dot_tile_avx2<2, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta); break;
    case 1: dot_tile_avx2<1, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta); break;
    default: break;
  }
}

template <typename BT>
SIKED_TARGET_AVX2 void small_m_nt_rows_avx2(int M, int N, int K, const float* A, int64_t lda,
                                            const BT* B, int64_t ldb, float* C, int64_t ldc,
                                            float beta) {
  // 3 x 4 tiles: 12 accumulators + 4 B vectors of the 16 ymm registers.
  int j = 0;
  for (; j + 4 <= N; j += 4) dot_rows_avx2<4, BT>(M, K, A, lda, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j < N; ++j) dot_rows_avx2<1, BT>(M, K, A, lda, B + j * ldb, ldb, C + j, ldc, beta);
}

SIKED_TARGET_AVX2 void small_m_nt_avx2(int M, int N, int K, const float* A, int64_t lda,
                                       const float* B, int64_t ldb, float* C, int64_t ldc,
                                       float beta) {
  small_m_nt_rows_avx2<float>(M, N, K, A, lda, B, ldb, C, ldc, beta);
}

SIKED_TARGET_AVX2 void small_m_nt_bf16_avx2(int M, int N, int K, const float* A, int64_t lda,
                                            const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                                            float beta) {
  small_m_nt_rows_avx2<uint16_t>(M, N, K, A, lda, B, ldb, C, ldc, beta);
}

SIKED_TARGET_AVX2 void small_m_nt_int8_avx2(int M, int N, int K, const float* A, int64_t lda,
                                            const int8_t* B, int64_t ldb, float* C, int64_t ldc,
                                            float beta) {
  small_m_nt_rows_avx2<int8_t>(M, N, K, A, lda, B, ldb, C, ldc, beta);
}

// In-register transpose of an 8 x 8 block (r[i] = row i in, column i out).
SIKED_TARGET_AVX2 inline void transpose8x8(__m256 r[8]) {
  __m256 t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
    t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = t[i];
}

// PackInterleaved with 8 x 8 register transposes (see the AVX-512 version).
SIKED_TARGET_AVX2 void pack_interleaved_avx2(const float* src, int64_t ld, int rows, int kc,
                                             int width, float* dst) {
  for (int r0 = 0; r0 < width; r0 += 8) {
    const int lanes = width - r0 < 8 ? width - r0 : 8;
    const int valid = rows - r0 < 0 ? 0 : rows - r0 < lanes ? rows - r0 : lanes;
    const __m256i lanes_mask = lane_mask(lanes);
    for (int k = 0; k < kc; k += 8) {
      const int cols = kc - k < 8 ? kc - k : 8;
      const __m256i cols_mask = lane_mask(cols);
      __m256 v[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        v[i] = i < valid ? _mm256_maskload_ps(src + (r0 + i) * ld + k, cols_mask)
                         : _mm256_setzero_ps();
      transpose8x8(v);
      float* d = dst + int64_t(k) * width + r0;
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c)
        if (c < cols) _mm256_maskstore_ps(d + c * width, lanes_mask, v[c]);
    }
  }
}

}  // namespace

const KernelSet& avx2_kernels() {
  static const KernelSet set{SimdLevel::Avx2,        kMR, kNR, micro_avx2, small_m_nt_avx2,
                             pack_interleaved_avx2, small_m_nt_bf16_avx2, small_m_nt_int8_avx2,
                             small_m_nn_scalar, nullptr, nullptr};
  return set;
}

}  // namespace gemm_detail
}  // namespace siked

#else  // not x86-64: no AVX2 in this build

namespace siked {
namespace gemm_detail {
const KernelSet& avx2_kernels() { return scalar_kernels(); }
}  // namespace gemm_detail
}  // namespace siked

#endif
