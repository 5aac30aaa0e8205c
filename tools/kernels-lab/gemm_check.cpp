// Correctness check of the engine's CPU kernels against the plain references (gemm_reference.cpp):
//   - sgemm_nt/nn/tn as the model calls them (kernels chosen by detect_simd_level, SIKED_SIMD caps);
//   - each path (packed, small-M nt) with every kernel set this CPU can run, so one run covers the
//     AVX-512, AVX2 and scalar micro-kernels;
//   - the mixed-precision bf16 path (MatmulPrecision::Bf16) against sgemm_bf16_reference: the
//     public sgemm_* under the SIKED_BF16 cap, and the packed driver with every bf16 kernel set
//     this CPU runs (AMX tiles, AVX512-BF16);
//   - the ThreadPool (every index covered once, nested calls inline, many back-to-back jobs).
// Shapes include edge sizes (1, 7, 17, 33, 257, ...), leading dimensions larger than the rows,
// beta in {0, 1, 0.5} (beta 0 with NaN in C: C must not be read) and 1, 2 and 3 threads.
// Prints "simd: <level>" first and "ALL PASSED" last; exits 1 on the first failing case, after
// printing its first mismatches side by side.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu_features.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace {

using siked::ThreadPool;
using siked::gemm_detail::Bf16KernelSet;
using siked::gemm_detail::KernelSet;
using siked::gemm_detail::Operand;

enum class Layout { NT, NN, TN };
const char* layout_name(Layout l) { return l == Layout::NT ? "nt" : l == Layout::NN ? "nn" : "tn"; }

// Which implementation a case exercises.
// SmallMNTBf16: the small-M kernel with B in bfloat16 (kernels == null: the public
// gemm_nt_bf16w); the reference multiplies by the same bf16-rounded B in float.
// PublicBf16 / PackedBf16: MatmulPrecision::Bf16 through sgemm_* / gemm_packed_bf16 (bf16 set).
// SmallMNTInt8: B quantized per row to int8 (kernels == null: the public gemm_nt_int8w); the
// reference multiplies by the dequantized values q * scale in float.
// SmallMNN: the small-M nn kernel (A [M, K] . B [K, N]) of a set, through its threaded driver.
enum class Path { Public, Packed, SmallMNT, SmallMNTBf16, PublicBf16, PackedBf16, SmallMNTInt8, SmallMNN };
const char* path_name(Path p) {
  switch (p) {
    case Path::Public: return "sgemm";
    case Path::Packed: return "packed";
    case Path::SmallMNT: return "small_m_nt";
    case Path::SmallMNTBf16: return "small_m_nt_bf16";
    case Path::PublicBf16: return "sgemm[bf16]";
    case Path::SmallMNTInt8: return "small_m_nt_int8";
    case Path::SmallMNN: return "small_m_nn";
    default: return "packed_bf16";
  }
}

struct Case {
  Layout layout;
  Path path;
  const KernelSet* kernels;  // null for Path::Public
  int M, N, K, pad_a, pad_b, pad_c;
  float beta;
  ThreadPool* pool;
  const Bf16KernelSet* bf16 = nullptr;  // Path::PackedBf16
};

int failures = 0;
int cases_run = 0;

std::string describe(const Case& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s %s[%s] M=%d N=%d K=%d lda+%d ldb+%d ldc+%d beta=%g threads=%d",
                layout_name(c.layout), path_name(c.path),
                c.bf16      ? siked::bf16_level_name(c.bf16->level)
                : c.kernels ? siked::simd_level_name(c.kernels->level)
                            : "active",
                c.M, c.N, c.K,
                c.pad_a, c.pad_b, c.pad_c, c.beta, c.pool ? c.pool->size() : 1);
  return buf;
}

