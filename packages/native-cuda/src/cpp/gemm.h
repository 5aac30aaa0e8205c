// Row-major single-precision matrix multiplies used by every linear layer, forward and backward.
// All three compute C = beta * C + op(A) * op(B) with leading dimensions in elements.
// `pool` may be null (single-threaded). Results must match gemm_reference_* (gemm_reference.cpp)
// within float rounding; the fast kernels dispatch on the CPU's SIMD level at run time.
#pragma once

#include "thread_pool.h"

namespace siked {

// C[M,N] = beta*C + A[M,K] . B[N,K]^T      forward of y = x W^T (W stored [out, in] as in nn.Linear)
void sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool);

// C[M,N] = beta*C + A[M,K] . B[K,N]        input gradient dX = dY W
void sgemm_nn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool);

// C[M,N] = beta*C + A[K,M]^T . B[K,N]      weight gradient dW = dY^T X
void sgemm_tn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool);

// Plain triple-loop references the fast kernels are tested against (double accumulation).
void sgemm_nt_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);
void sgemm_nn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);
void sgemm_tn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta);

}  // namespace siked
