// Blocked GEMM for the cuBLAS stand-in (cpu_gemm.h). Each task owns one kTileM x kTileN tile
// of C, so every output element has one writer and a fixed summation order: results do not
// depend on the number of workers. Operands are packed per k-block into fp32 panels (zero
// padded), then a 16x4 register-blocked micro-kernel accumulates in fp32.
#include "cpu_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "cuda_bf16.h"
#include "worker_pool.h"

namespace siked_emu {
namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 256;
constexpr int kMicroM = 16, kMicroN = 4;

typedef float Vec8 __attribute__((vector_size(32)));

inline float load(const void* base, Element type, int64_t index) {
  if (type == Element::F32) return static_cast<const float*>(base)[index];
  return bf16_bits_to_float(static_cast<const unsigned short*>(base)[index]);
}

inline int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// a_panel[p * kTileM + i] = op(A)(i0 + i, p0 + p) for p < kb, zero-padded up to a whole
// micro-tile of rows.
void pack_a(const GemmArgs& g, int i0, int p0, int mb, int kb, float* a_panel) {
  const int padded = round_up(mb, kMicroM);
  for (int p = 0; p < kb; ++p) {
    float* row_out = a_panel + p * kTileM;
    for (int i = 0; i < mb; ++i) {
      const int64_t row = i0 + i, col = p0 + p;
      row_out[i] = load(g.a, g.a_type, g.trans_a ? col + row * g.lda : row + col * g.lda);
    }
    std::fill(row_out + mb, row_out + padded, 0.f);
  }
}

// b_panel[j * kTileK + p] = op(B)(p0 + p, j0 + j) for p < kb, zero-padded up to a whole
// micro-tile of columns.
void pack_b(const GemmArgs& g, int j0, int p0, int nb, int kb, float* b_panel) {
  for (int j = 0; j < nb; ++j)
    for (int p = 0; p < kb; ++p) {
      const int64_t row = p0 + p, col = j0 + j;
      b_panel[j * kTileK + p] = load(g.b, g.b_type, g.trans_b ? col + row * g.ldb : row + col * g.ldb);
    }
  for (int j = nb; j < round_up(nb, kMicroN); ++j) std::fill(b_panel + j * kTileK, b_panel + j * kTileK + kb, 0.f);
}

// acc[j * kTileM + i] += sum_p a_panel[p][i] * b_panel[j][p] for the rows and columns in use,
// rounded up to whole micro-tiles. Cloned for AVX2+FMA so the same binary is fast where the CPU
// allows and correct everywhere.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void multiply_tile(
    float* __restrict acc, const float* __restrict a_panel, const float* __restrict b_panel, int mb, int nb,
    int kb) {
  for (int j = 0; j < nb; j += kMicroN)
    for (int i = 0; i < mb; i += kMicroM) {
      Vec8 c[kMicroN][2];
      for (int jj = 0; jj < kMicroN; ++jj)
        for (int h = 0; h < 2; ++h) std::memcpy(&c[jj][h], acc + (j + jj) * kTileM + i + 8 * h, sizeof(Vec8));
      for (int p = 0; p < kb; ++p) {
        Vec8 a0, a1;
        std::memcpy(&a0, a_panel + p * kTileM + i, sizeof(Vec8));
        std::memcpy(&a1, a_panel + p * kTileM + i + 8, sizeof(Vec8));
        for (int jj = 0; jj < kMicroN; ++jj) {
          const float b = b_panel[(j + jj) * kTileK + p];
          c[jj][0] += a0 * b;
          c[jj][1] += a1 * b;
        }
      }
      for (int jj = 0; jj < kMicroN; ++jj)
        for (int h = 0; h < 2; ++h) std::memcpy(acc + (j + jj) * kTileM + i + 8 * h, &c[jj][h], sizeof(Vec8));
    }
}

void store_tile(const GemmArgs& g, int i0, int j0, int mb, int nb, const float* acc) {
  for (int j = 0; j < nb; ++j)
    for (int i = 0; i < mb; ++i) {
      const int64_t index = (i0 + i) + static_cast<int64_t>(j0 + j) * g.ldc;
      float value = g.alpha * acc[j * kTileM + i];
      if (g.beta != 0.f) value += g.beta * load(g.c, g.c_type, index);
      if (g.c_type == Element::F32)
        static_cast<float*>(g.c)[index] = value;
      else
        static_cast<unsigned short*>(g.c)[index] = float_to_bf16_bits(value);
    }
}

struct GemmRun {
  const GemmArgs* args;
  int tiles_m, tiles;
  std::atomic<int> next{0};
};

void run_tiles(void* arg) {
  auto* run = static_cast<GemmRun*>(arg);
  const GemmArgs& g = *run->args;
  static thread_local std::vector<float> a_panel(kTileK * kTileM), b_panel(kTileN * kTileK), acc(kTileN * kTileM);
  for (int tile; (tile = run->next.fetch_add(1)) < run->tiles;) {
    const int i0 = (tile % run->tiles_m) * kTileM, j0 = (tile / run->tiles_m) * kTileN;
    const int mb = std::min(kTileM, g.m - i0), nb = std::min(kTileN, g.n - j0);
    std::fill(acc.begin(), acc.end(), 0.f);
    for (int p0 = 0; p0 < g.k; p0 += kTileK) {
      const int kb = std::min(kTileK, g.k - p0);
      pack_a(g, i0, p0, mb, kb, a_panel.data());
      pack_b(g, j0, p0, nb, kb, b_panel.data());
      multiply_tile(acc.data(), a_panel.data(), b_panel.data(), round_up(mb, kMicroM), round_up(nb, kMicroN), kb);
    }
    store_tile(g, i0, j0, mb, nb, acc.data());
  }
}

}  // namespace

void cpu_gemm(const GemmArgs& args) {
  GemmRun run;
  run.args = &args;
  run.tiles_m = (args.m + kTileM - 1) / kTileM;
  run.tiles = run.tiles_m * ((args.n + kTileN - 1) / kTileN);
  // Small products are not worth waking helpers for.
  const double flops = 2.0 * args.m * args.n * args.k;
  const int participants = flops < 4e6 ? 1 : std::min(run.tiles, worker_count());
  run_parallel(participants, &run_tiles, &run);
}

}  // namespace siked_emu