bool run_case(const Case& c, std::mt19937& rng) {
  ++cases_run;
  // Stored shapes: A is [M, K] (nt, nn) or [K, M] (tn); B is [N, K] (nt) or [K, N] (nn, tn).
  const int a_rows = c.layout == Layout::TN ? c.K : c.M, a_cols = c.layout == Layout::TN ? c.M : c.K;
  const int b_rows = c.layout == Layout::NT ? c.N : c.K, b_cols = c.layout == Layout::NT ? c.K : c.N;
  const int lda = a_cols + c.pad_a, ldb = b_cols + c.pad_b, ldc = c.N + c.pad_c;
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> A(size_t(a_rows) * lda + 1), B(size_t(b_rows) * ldb + 1);
  for (auto& x : A) x = uniform(rng);
  for (auto& x : B) x = uniform(rng);
  std::vector<uint16_t> B16;
  if (c.path == Path::SmallMNTBf16) {
    B16.resize(B.size());
    for (size_t i = 0; i < B.size(); ++i) {
      B16[i] = siked::float_to_bf16(B[i]);
      B[i] = siked::bf16_to_float(B16[i]);  // the reference multiplies by exactly these values
    }
  }
  std::vector<int8_t> B8;
  std::vector<float> row_scales;
  if (c.path == Path::SmallMNTInt8) {  // B is [N, K] (nt)
    B8.resize(B.size());
    row_scales.resize(size_t(c.N));
    siked::quantize_rows_int8(B.data(), c.N, c.K, ldb, B8.data(), ldb, row_scales.data(), nullptr);
    for (int j = 0; j < c.N; ++j)
      for (int k = 0; k < c.K; ++k) B[size_t(j) * ldb + k] = float(B8[size_t(j) * ldb + k]) * row_scales[j];
  }
  std::vector<float> C(size_t(c.M) * ldc + 1);
  for (auto& x : C) x = c.beta == 0.f ? std::numeric_limits<float>::quiet_NaN() : uniform(rng);
  std::vector<float> expected = C;
  // The padding columns of C must come back untouched: fill them with a sentinel.
  const float sentinel = 12345.f;
  for (int i = 0; i < c.M; ++i)
    for (int j = c.N; j < ldc; ++j) C[size_t(i) * ldc + j] = expected[size_t(i) * ldc + j] = sentinel;

  // The bf16 paths round both operands (unless the public call falls back to float32).
  // The public nt and nn calls with a small M take the float32 direct paths at either precision.
  const bool rounds_to_bf16 =
      c.path == Path::PackedBf16 ||
      (c.path == Path::PublicBf16 && siked::gemm_detail::active_bf16_kernels() != nullptr &&
       !(c.layout == Layout::NT && c.M <= siked::gemm_detail::kSmallMNT) &&
       !(c.layout == Layout::NN && c.M <= siked::gemm_detail::kSmallMNN));
  if (rounds_to_bf16)
    siked::sgemm_bf16_reference(c.layout == Layout::TN, c.layout == Layout::NT, c.M, c.N, c.K, A.data(),
                                lda, B.data(), ldb, expected.data(), ldc, c.beta);
  else switch (c.layout) {
    case Layout::NT:
      siked::sgemm_nt_reference(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, expected.data(), ldc, c.beta);
      break;
    case Layout::NN:
      siked::sgemm_nn_reference(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, expected.data(), ldc, c.beta);
      break;
    case Layout::TN:
      siked::sgemm_tn_reference(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, expected.data(), ldc, c.beta);
      break;
  }
  if (c.path == Path::Public || c.path == Path::PublicBf16) {
    auto fn = c.layout == Layout::NT ? siked::sgemm_nt
              : c.layout == Layout::NN ? siked::sgemm_nn
                                       : siked::sgemm_tn;
    fn(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, C.data(), ldc, c.beta, c.pool,
       c.path == Path::PublicBf16 ? siked::MatmulPrecision::Bf16 : siked::MatmulPrecision::Fp32);
  } else if (c.path == Path::PackedBf16) {
    const Operand a{A.data(), lda, c.layout == Layout::TN};
    const Operand b{B.data(), ldb, c.layout == Layout::NT};
    siked::gemm_detail::gemm_packed_bf16(*c.bf16, c.M, c.N, c.K, a, b, C.data(), ldc, c.beta, c.pool);
  } else if (c.path == Path::Packed) {
    const Operand a{A.data(), lda, c.layout == Layout::TN};
    const Operand b{B.data(), ldb, c.layout == Layout::NT};
    siked::gemm_detail::gemm_packed(*c.kernels, c.M, c.N, c.K, a, b, C.data(), ldc, c.beta, c.pool);
  } else if (c.path == Path::SmallMNT) {
    siked::gemm_detail::gemm_small_m_nt(*c.kernels, c.M, c.N, c.K, A.data(), lda, B.data(), ldb,
                                        C.data(), ldc, c.beta, c.pool);
  } else if (c.path == Path::SmallMNN) {
    siked::gemm_detail::gemm_small_m_nn(*c.kernels, c.M, c.N, c.K, A.data(), lda, B.data(), ldb,
                                        C.data(), ldc, c.beta, c.pool);
  } else if (c.path == Path::SmallMNTInt8) {
    if (c.kernels)
      siked::gemm_detail::gemm_small_m_nt_int8(*c.kernels, c.M, c.N, c.K, A.data(), lda, B8.data(), ldb,
                                               row_scales.data(), C.data(), ldc, c.beta, c.pool);
    else
      siked::gemm_nt_int8w(c.M, c.N, c.K, A.data(), lda, B8.data(), ldb, row_scales.data(), C.data(), ldc,
                           c.beta, c.pool);
  } else if (c.kernels) {
    siked::gemm_detail::gemm_small_m_nt_bf16(*c.kernels, c.M, c.N, c.K, A.data(), lda, B16.data(), ldb,
                                             C.data(), ldc, c.beta, c.pool);
  } else {
    siked::gemm_nt_bf16w(c.M, c.N, c.K, A.data(), lda, B16.data(), ldb, C.data(), ldc, c.beta, c.pool);
  }

  // Tolerance: absolute (grows like sqrt(K), the typical size of a sum of K products of
  // uniform(-1, 1) values) plus relative to the reference.
  const double atol = 2e-6 * std::sqrt(double(std::max(c.K, 1))) * 8, rtol = 1e-5;
  int bad = 0;
  for (int i = 0; i < c.M; ++i)
    for (int j = 0; j < ldc; ++j) {
      const double got = C[size_t(i) * ldc + j], want = expected[size_t(i) * ldc + j];
      const bool ok = j >= c.N ? got == want : std::fabs(got - want) <= atol + rtol * std::fabs(want);
      if (!ok) {
        if (bad == 0) std::printf("FAIL %s\n  %5s %5s %14s %14s %10s\n", describe(c).c_str(), "i", "j", "got", "reference", "|diff|");
        if (bad < 6) std::printf("  %5d %5d %14.7g %14.7g %10.3g%s\n", i, j, got, want, std::fabs(got - want), j >= c.N ? "  (padding of C was written)" : "");
        ++bad;
      }
    }
  // The guard element past the end of C must be untouched too.
  if (!std::isnan(C.back()) && C.back() != expected.back()) {
    std::printf("FAIL %s: wrote past the end of C\n", describe(c).c_str());
    ++bad;
  }
  if (bad) {
    std::printf("  %d mismatches (atol %.3g, rtol %.3g)\n", bad, atol, rtol);
    ++failures;
  }
  return bad == 0;
}

