// AVX-512 GEMM kernels. The addon is built without -march flags (it must load on any x86-64), so
// these functions carry their own target attribute and are only called after detect_simd_level()
// has seen AVX-512 on the running CPU.
//
// Register block: MR x 32 (two zmm columns of C per row). Zen 4 executes a zmm FMA as two 256-bit
// halves, one per cycle with 4 cycles latency, so any block with >= 8 independent accumulators
// keeps the FMA pipes full; MR = 12 (24 accumulators + 2 B vectors + 1 broadcast of 32 registers)
// halves the B-panel loads per FMA compared with 6 x 32. tools/kernels-lab measures the choices.
#include "gemm_kernels.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__)
// GCC 12's AVX-512 cast/extract intrinsics start from _mm512_undefined_*(), which its own
// -Wuninitialized then reports inside the header; the values are fully defined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "simd_avx512.h"

#ifndef SIKED_AVX512_MR
#define SIKED_AVX512_MR 12
#endif

#ifndef SIKED_BF16_PREFETCH
#define SIKED_BF16_PREFETCH 256
#endif

#ifndef SIKED_NT_PREFETCH
#define SIKED_NT_PREFETCH 64
#endif

#define SIKED_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace siked {
namespace gemm_detail {

namespace {

constexpr int kMR = SIKED_AVX512_MR;
constexpr int kNR = 32;

// Stores one row of the 32-wide tile: c = acc (beta 0), c + acc (beta 1) or beta*c + acc.
SIKED_TARGET_AVX512 inline void store_row(float* c, __m512 acc, __mmask16 mask, float beta) {
  if (beta == 0.f) {
    _mm512_mask_storeu_ps(c, mask, acc);
  } else {
    const __m512 old = _mm512_maskz_loadu_ps(mask, c);
    const __m512 sum = beta == 1.f ? _mm512_add_ps(old, acc)
                                   : _mm512_fmadd_ps(_mm512_set1_ps(beta), old, acc);
    _mm512_mask_storeu_ps(c, mask, sum);
  }
}

// The MR x (16 NV) register tile over kc steps: row k of the A panel at a + k * a_step, row k of
// the B panel at b + k * b_step. PackedB: B is a packed, aligned, zero-padded panel (aligned
// loads); otherwise B rows are read in place by masked loads, which give the zeros past n that a
// packed panel holds. NV = 1 serves tiles of at most 16 columns (attention's head_dim-wide
// products) without the FMAs on the zero half. Every form adds each element's terms in the same
// order (from zero, k ascending, one FMA each), so a tile comes out bit-identical either way.
template <bool PackedB, int NV>
SIKED_TARGET_AVX512 __attribute__((always_inline)) inline void micro_tile(
    int kc, const float* a, int64_t a_step, const float* b, int64_t b_step, float* c, int64_t ldc,
    int m, int n, float beta) {
  static_assert(NV == 1 || NV == 2);
  __m512 acc[kMR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  __mmask16 mask[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const int cols = n - 16 * v;
    mask[v] = cols >= 16 ? __mmask16(0xffff) : cols <= 0 ? __mmask16(0) : __mmask16((1u << cols) - 1);
  }
  for (int k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = PackedB ? _mm512_load_ps(b + 16 * v) : _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += a_step;
    b += b_step;
  }
  if (m == kMR) {  // full tiles: a constant trip count
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) store_row(c + i * ldc + 16 * v, acc[i][v], mask[v], beta);
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      if (i >= m) break;
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) store_row(c + i * ldc + 16 * v, acc[i][v], mask[v], beta);
    }
  }
}

SIKED_TARGET_AVX512 void micro_avx512(int kc, const float* a, const float* b, float* c, int64_t ldc,
                                      int m, int n, float beta) {
  if (n <= 16) return micro_tile<true, 1>(kc, a, kMR, b, kNR, c, ldc, m, n, beta);
  micro_tile<true, 2>(kc, a, kMR, b, kNR, c, ldc, m, n, beta);
}

// micro_avx512 with its operands read in place (MicroKernelStrided).
SIKED_TARGET_AVX512 void micro_strided_avx512(int kc, const float* a, int64_t a_step, const float* b,
                                              int64_t b_step, float* c, int64_t ldc, int m, int n,
                                              float beta) {
  if (n <= 16) return micro_tile<false, 1>(kc, a, a_step, b, b_step, c, ldc, m, n, beta);
  micro_tile<false, 2>(kc, a, a_step, b, b_step, c, ldc, m, n, beta);
}

