// Internal interface between the GEMM driver (gemm.cpp) and its per-instruction-set kernels
// (gemm_kernels_avx512.cpp, gemm_kernels_avx2.cpp, gemm_kernels_scalar.cpp). Not part of the
// engine's API: the model calls sgemm_nt/nn/tn from gemm.h only.
//
// Packed layouts (GotoBLAS/BLIS style, zero-padded to full panels):
//   A micro-panel: kc x MR floats, element (i, k) at a[k * MR + i]   (MR rows of op(A))
//   B micro-panel: kc x NR floats, element (k, j) at b[k * NR + j]   (NR columns of op(B)), 64-byte
//   aligned so the kernels can use aligned vector loads.
#pragma once

#include <cstdint>

#include "cpu_features.h"
#include "gemm.h"
#include "thread_pool.h"

namespace siked {
namespace gemm_detail {

// C[0:m, 0:n] = beta * C + Apanel . Bpanel over kc steps, for m <= MR and n <= NR.
// beta == 0 writes C without reading it (C may hold NaN garbage).
using MicroKernel = void (*)(int kc, const float* a_panel, const float* b_panel, float* c,
                             int64_t ldc, int m, int n, float beta);

// C[M, N] = beta * C + A[M, K] . B[N, K]^T straight from the unpacked row-major operands, for the
// decode-shaped case (M small): each row of B (a weight row) is loaded once from memory and dotted
// with every row of A while it sits in L1, so the call is bound by reading B, not by packing it.
using SmallMKernelNT = void (*)(int M, int N, int K, const float* A, int64_t lda, const float* B,
                                int64_t ldb, float* C, int64_t ldc, float beta);
// The same with B in bfloat16 (the upper 16 bits of a float32): half the bytes to stream, each
// value widened to float32 exactly, products and sums in float32.
using SmallMKernelNTBf16 = void (*)(int M, int N, int K, const float* A, int64_t lda,
                                    const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                                    float beta);

// The same with B in int8 (a weight quantized per row; the driver applies the row scales): each
// value converted to float32 exactly, products and sums in float32.
using SmallMKernelNTInt8 = void (*)(int M, int N, int K, const float* A, int64_t lda,
                                    const int8_t* B, int64_t ldb, float* C, int64_t ldc,
                                    float beta);

// The small-M nt product for the rows between the dot kernel's sweet spot and kSmallMNT (batched
// decode): A comes packed by PackInterleaved (width 16 or 32, element (i, k) at a[k * width + i]),
// and each value of B is broadcast once against a whole column of A, so every FMA adds to its own
// output and no horizontal sums are left. Null in sets without one (the dot kernel then runs).
using SmallMKernelNTPackedA = void (*)(int M, int N, int K, const float* a_packed, int width,
                                       const float* B, int64_t ldb, float* C, int64_t ldc,
                                       float beta);

// C[M, N] = beta * C + A[M, K] . B[K, N] straight from the unpacked row-major operands, for a
// handful of rows (decode attention's probabilities times the cached values, M = query heads per
// KV head): each row of B is loaded once per block of A's rows and added, scaled by A[i, k], into
// accumulators held in registers, so nothing is packed and no micro-tile is padded to MR rows.
using SmallMKernelNN = void (*)(int M, int N, int K, const float* A, int64_t lda, const float* B,
                                int64_t ldb, float* C, int64_t ldc, float beta);

// dst[k * width + r] = src[r * ld + k] for r < rows, k < kc, and 0 for rows <= r < width: packs
// rows of a row-major matrix into one interleaved panel (an A panel of sgemm_nt/nn, width MR, or a
// B panel of sgemm_nt, width NR). A transpose, so worth its own SIMD code.
using PackInterleaved = void (*)(const float* src, int64_t ld, int rows, int kc, int width,
                                 float* dst);

// MicroKernel reading its operands where they lie: row k of the A panel (MR values) at
// a + k * a_step, row k of the B panel (n <= NR values) at b + k * b_step. a_step = MR / b_step =
// NR read packed panels; a_step = lda reads a transposed A in place (sgemm_tn: only for full
// panels, m == MR, since all MR values are read), b_step = ldb a plain B (sgemm_nn/tn). The same
// products in the same order as MicroKernel, so a tile comes out bit-identical either way. It
// saves the packing copies of small products, where they cost as much as the multiplies. Null in
// sets without one.
using MicroKernelStrided = void (*)(int kc, const float* a, int64_t a_step, const float* b,
                                    int64_t b_step, float* c, int64_t ldc, int m, int n,
                                    float beta);

// The kernels of one instruction set and the register-block shape they were written for.
struct KernelSet {
  SimdLevel level;
  int mr;  // rows of C per micro-tile
  int nr;  // columns of C per micro-tile (a multiple of the vector width)
  MicroKernel micro;
  SmallMKernelNT small_m_nt;
  PackInterleaved pack_interleaved;
  SmallMKernelNTBf16 small_m_nt_bf16;
  SmallMKernelNTInt8 small_m_nt_int8;
  SmallMKernelNN small_m_nn;
  SmallMKernelNTPackedA small_m_nt_packed_a;
  MicroKernelStrided micro_strided;
};

// The portable bf16 small-M kernel.
void small_m_nt_bf16_scalar(int M, int N, int K, const float* A, int64_t lda, const uint16_t* B,
                            int64_t ldb, float* C, int64_t ldc, float beta);

// The portable int8 small-M kernel.
void small_m_nt_int8_scalar(int M, int N, int K, const float* A, int64_t lda, const int8_t* B,
                            int64_t ldb, float* C, int64_t ldc, float beta);

// The portable small-M nn kernel (also the AVX2 set's: its axpy loop vectorises at the baseline SSE2).
void small_m_nn_scalar(int M, int N, int K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc, float beta);

// The portable PackInterleaved (also used by the AVX2 set).
void pack_interleaved_scalar(const float* src, int64_t ld, int rows, int kc, int width, float* dst);

// Each returns its set; the AVX ones must only be called on a CPU that supports them (the driver
// chooses with detect_simd_level()). On non-x86 builds they return the scalar set.
const KernelSet& avx512_kernels();
const KernelSet& avx2_kernels();
const KernelSet& scalar_kernels();

// The set for a SIMD level (clamped to what this build contains).
const KernelSet& kernels_for(SimdLevel level);

// The set chosen once per process from detect_simd_level() (SIKED_SIMD caps it).
const KernelSet& active_kernels();

// The bf16 kernels of gemm_kernels_bf16.cpp (layouts there): packers that round float32 operands
// to bf16 into one mr-row A panel / nr-column B panel (src points at op(X)(0, 0); `transposed`
// as in Operand; rows/cols past the operand and k past kc are zeros), and a micro-kernel
// C[0:m, 0:n] = beta * C + Apanel . Bpanel over kc_padded (a multiple of k_block) with float32
// accumulation.
using Bf16PackPanel = void (*)(const float* src, int64_t ld, bool transposed, int rows_or_cols, int kc,
                               uint16_t* dst);
using Bf16MicroKernel = void (*)(int kc_padded, const uint16_t* a_panel, const uint16_t* b_panel, float* c,
                                 int64_t ldc, int m, int n, float beta);
struct Bf16KernelSet {
  Bf16Level level;
  int mr, nr, k_block;
  Bf16MicroKernel micro;
  Bf16PackPanel pack_a, pack_b;
};
// The set for a level, or null for Bf16Level::None (and on non-x86 builds).
const Bf16KernelSet* bf16_kernels(Bf16Level level);

// The packed path's cache blocking on this CPU: K slices (fixed, see gemm.cpp), B column blocks
// NB from the L2 size, A row blocks MB from the L3 size (sysconf/CPUID), chosen once per process
// (SIKED_GEMM_NB / SIKED_GEMM_MB override them).
struct GemmBlocking {
  int kc = 0, kc_bf16 = 0, nb = 0, mb = 0;
  int64_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
};
const GemmBlocking& gemm_blocking();

// sgemm_nt products with M up to this take the direct small-M path (float32 at either precision).
constexpr int kSmallMNT = 32;
// Above this many rows the small-M nt path takes the set's packed-A kernel where it has one.
constexpr int kSmallMNTDots = kWeightBoundRows;
// sgemm_nn products with M up to this take the direct small-M nn path (float32 at either
// precision): below it the packed path pads every micro-tile to MR rows and packs B per call.
constexpr int kSmallMNN = 8;

// A row-major operand read as op(A) (element (i, k)) or op(B) (element (k, j)). `transposed`
// says the stored matrix is the transpose: A stored [K, M] (sgemm_tn) or B stored [N, K] (nt).
struct Operand {
  const float* data;
  int64_t ld;
  bool transposed;
};

// The two paths behind sgemm_nt/nn/tn, exposed so tools/kernels-lab can time and check each one
// with any kernel set. gemm_packed: C = beta*C + op(A) op(B) for any shape (packed, cache-blocked,
// parallel over blocks of C). gemm_small_m_nt: the same for A [M, K] . B[N, K]^T with a small M,
// parallel over rows of B.
void gemm_packed(const KernelSet& kernels, int M, int N, int K, Operand A, Operand B, float* C,
                 int64_t ldc, float beta, ThreadPool* pool);
// gemm_packed with the operands rounded to bf16 while packing (float32 accumulation).
void gemm_packed_bf16(const Bf16KernelSet& kernels, int M, int N, int K, Operand A, Operand B,
                      float* C, int64_t ldc, float beta, ThreadPool* pool);
// The bf16 set chosen once per process from detect_bf16_level() (null: none usable, or only
// AVX512-BF16 on a core where it is not clearly faster than float32 FMAs).
const Bf16KernelSet* active_bf16_kernels();
void gemm_small_m_nt(const KernelSet& kernels, int M, int N, int K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C, int64_t ldc, float beta,
                     ThreadPool* pool);
// C = beta*C + A . (scales[j] * B[j, :])^T with B in int8: the kernel's dots, scaled per row of B.
void gemm_small_m_nt_int8(const KernelSet& kernels, int M, int N, int K, const float* A,
                          int64_t lda, const int8_t* B, int64_t ldb, const float* scales, float* C,
                          int64_t ldc, float beta, ThreadPool* pool);
void gemm_small_m_nt_bf16(const KernelSet& kernels, int M, int N, int K, const float* A,
                          int64_t lda, const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                          float beta, ThreadPool* pool);
// C = beta*C + A[M, K] . B[K, N] for a small M, parallel over blocks of B's columns.
void gemm_small_m_nn(const KernelSet& kernels, int M, int N, int K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C, int64_t ldc, float beta,
                     ThreadPool* pool);

}  // namespace gemm_detail
}  // namespace siked