bool check_thread_pool(int back_to_back_jobs) {
  bool ok = true;
  auto expect = [&](bool cond, const char* what) {
    if (!cond) {
      std::printf("FAIL thread pool: %s\n", what);
      ok = false;
    }
  };
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    expect(pool.size() == threads, "size() is the total parallelism");
    // Every index covered exactly once, for awkward ranges and grains.
    for (int64_t n : {1, 2, 3, 5, 7, 64, 1000}) {
      for (int64_t grain : {1, 2, 3, 100}) {
        std::vector<std::atomic<int>> hits(n + 10);
        pool.parallel_for(10, 10 + n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[i - 10]++;
          if (e - b < std::min(grain, n)) hits[n + 5]++;  // a chunk smaller than grain
        });
        bool once = true;
        for (int64_t i = 0; i < n; ++i) once = once && hits[i] == 1;
        expect(once, "parallel_for covers each index once");
        expect(hits[n + 5] <= 1, "parallel_for chunks hold at least `grain` items (but the last)");
      }
      std::vector<std::atomic<int>> task_hits(n);
      pool.run_tasks(n, [&](int64_t t) { task_hits[t]++; });
      bool once = true;
      for (auto& h : task_hits) once = once && h == 1;
      expect(once, "run_tasks runs each task once");
    }
    // Nested use runs inline instead of deadlocking, and still covers the range.
    std::atomic<int64_t> nested_sum{0};
    pool.run_tasks(8, [&](int64_t t) {
      pool.parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) nested_sum += t * 100 + i;
      });
    });
    expect(nested_sum == 8 * 4950 + 100 * 100 * 28, "nested parallel_for inside run_tasks");
    // Many small back-to-back jobs (the decode pattern): no lost wake-up, no stale task.
    std::atomic<int64_t> total{0};
    for (int job = 0; job < back_to_back_jobs; ++job)
      pool.run_tasks(3, [&](int64_t t) { total += t + 1; });
    expect(total == int64_t(back_to_back_jobs) * 6, "back-to-back jobs all complete");
  }
  return ok;
}

