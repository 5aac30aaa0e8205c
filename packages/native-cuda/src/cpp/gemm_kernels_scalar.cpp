// Portable GEMM kernels: the fallback for CPUs without AVX2+FMA (and for non-x86 builds), written
// so the compiler's baseline vectoriser (SSE2 on x86-64) can still use the fixed-size inner loops.
#include "gemm_kernels.h"

#include <algorithm>
#include <vector>

#include "gemm.h"

namespace siked {
namespace gemm_detail {

namespace {

constexpr int kMR = 4;
constexpr int kNR = 8;

void micro_scalar(int kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n,
                  float beta) {
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; ++k) {
    const float* bk = b + k * kNR;
    for (int i = 0; i < kMR; ++i) {
      const float aik = a[k * kMR + i];
      for (int j = 0; j < kNR; ++j) acc[i][j] += aik * bk[j];
    }
  }
  for (int i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.f)
      for (int j = 0; j < n; ++j) ci[j] = acc[i][j];
    else
      for (int j = 0; j < n; ++j) ci[j] = beta * ci[j] + acc[i][j];
  }
}

void small_m_nt_scalar(int M, int N, int K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc, float beta) {
  for (int j = 0; j < N; ++j) {
    const float* bj = B + j * ldb;
    for (int i = 0; i < M; ++i) {
      const float* ai = A + i * lda;
      // Four partial sums break the add dependency chain and let SSE2 vectorise the loop.
      float s[4] = {0.f, 0.f, 0.f, 0.f};
      int k = 0;
      for (; k + 4 <= K; k += 4)
        for (int u = 0; u < 4; ++u) s[u] += ai[k + u] * bj[k + u];
      for (; k < K; ++k) s[0] += ai[k] * bj[k];
      const float dot = (s[0] + s[1]) + (s[2] + s[3]);
      float& cij = C[i * ldc + j];
      cij = beta == 0.f ? dot : beta * cij + dot;
    }
  }
}

// B rows of another element type: each row widened to float32 once, then the float kernel.
template <typename BT, typename Widen>
void small_m_nt_widened(int M, int N, int K, const float* A, int64_t lda, const BT* B, int64_t ldb,
                        float* C, int64_t ldc, float beta, Widen widen) {
  std::vector<float> row(size_t(std::max(K, 0)));
  for (int j = 0; j < N; ++j) {
    const BT* bj = B + j * ldb;
    for (int k = 0; k < K; ++k) row[k] = widen(bj[k]);
    small_m_nt_scalar(M, 1, K, A, lda, row.data(), K, C + j, ldc, beta);
  }
}

}  // namespace

void small_m_nt_bf16_scalar(int M, int N, int K, const float* A, int64_t lda, const uint16_t* B,
                            int64_t ldb, float* C, int64_t ldc, float beta) {
  small_m_nt_widened(M, N, K, A, lda, B, ldb, C, ldc, beta, bf16_to_float);
}

void small_m_nt_int8_scalar(int M, int N, int K, const float* A, int64_t lda, const int8_t* B,
                            int64_t ldb, float* C, int64_t ldc, float beta) {
  small_m_nt_widened(M, N, K, A, lda, B, ldb, C, ldc, beta, [](int8_t x) { return float(x); });
}

void small_m_nn_scalar(int M, int N, int K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc, float beta) {
  // Row by row of C: scaled (or cleared: beta == 0 never reads C), then one axpy per k, a loop the
  // compiler vectorises at any instruction set.
  for (int i = 0; i < M; ++i) {
    float* ci = C + i * ldc;
    for (int j = 0; j < N; ++j) ci[j] = beta == 0.f ? 0.f : beta * ci[j];
    const float* ai = A + i * lda;
    for (int k = 0; k < K; ++k) {
      const float aik = ai[k];
      const float* bk = B + k * ldb;
      for (int j = 0; j < N; ++j) ci[j] += aik * bk[j];
    }
  }
}

void pack_interleaved_scalar(const float* src, int64_t ld, int rows, int kc, int width, float* dst) {
  // Row by row: each source row is read sequentially, its values written `width` apart.
  for (int r = 0; r < rows; ++r) {
    const float* row = src + r * ld;
    for (int k = 0; k < kc; ++k) dst[k * width + r] = row[k];
  }
  for (int r = rows; r < width; ++r)
    for (int k = 0; k < kc; ++k) dst[k * width + r] = 0.f;
}

const KernelSet& scalar_kernels() {
  static const KernelSet set{SimdLevel::Scalar,     kMR, kNR, micro_scalar, small_m_nt_scalar,
                             pack_interleaved_scalar, small_m_nt_bf16_scalar,
                             small_m_nt_int8_scalar, small_m_nn_scalar, nullptr, nullptr};
  return set;
}

}  // namespace gemm_detail
}  // namespace siked
