// Row-major single-precision matrix multiplies used by every linear layer, forward and backward.
// All three compute C = beta * C + op(A) * op(B) with leading dimensions in elements.
// `pool` may be null (single-threaded). Results must match gemm_reference_* (gemm_reference.cpp)
// within float rounding; the fast kernels dispatch on the CPU's SIMD level at run time.
//
// Implementation (gemm.cpp, gemm_kernels_*.cpp): AVX-512 (12x32 register block), AVX2+FMA (6x16)
// or scalar micro-kernels, chosen once per process by detect_simd_level() (SIKED_SIMD caps it);
// packed, cache-blocked GotoBLAS-style loops for every layout; for sgemm_nt with M <= 32 (the
// decode case) direct kernels that stream each weight row once (dots up to 8 rows, broadcasts
// against a packed A above), and for sgemm_nn with M <= 8 (decode attention's probabilities x
// values) a direct axpy kernel. All parallelise over blocks of
// C through `pool` (products under ~64K multiply-adds stay on the calling thread). beta == 0 never
// reads C, so C may hold garbage. Safe to call from several threads at once (scratch buffers are
// per thread; calls sharing one pool take turns). tools/kernels-lab checks and times them.
#pragma once

#include <cstdint>
#include <string>

#include "thread_pool.h"

namespace siked {

// What the GEMMs multiply in. Bf16: mixed precision as CPU autocast does it -- both operands
// rounded to bfloat16 (round to nearest even) while they are packed, products and sums in
// float32, C float32 -- on AMX tiles or AVX512-BF16 (detect_bf16_level()), and plain float32
// where the CPU has neither (or where AVX512-BF16 is not clearly faster than its FMAs). Applies to the packed path; sgemm_nt's small-M (decode) path stays
// float32. Results match sgemm_bf16_reference within float32 summation-order rounding.
enum class MatmulPrecision { Fp32, Bf16 };
// The float32 kernels and cache blocking in use and the caches they were chosen from, in one
// line (for `siked info`).
std::string gemm_description();

// What runs for a precision: "amx", "avx512bf16", or the float32 kernel ("avx512", "avx2", "scalar").
const char* matmul_kernel_name(MatmulPrecision precision);

// C[M,N] = beta*C + A[M,K] . B[N,K]^T      forward of y = x W^T (W stored [out, in] as in nn.Linear)
void sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool,
              MatmulPrecision precision = MatmulPrecision::Fp32);

// C[M,N] = beta*C + A[M,K] . B[K,N]        input gradient dX = dY W
void sgemm_nn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool,
              MatmulPrecision precision = MatmulPrecision::Fp32);

// C[M,N] = beta*C + A[K,M]^T . B[K,N]      weight gradient dW = dY^T X
void sgemm_tn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool,
              MatmulPrecision precision = MatmulPrecision::Fp32);

// Up to this many rows, sgemm_nt's small-M path is bound by reading B (each row of B dotted with
// every row of A): where gemm_nt_bf16w / gemm_nt_int8w's fewer bytes pay off. Above it the
// float32 path broadcasts B against packed A and outruns the narrow copies.
constexpr int kWeightBoundRows = 8;

// C[M,N] = beta*C + A[M,K] . B[N,K]^T with B in bfloat16 (decode with bf16 weight copies: half
// the bytes of sgemm_nt's B). Streams B row by row like sgemm_nt's small-M path, for any M (meant
// for small ones). float32 products and sums; equals sgemm_nt on the widened B up to summation
// order. AVX-512 kernels where the CPU has them, else a portable loop.
void gemm_nt_bf16w(int M, int N, int K, const float* A, int lda, const uint16_t* B, int ldb,
                   float* C, int ldc, float beta, ThreadPool* pool);

// C[M,N] = beta*C + A[M,K] . (scales[j] * B[j,:])^T with B in int8, quantized per row (decode
// with int8 weight copies: a quarter of sgemm_nt's bytes). Streams B like gemm_nt_bf16w; every
// int8 value converts to float32 exactly, products and sums are float32, then each dot is scaled.
void gemm_nt_int8w(int M, int N, int K, const float* A, int lda, const int8_t* B, int ldb,
                   const float* scales, float* C, int ldc, float beta, ThreadPool* pool);

// Symmetric per-row int8 quantization of W[rows, cols]: scales[r] = max|W[r,:]| / 127 and
// Q[r,k] = round(W[r,k] / scales[r]) in [-127, 127] (an all-zero row gets scale 0).
void quantize_rows_int8(const float* W, int rows, int cols, int ldw, int8_t* Q, int ldq,
                        float* scales, ThreadPool* pool);

// float32 -> bfloat16 with round-to-nearest-even (NaN stays NaN), and back (exact).
uint16_t float_to_bf16(float x);
float bf16_to_float(uint16_t x);
void floats_to_bf16(const float* src, uint16_t* dst, int64_t n, ThreadPool* pool);

// Plain triple-loop references the fast kernels are tested against (double accumulation).
void sgemm_nt_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);
void sgemm_nn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);
void sgemm_tn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);
// The reference of MatmulPrecision::Bf16: C = beta*C + op(A) op(B) with every operand value
// rounded to bf16 first (double accumulation). op(A) is A[K,M]^T when a_transposed, op(B) is
// B[N,K]^T when b_transposed.
void sgemm_bf16_reference(bool a_transposed, bool b_transposed, int M, int N, int K, const float* A,
                          int lda, const float* B, int ldb, float* C, int ldc, float beta);

}  // namespace siked