// The row operations of vector_math.h (softmax, log-sum-exp, softmax backward, cross-entropy,
// SwiGLU and its backward), each implementation this CPU runs, against double-precision
// references: sizes around the 16-lane tails, wide value ranges, -inf entries.
bool check_vector_math(bool avx512, std::mt19937& rng) {
  namespace vm = siked::vector_math_detail;
  const vm::RowOps* impls[] = {&vm::scalar_row_ops(), &vm::avx512_row_ops()};
  bool ok = true;
  auto report = [&](const char* what, int impl, int n, float range, double worst) {
    if (worst <= 1.0) return;
    std::printf("FAIL vector math %s %s n=%d range=%g: error %.3g x tolerance\n", what,
                impl ? "avx512" : "scalar", n, range, worst);
    ok = false;
  };
  for (int n : {1, 2, 15, 16, 17, 100, 512, 8193})
    for (float range : {1.f, 30.f, 200.f})
      for (int impl = 0; impl < (avx512 ? 2 : 1); ++impl) {
        const vm::RowOps& ops = *impls[impl];
        std::uniform_real_distribution<float> uniform(-range, range);
        std::vector<float> x(static_cast<size_t>(n));
        for (auto& v : x) v = uniform(rng);
        if (n > 2) x[1] = -INFINITY;  // a masked-out entry
        const float scale = 0.125f;
        double mx = -INFINITY, smx = -INFINITY;
        for (float v : x) mx = std::max(mx, double(v)), smx = std::max(smx, double(v) * scale);
        double sum = 0, ssum = 0;
        for (float v : x) sum += std::exp(double(v) - mx), ssum += std::exp(double(v) * scale - smx);
        const double lse = mx + std::log(sum);

        double worst = std::fabs(ops.log_sum_exp(x.data(), n) - lse) / std::max(1.0, std::fabs(lse)) / 2e-6;
        report("log_sum_exp", impl, n, range, worst);

        std::vector<float> p = x;
        ops.softmax_scaled(p.data(), n, scale);
        std::vector<double> want_p(static_cast<size_t>(n));
        worst = 0;
        for (int i = 0; i < n; ++i) {
          want_p[i] = std::exp(double(x[i]) * scale - smx) / ssum;
          worst = std::max(worst, std::fabs(p[i] - want_p[i]) / (1e-8 + 2e-6 * want_p[i]));
        }
        report("softmax_scaled", impl, n, range, worst);

        // Softmax backward at the reference probabilities, an upstream gradient in [-1, 1].
        std::vector<float> d(static_cast<size_t>(n)), probs(static_cast<size_t>(n));
        std::uniform_real_distribution<float> unit(-1.f, 1.f);
        for (int i = 0; i < n; ++i) d[i] = unit(rng), probs[i] = float(want_p[i]);
        double dot = 0;
        for (int i = 0; i < n; ++i) dot += double(probs[i]) * d[i];
        std::vector<float> got_d = d;
        ops.softmax_backward_scaled(got_d.data(), probs.data(), n, scale);
        worst = 0;
        for (int i = 0; i < n; ++i) {
          const double want = double(probs[i]) * (d[i] - dot) * scale;
          worst = std::max(worst, std::fabs(got_d[i] - want) / (1e-8 + 1e-5 * std::fabs(want)));
        }
        report("softmax_backward_scaled", impl, n, range, worst);

        // Cross-entropy at a finite target, with and without the gradient.
        const int target = n > 2 ? n - 1 : 0;
        const double want_loss = lse - double(x[target]);
        std::vector<float> grad = x;
        const double loss = ops.cross_entropy_row(grad.data(), n, target, true);
        const double loss_only = ops.cross_entropy_row(std::vector<float>(x).data(), n, target, false);
        worst = std::max(std::fabs(loss - want_loss), std::fabs(loss_only - want_loss)) /
                std::max(1.0, std::fabs(want_loss)) / 2e-6;
        for (int i = 0; i < n; ++i) {
          const double want = std::exp(double(x[i]) - mx) / sum - (i == target ? 1.0 : 0.0);
          worst = std::max(worst, std::fabs(grad[i] - want) / (1e-7 + 2e-6 * std::fabs(want)));
        }
        report("cross_entropy_row", impl, n, range, worst);

        // SwiGLU and its backward (gate in [-range, range], -inf replaced: silu(-inf) is NaN).
        std::vector<float> gate = x, up(static_cast<size_t>(n)), dh(static_cast<size_t>(n));
        if (n > 2) gate[1] = -range;
        for (int i = 0; i < n; ++i) up[i] = unit(rng), dh[i] = unit(rng);
        std::vector<float> h(static_cast<size_t>(n)), dgate(static_cast<size_t>(n)), dup(static_cast<size_t>(n));
        ops.swiglu_row(h.data(), gate.data(), up.data(), n);
        ops.swiglu_backward_row(dgate.data(), dup.data(), dh.data(), gate.data(), up.data(), n);
        worst = 0;
        for (int i = 0; i < n; ++i) {
          const double g = gate[i], s = 1.0 / (1.0 + std::exp(-g)), silu = g * s;
          const double want_h = silu * up[i], want_dup = dh[i] * silu;
          const double want_dgate = double(dh[i]) * up[i] * s * (1.0 + g * (1.0 - s));
          worst = std::max({worst, std::fabs(h[i] - want_h) / (1e-7 + 4e-6 * std::fabs(want_h)),
                            std::fabs(dup[i] - want_dup) / (1e-7 + 4e-6 * std::fabs(want_dup)),
                            std::fabs(dgate[i] - want_dgate) / (1e-7 + 4e-6 * std::fabs(want_dgate))});
        }
        report("swiglu", impl, n, range, worst);
      }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const siked::SimdLevel active = siked::detect_simd_level();
  std::printf("simd: %s\n", siked::simd_level_name(active));
  std::printf("bf16: %s\n", siked::bf16_level_name(siked::detect_bf16_level()));
  std::printf("blocking: NB %d, MB %d\n", siked::gemm_detail::gemm_blocking().nb,
              siked::gemm_detail::gemm_blocking().mb);

  if (!check_thread_pool(quick ? 5000 : 50000)) return 1;
  std::printf("thread pool: ok\n");

  // Kernel sets this CPU can run (ignoring the SIKED_SIMD cap: every path is checked directly).
  std::vector<const KernelSet*> sets{&siked::gemm_detail::scalar_kernels()};
  {
    const char* cap = std::getenv("SIKED_SIMD");
    if (cap) unsetenv("SIKED_SIMD");
    const siked::SimdLevel cpu = siked::detect_simd_level();
    if (cap) setenv("SIKED_SIMD", cap, 1);
    if (cpu >= siked::SimdLevel::Avx2) sets.push_back(&siked::gemm_detail::avx2_kernels());
    if (cpu >= siked::SimdLevel::Avx512) sets.push_back(&siked::gemm_detail::avx512_kernels());
  }
  // bf16 kernel sets likewise (ignoring SIKED_BF16; AMX implies AVX512-BF16).
  std::vector<const Bf16KernelSet*> bf16_sets;
  {
    const char* cap = std::getenv("SIKED_BF16");
    if (cap) unsetenv("SIKED_BF16");
    const siked::Bf16Level cpu = siked::detect_bf16_level();
    if (cap) setenv("SIKED_BF16", cap, 1);
    for (siked::Bf16Level level : {siked::Bf16Level::Avx512Bf16, siked::Bf16Level::Amx})
      if (cpu >= level) bf16_sets.push_back(siked::gemm_detail::bf16_kernels(level));
  }

  ThreadPool pool2(2), pool3(3);
  ThreadPool* pools[] = {nullptr, &pool2, &pool3};
  std::mt19937 rng(1234);
  if (!check_vector_math(sets.back()->level == siked::SimdLevel::Avx512, rng)) return 1;
  std::printf("vector math: ok\n");
  const int edge[] = {1, 2, 7, 13, 17, 33, 64, 100, 257};
  const float betas[] = {0.f, 1.f, 0.5f};
  const Layout layouts[] = {Layout::NT, Layout::NN, Layout::TN};

  // 1. Edge sizes on every path and kernel set (sizes drawn from `edge`, so every tail of the
  //    6/12-row and 8/16/32-column register blocks shows up).
  const int rounds = quick ? 40 : 120;
  std::uniform_int_distribution<int> pick(0, int(sizeof edge / sizeof edge[0]) - 1), pad(0, 5);
  for (int r = 0; r < rounds; ++r) {
    const int M = edge[pick(rng)], N = edge[pick(rng)], K = edge[pick(rng)];
    const float beta = betas[r % 3];
    ThreadPool* pool = pools[r % 3];
    const int pa = pad(rng), pb = pad(rng), pc = pad(rng);
    for (Layout layout : layouts) {
      run_case({layout, Path::Public, nullptr, M, N, K, pa, pb, pc, beta, pool}, rng);
      run_case({layout, Path::PublicBf16, nullptr, M, N, K, pa, pb, pc, beta, pool}, rng);
      for (const Bf16KernelSet* set : bf16_sets)
        run_case({layout, Path::PackedBf16, nullptr, M, N, K, pa, pb, pc, beta, pool, set}, rng);
      for (const KernelSet* set : sets) {
        run_case({layout, Path::Packed, set, M, N, K, pa, pb, pc, beta, pool}, rng);
        if (layout == Layout::NT) {
          run_case({layout, Path::SmallMNT, set, std::min(M, 40), N, K, pa, pb, pc, beta, pool}, rng);
          run_case({layout, Path::SmallMNTBf16, set, std::min(M, 40), N, K, pa, pb, pc, beta, pool}, rng);
          run_case({layout, Path::SmallMNTInt8, set, std::min(M, 40), N, K, pa, pb, pc, beta, pool}, rng);
        }
        if (layout == Layout::NN)
          run_case({layout, Path::SmallMNN, set, std::min(M, 9), N, K, pa, pb, pc, beta, pool}, rng);
      }
    }
    if (failures) return 1;
  }
  // 2. Shapes that cross the cache blocks (K > 256 slices; N > NB column blocks and M > MB row
  //    blocks where NB/MB are small: run with SIKED_GEMM_NB=64 SIKED_GEMM_MB=64 to cross them
  //    everywhere) and the model's own sizes, on the active kernels and two threads. The last
  //    three are small enough for run_fused (one dispatch, operands read in place) with several
  //    K slices and a partial last A panel: a small model's weight gradients and LM head; such
  //    products also run on one thread, where run_fused is a single task.
  struct Big { int M, N, K; };
  const Big bigs[] = {{300, 700, 600}, {2049, 33, 17}, {64, 1100, 513}, {16, 1536, 576}, {1, 2048, 384},
                      {3, 64, 1500}, {7, 200, 333}, {100, 70, 700}, {64, 200, 650}, {638, 64, 300}};
  for (const Big& b : bigs)
    for (Layout layout : layouts)
      for (float beta : betas) {
        if (quick && beta != 0.5f) continue;  // --quick: the beta cases are covered in part 1
        run_case({layout, Path::Public, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, &pool2}, rng);
        // On one thread a product of run_fused's size takes it too (one task, several K slices).
        if (int64_t(b.M) * b.N * b.K <= (int64_t(1) << 24))
          run_case({layout, Path::Public, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, nullptr}, rng);
        run_case({layout, Path::PublicBf16, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, &pool2}, rng);
        for (const Bf16KernelSet* set : bf16_sets)
          run_case({layout, Path::PackedBf16, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, &pool2, set}, rng);
        if (layout == Layout::NN && b.M <= 9)
          for (const KernelSet* set : sets)
            run_case({layout, Path::SmallMNN, set, b.M, b.N, b.K, 3, 1, 2, beta, &pool2}, rng);
        if (layout == Layout::NT) {
          run_case({layout, Path::SmallMNTBf16, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, &pool2}, rng);
          run_case({layout, Path::SmallMNTInt8, nullptr, b.M, b.N, b.K, 3, 1, 2, beta, &pool2}, rng);
        }
        if (failures) return 1;
      }
  // 3. K == 0 and empty products: C = beta * C, nothing else touched.
  for (Layout layout : layouts)
    for (float beta : betas) {
      run_case({layout, Path::Public, nullptr, 5, 9, 0, 1, 1, 1, beta, &pool2}, rng);
      run_case({layout, Path::Public, nullptr, 0, 9, 4, 1, 1, 1, beta, &pool2}, rng);
      run_case({layout, Path::Public, nullptr, 5, 0, 4, 1, 1, 1, beta, &pool2}, rng);
    }
  if (failures) return 1;
  std::printf("kernel sets checked:");
  for (const KernelSet* set : sets) std::printf(" %s", siked::simd_level_name(set->level));
  for (const Bf16KernelSet* set : bf16_sets) std::printf(" %s", siked::bf16_level_name(set->level));
  std::printf("\n%d cases\nALL PASSED\n", cases_run);
  return 0;
}