// Sum of the 16 lanes.
SIKED_TARGET_AVX512 inline float horizontal_sum(__m512 v) {
  const __m512 halves = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4e));  // lanes 0-7 += 8-15
  const __m256 oct = _mm512_castps512_ps256(halves);
  const __m128 quad = _mm_add_ps(_mm256_castps256_ps128(oct), _mm256_extractf128_ps(oct, 1));
  const __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
  return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
}

// C[i, j] = (beta * C[i, j] +) the lane sum of acc[i][j]: the end of a small-M tile.
template <int RA, int RB>
SIKED_TARGET_AVX512 inline void store_dots(const __m512 (&acc)[RA][RB], float* C, int64_t ldc,
                                           float beta) {
#pragma GCC unroll 16
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) {
      const float dot = horizontal_sum(acc[i][j]);
      float& cij = C[i * ldc + j];
      cij = beta == 0.f ? dot : beta * cij + dot;
    }
}

// 16 values of a B row as float32: loaded, (bfloat16) widened by a 16-bit shift, or (int8)
// sign-extended and converted (exact).
SIKED_TARGET_AVX512 inline __m512 load_b(const float* p) { return _mm512_loadu_ps(p); }
SIKED_TARGET_AVX512 inline __m512 load_b(const uint16_t* p) {
  const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}
SIKED_TARGET_AVX512 inline __m512 load_b(const int8_t* p) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes));
}
SIKED_TARGET_AVX512 inline __m512 load_b_masked(__mmask16 mask, const float* p) {
  return _mm512_maskz_loadu_ps(mask, p);
}
SIKED_TARGET_AVX512 inline __m512 load_b_masked(__mmask16 mask, const uint16_t* p) {
  const __m256i half = _mm256_maskz_loadu_epi16(mask, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}

SIKED_TARGET_AVX512 inline __m512 load_b_masked(__mmask16 mask, const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, p)));
}

// One RA x RB tile of the small-M kernel: RA rows of A against RB rows of B (float32,
// bfloat16, or int8 values widened exactly), K in steps of 16 with a masked tail, then one horizontal sum per output.
template <int RA, int RB, typename BT = float>
SIKED_TARGET_AVX512 void dot_tile_avx512(int K, const float* A, int64_t lda, const BT* B,
                                         int64_t ldb, float* C, int64_t ldc, float beta) {
  __m512 acc[RA][RB];
#pragma GCC unroll 16
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) acc[i][j] = _mm512_setzero_ps();
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 bv[RB];
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) bv[j] = load_b(B + j * ldb + k);
#pragma GCC unroll 16
    for (int i = 0; i < RA; ++i) {
      const __m512 av = _mm512_loadu_ps(A + i * lda + k);
#pragma GCC unroll 16
      for (int j = 0; j < RB; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  if (k < K) {
    const __mmask16 mask = __mmask16((1u << (K - k)) - 1);
    __m512 bv[RB];
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) bv[j] = load_b_masked(mask, B + j * ldb + k);
#pragma GCC unroll 16
    for (int i = 0; i < RA; ++i) {
      const __m512 av = _mm512_maskz_loadu_ps(mask, A + i * lda + k);
#pragma GCC unroll 16
      for (int j = 0; j < RB; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  store_dots<RA, RB>(acc, C, ldc, beta);
}

template <int RB, typename BT>
SIKED_TARGET_AVX512 void dot_rows_avx512(int M, int K, const float* A, int64_t lda, const BT* B,
                                         int64_t ldb, float* C, int64_t ldc, float beta) {
  int i = 0;
  for (; i + 4 <= M; i += 4)
    dot_tile_avx512<4, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta);
  switch (M - i) {
    case 3: dot_tile_avx512<3, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta); break;
    case 2: dot_tile_avx512<2, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta); break;
    case 1: dot_tile_avx512<1, RB, BT>(K, A + i * lda, lda, B, ldb, C + i * ldc, ldc, beta); break;
    default: break;
  }
}

template <typename BT>
SIKED_TARGET_AVX512 void small_m_nt_rows_avx512(int M, int N, int K, const float* A, int64_t lda,
                                                const BT* B, int64_t ldb, float* C, int64_t ldc,
                                                float beta) {
  // Four rows of B at a time stay in L1 while every row of A passes over them. A single row of A
  // (batch-1 decode) is bound by streaming B from memory: eight rows keep more loads in flight.
  int j = 0;
  if (M == 1)
    for (; j + 8 <= N; j += 8)
      dot_tile_avx512<1, 8, BT>(K, A, lda, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j + 4 <= N; j += 4) dot_rows_avx512<4, BT>(M, K, A, lda, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j < N; ++j) dot_rows_avx512<1, BT>(M, K, A, lda, B + j * ldb, ldb, C + j, ldc, beta);
}

