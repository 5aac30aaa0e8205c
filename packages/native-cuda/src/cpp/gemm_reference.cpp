#include "gemm.h"

namespace siked {

void sgemm_nt_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[i * lda + k]) * B[j * ldb + k];
      C[i * ldc + j] = float(acc + (beta == 0.f ? 0.0 : double(beta) * C[i * ldc + j]));
    }
}

void sgemm_nn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[i * lda + k]) * B[k * ldb + j];
      C[i * ldc + j] = float(acc + (beta == 0.f ? 0.0 : double(beta) * C[i * ldc + j]));
    }
}

void sgemm_tn_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                        float* C, int ldc, float beta) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[k * lda + i]) * B[k * ldb + j];
      C[i * ldc + j] = float(acc + (beta == 0.f ? 0.0 : double(beta) * C[i * ldc + j]));
    }
}

}  // namespace siked
