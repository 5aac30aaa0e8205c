// Numbered GEMM variants of the lab, each timed against the engine's kernels by gemm_bench.
#pragma once

#include "gemm.h"

namespace siked {
namespace lab {

// 00: the first committed GEMMs (row-parallel loops, auto-vectorised).
void naive_sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
                    int ldc, float beta, ThreadPool* pool);
void naive_sgemm_nn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
                    int ldc, float beta, ThreadPool* pool);
void naive_sgemm_tn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
                    int ldc, float beta, ThreadPool* pool);

}  // namespace lab
}  // namespace siked