SIKED_TARGET_AVX512 void small_m_nt_avx512(int M, int N, int K, const float* A, int64_t lda,
                                           const float* B, int64_t ldb, float* C, int64_t ldc,
                                           float beta) {
  small_m_nt_rows_avx512<float>(M, N, K, A, lda, B, ldb, C, ldc, beta);
}

// bf16 tile for K a multiple of 32: each 64-byte load of a B row holds 32 values; as 16 int32
// lanes, `<< 16` gives the even-indexed values as float32 and `& 0xffff0000` the odd ones, so
// no widening shuffle is needed. A's rows come split the same way: even[k/2], odd[k/2].
template <int RA, int RB>
SIKED_TARGET_AVX512 void dot_tile_bf16_pairs(int K, const float* even, const float* odd, int64_t lds,
                                             const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                                             float beta) {
  __m512 acc[RA][RB];
#pragma GCC unroll 16
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) acc[i][j] = _mm512_setzero_ps();
  const __m512i high = _mm512_set1_epi32(int32_t(0xffff0000u));
  for (int k = 0; k < K; k += 32) {
    __m512 be[RB], bo[RB];
#pragma GCC unroll 16
    for (int j = 0; j < RB; ++j) {
      _mm_prefetch(reinterpret_cast<const char*>(B + j * ldb + k + SIKED_BF16_PREFETCH), _MM_HINT_T0);
      const __m512i w = _mm512_loadu_si512(B + j * ldb + k);
      be[j] = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
      bo[j] = _mm512_castsi512_ps(_mm512_and_si512(w, high));
    }
#pragma GCC unroll 16
    for (int i = 0; i < RA; ++i) {
      const __m512 ae = _mm512_loadu_ps(even + i * lds + k / 2);
      const __m512 ao = _mm512_loadu_ps(odd + i * lds + k / 2);
#pragma GCC unroll 16
      for (int j = 0; j < RB; ++j) {
        acc[i][j] = _mm512_fmadd_ps(ae, be[j], acc[i][j]);
        acc[i][j] = _mm512_fmadd_ps(ao, bo[j], acc[i][j]);
      }
    }
  }
  store_dots<RA, RB>(acc, C, ldc, beta);
}

template <int RA>
SIKED_TARGET_AVX512 void bf16_pairs_rows(int N, int K, const float* even, const float* odd, int64_t lds,
                                         const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                                         float beta) {
  int j = 0;
  for (; j + 8 <= N; j += 8) dot_tile_bf16_pairs<RA, 8>(K, even, odd, lds, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j < N; ++j) dot_tile_bf16_pairs<RA, 1>(K, even, odd, lds, B + j * ldb, ldb, C + j, ldc, beta);
}

SIKED_TARGET_AVX512 void small_m_nt_int8_avx512(int M, int N, int K, const float* A, int64_t lda,
                                                const int8_t* B, int64_t ldb, float* C,
                                                int64_t ldc, float beta) {
  small_m_nt_rows_avx512<int8_t>(M, N, K, A, lda, B, ldb, C, ldc, beta);
}

SIKED_TARGET_AVX512 void small_m_nt_bf16_avx512(int M, int N, int K, const float* A, int64_t lda,
                                                const uint16_t* B, int64_t ldb, float* C,
                                                int64_t ldc, float beta) {
  // Decode shapes (a few rows, K a multiple of 32, as every model width is): the pair kernel.
  if (M > 4 || K % 32 != 0)
    return small_m_nt_rows_avx512<uint16_t>(M, N, K, A, lda, B, ldb, C, ldc, beta);
  thread_local std::vector<float> split;
  const int half = K / 2;
  split.resize(size_t(2) * M * half);
  float* even = split.data();
  float* odd = even + size_t(M) * half;
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < half; ++k) {
      even[i * half + k] = A[i * lda + 2 * k];
      odd[i * half + k] = A[i * lda + 2 * k + 1];
    }
  switch (M) {
    case 4: return bf16_pairs_rows<4>(N, K, even, odd, half, B, ldb, C, ldc, beta);
    case 3: return bf16_pairs_rows<3>(N, K, even, odd, half, B, ldb, C, ldc, beta);
    case 2: return bf16_pairs_rows<2>(N, K, even, odd, half, B, ldb, C, ldc, beta);
    default: return bf16_pairs_rows<1>(N, K, even, odd, half, B, ldb, C, ldc, beta);
  }
}

