// The arithmetic behind the cublasGemmEx stand-in: a column-major GEMM with cuBLAS's exact
// meaning of transa/transb/lda/ldb/ldc, fp32 accumulation, bf16 or fp32 operands and output.
#pragma once
#include <cstdint>

namespace siked_emu {

enum class Element : uint8_t { Bf16, F32 };

struct GemmArgs {
  bool trans_a, trans_b;
  int m, n, k;
  float alpha, beta;
  const void* a;
  Element a_type;
  int lda;
  const void* b;
  Element b_type;
  int ldb;
  void* c;
  Element c_type;
  int ldc;
};

// C = alpha op(A) op(B) + beta C (C not read when beta == 0, as in cuBLAS), column-major.
// Tiles of C are spread over the worker pool; bf16 results are rounded to nearest even.
void cpu_gemm(const GemmArgs& args);

}  // namespace siked_emu
