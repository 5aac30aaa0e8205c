// Variant 00: the engine's first GEMMs (commit c7afe42), kept verbatim as the baseline the packed
// kernels are timed against: cache-friendly loop orders parallelised over rows of C, left to the
// compiler's auto-vectoriser.
#include "variants.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

namespace siked {
namespace lab {

namespace {
inline void scale_row(float* c, int n, float beta) {
  if (beta == 0.f) std::memset(c, 0, sizeof(float) * n);
  else if (beta != 1.f) for (int j = 0; j < n; ++j) c[j] *= beta;
}
void for_rows(int M, int N, int K, ThreadPool* pool, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, int64_t(N) * K));
  if (pool) pool->parallel_for(0, M, grain, fn);
  else fn(0, M);
}
}  // namespace

void naive_sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool) {
  for_rows(M, N, K, pool, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      for (int j = 0; j < N; ++j) {
        const float* b = B + int64_t(j) * ldb;
        float acc = 0.f;
        for (int k = 0; k < K; ++k) acc += a[k] * b[k];
        c[j] = beta == 0.f ? acc : beta * c[j] + acc;
      }
    }
  });
}

void naive_sgemm_nn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool) {
  for_rows(M, N, K, pool, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float* c = C + i * ldc;
      scale_row(c, N, beta);
      const float* a = A + i * lda;
      for (int k = 0; k < K; ++k) {
        const float aik = a[k];
        const float* b = B + int64_t(k) * ldb;
        for (int j = 0; j < N; ++j) c[j] += aik * b[j];
      }
    }
  });
}

void naive_sgemm_tn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool) {
  for_rows(M, N, K, pool, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float* c = C + i * ldc;
      scale_row(c, N, beta);
      for (int k = 0; k < K; ++k) {
        const float aki = A[int64_t(k) * lda + i];
        const float* b = B + int64_t(k) * ldb;
        for (int j = 0; j < N; ++j) c[j] += aki * b[j];
      }
    }
  });
}

}  // namespace lab
}  // namespace siked