// PackInterleaved with 16 x 16 register transposes: 16 rows x 16 columns are loaded, transposed
// and stored as 16 (masked, `width`-strided) output rows, instead of one scalar store per value.
SIKED_TARGET_AVX512 void pack_interleaved_avx512(const float* src, int64_t ld, int rows, int kc,
                                                 int width, float* dst) {
  for (int r0 = 0; r0 < width; r0 += 16) {
    const int lanes = std::min(16, width - r0);
    const int valid = std::max(0, std::min(lanes, rows - r0));
    const __mmask16 lane_mask = __mmask16((1u << lanes) - 1);
    for (int k = 0; k < kc; k += 16) {
      const int cols = std::min(16, kc - k);
      const __mmask16 col_mask = __mmask16((1u << cols) - 1);
      __m512 v[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        v[i] = i < valid ? _mm512_maskz_loadu_ps(col_mask, src + (r0 + i) * ld + k)
                         : _mm512_setzero_ps();
      transpose16x16(v);
      float* d = dst + int64_t(k) * width + r0;
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        if (c < cols) _mm512_mask_storeu_ps(d + c * width, lane_mask, v[c]);
    }
  }
}

// One block of the small-M nn kernel: RA rows of C over NV vectors of 16 columns (the last one
// masked to `tail`): per k, NV vectors of B's row k, each added RA times scaled by a broadcast
// A[i, k]. 4 x 4 tiles hold 16 accumulators + 4 B vectors + 1 broadcast of the 32 zmm registers.
template <int RA, int NV>
SIKED_TARGET_AVX512 void axpy_tile_avx512(int K, const float* A, int64_t lda, const float* B,
                                          int64_t ldb, float* C, int64_t ldc, float beta,
                                          __mmask16 tail) {
  __m512 acc[RA][NV];
#pragma GCC unroll 16
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const float* bk = B + int64_t(k) * ldb;
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, bk + 16 * v) : _mm512_loadu_ps(bk + 16 * v);
#pragma GCC unroll 4
    for (int i = 0; i < RA; ++i) {
      const __m512 a = _mm512_set1_ps(A[i * lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < RA; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 mask = v == NV - 1 ? tail : __mmask16(0xffff);
      float* c = C + i * ldc + 16 * v;
      const __m512 out = beta == 0.f ? acc[i][v]
                                     : _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c), acc[i][v]);
      _mm512_mask_storeu_ps(c, mask, out);
    }
}

template <int RA>
SIKED_TARGET_AVX512 void axpy_rows_avx512(int nv, int K, const float* A, int64_t lda, const float* B,
                                          int64_t ldb, float* C, int64_t ldc, float beta, __mmask16 tail) {
  switch (nv) {
    case 4: axpy_tile_avx512<RA, 4>(K, A, lda, B, ldb, C, ldc, beta, tail); break;
    case 3: axpy_tile_avx512<RA, 3>(K, A, lda, B, ldb, C, ldc, beta, tail); break;
    case 2: axpy_tile_avx512<RA, 2>(K, A, lda, B, ldb, C, ldc, beta, tail); break;
    default: axpy_tile_avx512<RA, 1>(K, A, lda, B, ldb, C, ldc, beta, tail); break;
  }
}

SIKED_TARGET_AVX512 void small_m_nn_avx512(int M, int N, int K, const float* A, int64_t lda,
                                           const float* B, int64_t ldb, float* C, int64_t ldc,
                                           float beta) {
  // Blocks of 64 columns (a head of 64 values is one block); rows of A four at a time.
  for (int j = 0; j < N; j += 64) {
    const int cols = N - j < 64 ? N - j : 64;
    const int nv = (cols + 15) / 16;
    const int last = cols - 16 * (nv - 1);
    const __mmask16 tail = __mmask16(last == 16 ? 0xffffu : (1u << last) - 1);
    for (int i = 0; i < M; i += 4) {
      const float* a = A + i * lda;
      float* c = C + i * ldc + j;
      switch (M - i < 4 ? M - i : 4) {
        case 4: axpy_rows_avx512<4>(nv, K, a, lda, B + j, ldb, c, ldc, beta, tail); break;
        case 3: axpy_rows_avx512<3>(nv, K, a, lda, B + j, ldb, c, ldc, beta, tail); break;
        case 2: axpy_rows_avx512<2>(nv, K, a, lda, B + j, ldb, c, ldc, beta, tail); break;
        default: axpy_rows_avx512<1>(nv, K, a, lda, B + j, ldb, c, ldc, beta, tail); break;
      }
    }
  }
}

