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

void sgemm_bf16_reference(bool a_transposed, bool b_transposed, int M, int N, int K, const float* A,
                          int lda, const float* B, int ldb, float* C, int ldc, float beta) {
  auto bf16 = [](float x) { return double(bf16_to_float(float_to_bf16(x))); };
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) {
        const float a = a_transposed ? A[k * lda + i] : A[i * lda + k];
        const float b = b_transposed ? B[j * ldb + k] : B[k * ldb + j];
        acc += bf16(a) * bf16(b);
      }
      C[i * ldc + j] = float(acc + (beta == 0.f ? 0.0 : double(beta) * C[i * ldc + j]));
    }
}

}  // namespace siked
