// bfloat16 GEMM kernels for the mixed-precision path (MatmulPrecision::Bf16): packers that round
// float32 operands to bf16 (round to nearest even) into the layouts below, and two micro-kernels
// over them, AMX tiles (TDPBF16PS) and AVX512-BF16 (VDPBF16PS). Both accumulate in float32.
// Like gemm_kernels_avx512.cpp, every function carries its own target attribute and is only
// reached after detect_bf16_level() has seen the instructions (and, for AMX, Linux's permission).
//
// One packed layout serves both kernels (MR = NR = 32, kc padded with zeros to a multiple of 32):
//   A panel [kc/32][32 rows][32 k]: each 1 KiB half of a block is an AMX A tile (16 rows x 64 B);
//   B panel [kc/2][32 cols][2]: a (k, k+1) pair per column (the "VNNI" layout both instructions
//   take); 16 pairs x 16 columns, read with a 128-byte row stride, are an AMX B tile.
#include "gemm_kernels.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "amx_tiles.h"
#include "simd_avx512.h"

#define SIKED_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#define SIKED_TARGET_AMX \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16")))

namespace siked {
namespace gemm_detail {

namespace {

constexpr int kTile = 16;        // AMX tile rows; float32 lanes of a zmm
constexpr int kPanel = 32;       // MR = NR
constexpr int kBlockK = 32;      // k values per AMX tile row (64 bytes of bf16)
constexpr int kABlock = kPanel * kBlockK;  // bf16 values per 32-k block of an A panel
constexpr int kPairRow = kPanel * 2;       // bf16 values per k pair of a B panel

inline __mmask16 lanes(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << std::max(n, 0)) - 1); }

// 32 float32 -> 32 bf16 in order (lo's 16 first), round to nearest even.
SIKED_TARGET_BF16 inline __m512i to_bf16(__m512 lo, __m512 hi) {
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// 16 (k, k+1) pairs as 32-bit words: word i = (bf16(even[i]), bf16(odd[i])).
SIKED_TARGET_BF16 inline __m512 pair_words(__m512 even, __m512 odd) {
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                              23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_castsi512_ps(_mm512_permutexvar_epi16(interleave, to_bf16(even, odd)));
}

// A panel from op(A) rows [0, rows) x k [0, kc); src points at op(A)(0, 0).
SIKED_TARGET_BF16 void pack_a_bf16(const float* src, int64_t ld, bool transposed, int rows, int kc,
                                   uint16_t* dst) {
  const int blocks = (kc + kBlockK - 1) / kBlockK;
  if (!transposed) {  // row-major [M, K]: each row's 32 k values are contiguous
    for (int b = 0; b < blocks; ++b) {
      const int k0 = b * kBlockK;
      const __mmask16 m0 = lanes(kc - k0), m1 = lanes(kc - k0 - 16);
      for (int r = 0; r < kPanel; ++r) {
        __m512i v = _mm512_setzero_si512();
        if (r < rows) {
          const float* p = src + r * ld + k0;
          v = to_bf16(_mm512_maskz_loadu_ps(m0, p), _mm512_maskz_loadu_ps(m1, p + 16));
        }
        _mm512_storeu_si512(dst + b * kABlock + r * kBlockK, v);
      }
    }
    return;
  }
  // Stored [K, M]: 16 pairs of k rows give 16 rows' pair words, transposed into place.
  for (int b = 0; b < blocks; ++b)
    for (int r0 = 0; r0 < kPanel; r0 += kTile) {
      const __mmask16 row_mask = lanes(rows - r0);
      __m512 w[kTile];
      for (int p = 0; p < kTile; ++p) {
        const int k = b * kBlockK + 2 * p;
        const __m512 even = k < kc ? _mm512_maskz_loadu_ps(row_mask, src + k * ld + r0) : _mm512_setzero_ps();
        const __m512 odd = k + 1 < kc ? _mm512_maskz_loadu_ps(row_mask, src + (k + 1) * ld + r0)
                                      : _mm512_setzero_ps();
        w[p] = pair_words(even, odd);
      }
      transpose16x16(w);  // w[i] = row r0 + i's 16 pair words
      for (int i = 0; i < kTile; ++i)
        _mm512_storeu_ps(reinterpret_cast<float*>(dst + b * kABlock + (r0 + i) * kBlockK), w[i]);
    }
}

// B panel from op(B) k [0, kc) x columns [0, cols); src points at op(B)(0, 0).
SIKED_TARGET_BF16 void pack_b_bf16(const float* src, int64_t ld, bool transposed, int cols, int kc,
                                   uint16_t* dst) {
  const int pairs = (kc + kBlockK - 1) / kBlockK * (kBlockK / 2);
  if (!transposed) {  // row-major [K, N]: two k rows give 16 columns' pair words directly
    for (int p = 0; p < pairs; ++p) {
      const int k = 2 * p;
      for (int c0 = 0; c0 < kPanel; c0 += kTile) {
        const __mmask16 col_mask = lanes(cols - c0);
        const __m512 even = k < kc ? _mm512_maskz_loadu_ps(col_mask, src + k * ld + c0) : _mm512_setzero_ps();
        const __m512 odd = k + 1 < kc ? _mm512_maskz_loadu_ps(col_mask, src + (k + 1) * ld + c0)
                                      : _mm512_setzero_ps();
        _mm512_storeu_ps(reinterpret_cast<float*>(dst + p * kPairRow + 2 * c0), pair_words(even, odd));
      }
    }
    return;
  }
  // Stored [N, K] (a weight): each column's k values are contiguous, 32 of them = 16 pair words;
  // 16 columns of them transposed give 16 pairs' rows.
  for (int p0 = 0; p0 < pairs; p0 += kTile) {
    const int k0 = 2 * p0;
    const __mmask16 m0 = lanes(kc - k0), m1 = lanes(kc - k0 - 16);
    for (int c0 = 0; c0 < kPanel; c0 += kTile) {
      __m512 w[kTile];
      for (int c = 0; c < kTile; ++c) {
        if (c0 + c < cols) {
          const float* q = src + (c0 + c) * ld + k0;
          w[c] = _mm512_castsi512_ps(to_bf16(_mm512_maskz_loadu_ps(m0, q), _mm512_maskz_loadu_ps(m1, q + 16)));
        } else {
          w[c] = _mm512_setzero_ps();
        }
      }
      transpose16x16(w);  // w[p] = pair p0 + p of the 16 columns
      for (int p = 0; p < kTile; ++p)
        _mm512_storeu_ps(reinterpret_cast<float*>(dst + (p0 + p) * kPairRow + 2 * c0), w[p]);
    }
  }
}

// C[0:m, 0:n] = beta * C + tile for a 32 x 32 block held row-major in `tile`.
SIKED_TARGET_BF16 void store_block(const float* tile, float* c, int64_t ldc, int m, int n, float beta) {
  const __mmask16 lo = lanes(n), hi = lanes(n - 16);
  for (int i = 0; i < m; ++i)
    for (int h = 0; h < 2; ++h) {
      const __mmask16 mask = h ? hi : lo;
      float* ci = c + i * ldc + 16 * h;
      __m512 v = _mm512_loadu_ps(tile + i * kPanel + 16 * h);
      if (beta != 0.f) v = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, ci), v);
      _mm512_mask_storeu_ps(ci, mask, v);
    }
}