// RB rows of B against all M <= 16 * NA rows of packed A: per k, NA vectors of A's column k and
// RB broadcasts of B[r, k], RB * NA FMAs. Accumulator lane i of acc[r][v] is C[16 v + i, r], so
// the tile leaves through a small transposing store. 12 x 2 holds 24 accumulators + 2 A vectors
// + 1 broadcast; each broadcast is a load-port op, 14 loads per 24 FMAs.
template <int NA, int RB>
SIKED_TARGET_AVX512 void bcast_tile_avx512(int M, int K, const float* a, const float* B, int64_t ldb,
                                           float* C, int64_t ldc, float beta) {
  __m512 acc[RB][NA];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NA; ++v) acc[r][v] = _mm512_setzero_ps();
  auto step = [&](int k) SIKED_TARGET_AVX512 {
    __m512 av[NA];
#pragma GCC unroll 2
    for (int v = 0; v < NA; ++v) av[v] = _mm512_loadu_ps(a + int64_t(k) * (16 * NA) + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 b = _mm512_set1_ps(B[r * ldb + k]);
#pragma GCC unroll 2
      for (int v = 0; v < NA; ++v) acc[r][v] = _mm512_fmadd_ps(b, av[v], acc[r][v]);
    }
  };
  // B streams from memory (each weight is read once per call): one prefetch per row and cache
  // line, SIKED_NT_PREFETCH floats ahead, keeps the RB streams in flight.
  int k = 0;
  for (; k + 16 <= K; k += 16) {
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r)
      _mm_prefetch(reinterpret_cast<const char*>(B + r * ldb + k + SIKED_NT_PREFETCH), _MM_HINT_T0);
#pragma GCC unroll 1
    for (int kk = 0; kk < 16; ++kk) step(k + kk);
  }
  for (; k < K; ++k) step(k);
  alignas(64) float tile[RB][16 * NA];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NA; ++v) _mm512_store_ps(&tile[r][16 * v], acc[r][v]);
  for (int i = 0; i < M; ++i)
    for (int r = 0; r < RB; ++r) {
      float& c = C[i * ldc + r];
      c = beta == 0.f ? tile[r][i] : beta * c + tile[r][i];
    }
}

template <int NA>
SIKED_TARGET_AVX512 void bcast_rows_avx512(int M, int N, int K, const float* a, const float* B,
                                           int64_t ldb, float* C, int64_t ldc, float beta) {
  int j = 0;
  for (; j + 12 <= N; j += 12) bcast_tile_avx512<NA, 12>(M, K, a, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j + 4 <= N; j += 4) bcast_tile_avx512<NA, 4>(M, K, a, B + j * ldb, ldb, C + j, ldc, beta);
  for (; j < N; ++j) bcast_tile_avx512<NA, 1>(M, K, a, B + j * ldb, ldb, C + j, ldc, beta);
}

SIKED_TARGET_AVX512 void small_m_nt_packed_a_avx512(int M, int N, int K, const float* a_packed,
                                                    int width, const float* B, int64_t ldb,
                                                    float* C, int64_t ldc, float beta) {
  if (width == 16) bcast_rows_avx512<1>(M, N, K, a_packed, B, ldb, C, ldc, beta);
  else bcast_rows_avx512<2>(M, N, K, a_packed, B, ldb, C, ldc, beta);
}

}  // namespace

const KernelSet& avx512_kernels() {
  static const KernelSet set{SimdLevel::Avx512,   kMR, kNR, micro_avx512, small_m_nt_avx512,
                             pack_interleaved_avx512, small_m_nt_bf16_avx512,
                             small_m_nt_int8_avx512, small_m_nn_avx512,
                             small_m_nt_packed_a_avx512, micro_strided_avx512};
  return set;
}

}  // namespace gemm_detail
}  // namespace siked

#else  // not x86-64: no AVX-512 in this build

namespace siked {
namespace gemm_detail {
const KernelSet& avx512_kernels() { return scalar_kernels(); }
}  // namespace gemm_detail
}  // namespace siked

#endif
