// The machine's arithmetic peak, measured: tight loops of independent multiply-adds with no
// memory traffic, so a GEMM's rate can be reported as a fraction of what the core can do.
//   fp32: 12 chains of FMAs on registers (AVX-512 16 lanes, AVX2 8 lanes; scalar: none)
//   bf16: TDPBF16PS on tiles (AMX: 16 x 16 x 32 per instruction, 4 independent accumulators), or
//         VDPBF16PS chains (AVX512-BF16: 16 lanes x 2 products)
// Each thread runs its own loop for the same time; the result is the sum over threads.
#include "peak_probe.h"

#include <atomic>
#include <chrono>

#include "cpu_features.h"

#if defined(__x86_64__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "amx_tiles.h"
#endif

namespace siked {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 12;    // enough independent accumulators to cover the FMA latency
constexpr int kInnerReps = 4096;

// Counts rounds of kInnerReps until `seconds` pass (the loops themselves live in the target
// functions: a lambda would not inherit their target attribute).
class RoundTimer {
 public:
  explicit RoundTimer(double seconds) : seconds_(seconds), start_(Clock::now()) {}
  bool another_round() {
    reps_ += kInnerReps;
    elapsed_ = std::chrono::duration<double>(Clock::now() - start_).count();
    return elapsed_ < seconds_;
  }
  double per_second(double fma_per_rep) const { return reps_ * fma_per_rep / elapsed_; }

 private:
  double seconds_;
  Clock::time_point start_;
  double reps_ = 0, elapsed_ = 0;
};

volatile float g_sink;  // keeps the accumulators' results observable

#if defined(__x86_64__)
__attribute__((target("avx512f"))) double fp32_avx512(double seconds) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(float(i));
  const float seed = g_sink + 1e-7f;
  const __m512 a = _mm512_set1_ps(seed), b = _mm512_set1_ps(1.f - seed);
  RoundTimer timer(seconds);
  do {
    for (int r = 0; r < kInnerReps; ++r)
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(a, b, acc[i]);
  } while (timer.another_round());
  for (int i = 0; i < kChains; ++i) g_sink = g_sink + _mm512_reduce_add_ps(acc[i]);
  return timer.per_second(16.0 * kChains);
}

__attribute__((target("avx2,fma"))) double fp32_avx2(double seconds) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  const float seed = g_sink + 1e-7f;
  const __m256 a = _mm256_set1_ps(seed), b = _mm256_set1_ps(1.f - seed);
  RoundTimer timer(seconds);
  do {
    for (int r = 0; r < kInnerReps; ++r)
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(a, b, acc[i]);
  } while (timer.another_round());
  alignas(32) float lanes[8];
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    g_sink = g_sink + lanes[0];
  }
  return timer.per_second(8.0 * kChains);
}

__attribute__((target("avx512f,avx512bf16"))) double bf16_dp(double seconds) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_setzero_ps();
  const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));  // 1.0
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3380));  // ~6e-8
  RoundTimer timer(seconds);
  do {
    for (int r = 0; r < kInnerReps; ++r)
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  } while (timer.another_round());
  for (int i = 0; i < kChains; ++i) g_sink = g_sink + _mm512_reduce_add_ps(acc[i]);
  return timer.per_second(32.0 * kChains);
}

__attribute__((target("amx-tile,amx-bf16"))) double bf16_amx(double seconds) {
  ensure_tile_config();
  alignas(64) uint16_t operand[16 * 32];
  for (auto& x : operand) x = 0x3380;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  RoundTimer timer(seconds);
  do {
    for (int r = 0; r < kInnerReps; ++r) {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  } while (timer.another_round());
  alignas(64) float out[16 * 16];
  _tile_stored(0, out, 64);
  g_sink = g_sink + out[0];
  return timer.per_second(16.0 * 16 * 32 * 4);
}
#endif

// Multiply-adds per second of one thread for `kind`, or 0 where the CPU lacks it.
double one_thread(PeakKind kind, double seconds) {
#if defined(__x86_64__)
  if (kind == PeakKind::Fp32) {
    switch (detect_simd_level()) {
      case SimdLevel::Avx512: return fp32_avx512(seconds);
      case SimdLevel::Avx2: return fp32_avx2(seconds);
      default: return 0;
    }
  }
  switch (detect_bf16_level()) {
    case Bf16Level::Amx: return bf16_amx(seconds);
    case Bf16Level::Avx512Bf16: return bf16_dp(seconds);
    default: return 0;
  }
#else
  (void)kind;
  (void)seconds;
  return 0;
#endif
}

}  // namespace

double measure_peak_gflops(PeakKind kind, double seconds, ThreadPool* pool) {
  if (!pool || pool->size() == 1) return 2 * one_thread(kind, seconds) / 1e9;
  std::atomic<double> total{0};
  pool->run_tasks(pool->size(), [&](int64_t) {
    const double rate = one_thread(kind, seconds);
    double seen = total.load();
    while (!total.compare_exchange_weak(seen, seen + rate)) {
    }
  });
  return 2 * total.load() / 1e9;
}

}  // namespace siked