// AVX512-BF16: the 32-row panel in four 8-row passes over the (L1-resident) B panel, 8 x 2 zmm
// accumulators; each step broadcasts one row's (k, k+1) pair and multiplies it into 32 columns.
SIKED_TARGET_BF16 void micro_avx512bf16(int kc, const uint16_t* a, const uint16_t* b, float* c,
                                        int64_t ldc, int m, int n, float beta) {
  constexpr int kRows = 8;
  const int pairs = kc / 2;
  const __mmask16 lo_mask = lanes(n), hi_mask = lanes(n - 16);
  for (int r0 = 0; r0 < m; r0 += kRows) {
    __m512 lo[kRows], hi[kRows];
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; ++p) {
      const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + p * kPairRow));
      const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + p * kPairRow + 32));
      const uint16_t* ap = a + (p / 16) * kABlock + r0 * kBlockK + (p % 16) * 2;
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) {
        int32_t word;
        std::memcpy(&word, ap + i * kBlockK, 4);
        const __m512bh ai = reinterpret_cast<__m512bh>(_mm512_set1_epi32(word));
        lo[i] = _mm512_dpbf16_ps(lo[i], ai, b0);
        hi[i] = _mm512_dpbf16_ps(hi[i], ai, b1);
      }
    }
    for (int i = 0; i < kRows && r0 + i < m; ++i) {
      float* ci = c + (r0 + i) * ldc;
      if (beta == 0.f) {
        _mm512_mask_storeu_ps(ci, lo_mask, lo[i]);
        _mm512_mask_storeu_ps(ci + 16, hi_mask, hi[i]);
      } else {
        const __m512 bv = _mm512_set1_ps(beta);
        _mm512_mask_storeu_ps(ci, lo_mask, _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(lo_mask, ci), lo[i]));
        _mm512_mask_storeu_ps(ci + 16, hi_mask,
                              _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(hi_mask, ci + 16), hi[i]));
      }
    }
  }
}

// AMX: C block 32 x 32 in tiles 0-3 (2 x 2 of 16 x 16 float32), A halves in 4-5, B halves in 6-7;
// four TDPBF16PS per 32 k. A full block with beta 0 or 1 loads/stores C straight from its rows.
SIKED_TARGET_AMX void micro_amx(int kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc,
                                int m, int n, float beta) {
  ensure_tile_config();
  const bool direct = m == kPanel && n == kPanel && (beta == 0.f || beta == 1.f);
  const int64_t c_stride = ldc * int64_t(sizeof(float));
  if (direct && beta == 1.f) {
    _tile_loadd(0, c, c_stride);
    _tile_loadd(1, c + kTile, c_stride);
    _tile_loadd(2, c + kTile * ldc, c_stride);
    _tile_loadd(3, c + kTile * ldc + kTile, c_stride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int k = 0; k < kc; k += kBlockK) {
    const uint16_t* ak = a + (k / kBlockK) * kABlock;
    const uint16_t* bk = b + (k / 2) * kPairRow;
    _tile_loadd(4, ak, kBlockK * 2);
    _tile_loadd(5, ak + kTile * kBlockK, kBlockK * 2);
    _tile_loadd(6, bk, kPairRow * 2);
    _tile_loadd(7, bk + 2 * kTile, kPairRow * 2);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  if (direct) {
    _tile_stored(0, c, c_stride);
    _tile_stored(1, c + kTile, c_stride);
    _tile_stored(2, c + kTile * ldc, c_stride);
    _tile_stored(3, c + kTile * ldc + kTile, c_stride);
    return;
  }
  alignas(64) float block[kPanel * kPanel];
  constexpr int kRowBytes = kPanel * sizeof(float);
  _tile_stored(0, block, kRowBytes);
  _tile_stored(1, block + kTile, kRowBytes);
  _tile_stored(2, block + kTile * kPanel, kRowBytes);
  _tile_stored(3, block + kTile * kPanel + kTile, kRowBytes);
  store_block(block, c, ldc, m, n, beta);
}

}  // namespace

const Bf16KernelSet* bf16_kernels(Bf16Level level) {
  static const Bf16KernelSet amx{Bf16Level::Amx, kPanel, kPanel, kBlockK, micro_amx, pack_a_bf16, pack_b_bf16};
  static const Bf16KernelSet dp{Bf16Level::Avx512Bf16, kPanel, kPanel, kBlockK, micro_avx512bf16,
                                pack_a_bf16, pack_b_bf16};
  switch (level) {
    case Bf16Level::Amx: return &amx;
    case Bf16Level::Avx512Bf16: return &dp;
    default: return nullptr;
  }
}

}  // namespace gemm_detail
}  // namespace siked

#else  // not x86-64: no bf16 kernels in this build

namespace siked {
namespace gemm_detail {
const Bf16KernelSet* bf16_kernels(Bf16Level) { return nullptr; }
}  // namespace gemm_detail
}  // namespace siked

#endif
