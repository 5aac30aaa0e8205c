// GFLOP/s of the engine's GEMMs at the model's shapes, side by side with the baselines measured in
// the same run: variant 00 (the first committed kernels) and OpenBLAS's cblas_sgemm when a
// libopenblas can be dlopen'ed (the addon itself never links a BLAS).
//
// Shapes come from the configs of shared/anchors (tiny d=128 ff=384 V=512; small d=384 ff=1024
// V=8192; smollm135m d=576 ff=1536 V=49152). For each linear layer (in -> out) over T tokens:
//   nt  forward      C[T, out]  = X[T, in] . W[out, in]^T
//   nn  input grad   C[T, in]   = dY[T, out] . W[out, in]
//   tn  weight grad  C[out, in] = dY[T, out]^T . X[T, in]
// with T = batch*seq for training (2048, 1024 for smollm) and T = 1, 8, 32 for decode (nt only).
//
// Usage: gemm_bench [--config tiny|small|smollm135m|all] [--threads 1,2] [--train] [--decode]
//                   [--min-time SECONDS] [--no-naive] [--openblas PATH] [--paths] [--bf16]
// --bf16 adds the rate of the same call at MatmulPrecision::Bf16 (AMX / AVX512-BF16 as detected)
// and its ratio to float32.
// --paths adds, for nt products, the rates of both internal paths (packed and small-M direct), to
// place the threshold between them (kSmallMNT in gemm.cpp).
// Times are the best of repeated calls (at least 3, for at least --min-time seconds): on a shared
// machine the best run is the one least disturbed by other processes.
#include <dlfcn.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu_features.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "thread_pool.h"
#include "variants.h"

namespace {

using siked::ThreadPool;

// --- OpenBLAS through dlopen ---------------------------------------------------------------------
using CblasSgemm = void (*)(int order, int trans_a, int trans_b, int M, int N, int K, float alpha,
                            const float* A, int lda, const float* B, int ldb, float beta, float* C,
                            int ldc);
using SetThreads = void (*)(int);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct OpenBlas {
  CblasSgemm sgemm = nullptr;
  SetThreads set_threads = nullptr;
  std::string path;
};

OpenBlas load_openblas(const std::string& wanted) {
  std::vector<std::string> candidates;
  if (!wanted.empty()) candidates.push_back(wanted);
  if (const char* env = std::getenv("OPENBLAS_LIB")) candidates.push_back(env);
  // build.sh unpacks Debian's libopenblas0-pthread next to this binary when apt's cache has it.
  char exe[4096] = {};
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) > 0) {
    std::string dir(exe);
    dir.resize(dir.rfind('/'));
    candidates.push_back(dir + "/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0");
  }
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "libopenblas.so.0"})
    candidates.push_back(p);
  for (const auto& path : candidates) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) continue;
    OpenBlas blas;
    blas.sgemm = reinterpret_cast<CblasSgemm>(dlsym(lib, "cblas_sgemm"));
    blas.set_threads = reinterpret_cast<SetThreads>(dlsym(lib, "openblas_set_num_threads"));
    if (blas.sgemm && blas.set_threads) {
      blas.path = path;
      return blas;
    }
  }
  return {};
}

// --- shapes ------------------------------------------------------------------------------------
struct Config {
  const char* name;
  int d_model, d_ff, vocab, train_tokens;
};
const Config kConfigs[] = {{"tiny", 128, 384, 512, 2048},
                           {"small", 384, 1024, 8192, 2048},
                           {"smollm135m", 576, 1536, 49152, 1024}};

struct Linear {
  const char* name;
  int in, out;
};
std::vector<Linear> linears(const Config& c) {
  return {{"attn", c.d_model, c.d_model}, {"ff_up", c.d_model, c.d_ff},
          {"ff_down", c.d_ff, c.d_model}, {"logits", c.d_model, c.vocab}};
}

enum class Layout { NT, NN, TN };
const char* layout_name(Layout l) { return l == Layout::NT ? "nt" : l == Layout::NN ? "nn" : "tn"; }

struct Problem {
  Layout layout;
  int M, N, K;
  std::vector<float> A, B, C;
  int lda, ldb, ldc;
};

Problem make_problem(Layout layout, int tokens, const Linear& lin, std::mt19937& rng) {
  Problem p;
  p.layout = layout;
  if (layout == Layout::NT) { p.M = tokens; p.N = lin.out; p.K = lin.in; }
  if (layout == Layout::NN) { p.M = tokens; p.N = lin.in; p.K = lin.out; }
  if (layout == Layout::TN) { p.M = lin.out; p.N = lin.in; p.K = tokens; }
  const int a_rows = layout == Layout::TN ? p.K : p.M, a_cols = layout == Layout::TN ? p.M : p.K;
  const int b_rows = layout == Layout::NT ? p.N : p.K, b_cols = layout == Layout::NT ? p.K : p.N;
  p.lda = a_cols;
  p.ldb = b_cols;
  p.ldc = p.N;
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  p.A.resize(size_t(a_rows) * a_cols);
  p.B.resize(size_t(b_rows) * b_cols);
  p.C.assign(size_t(p.M) * p.N, 0.f);
  for (auto& x : p.A) x = u(rng);
  for (auto& x : p.B) x = u(rng);
  return p;
}

// Seconds on `clock_id`: CLOCK_MONOTONIC (wall) or CLOCK_THREAD_CPUTIME_ID (this thread's CPU).
double now_seconds(clockid_t clock_id) {
  timespec ts;
  clock_gettime(clock_id, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Best seconds per call of fn: samples of `batch` back-to-back calls (batch chosen so a sample
// lasts >= 1 ms, as the CPU clock is too coarse for microsecond calls), at least 3 samples and
// min_time seconds in all, after one warm-up call. Single-threaded runs are timed on the thread's
// CPU clock, which a busy machine's preemptions do not inflate; multi-threaded runs can only be
// timed on the wall clock.
double best_seconds(const std::function<void()>& fn, double min_time, int max_samples, bool cpu_clock) {
  const clockid_t clock_id = cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
  double t0 = now_seconds(clock_id);
  fn();
  const double first = now_seconds(clock_id) - t0;
  const int batch = first >= 1e-3 ? 1 : static_cast<int>(std::min(1e4, 1e-3 / std::max(first, 1e-7))) + 1;
  double best = 1e30, total = 0;
  for (int samples = 0; samples < max_samples && (samples < 3 || total < min_time); ++samples) {
    t0 = now_seconds(clock_id);
    for (int i = 0; i < batch; ++i) fn();
    const double s = now_seconds(clock_id) - t0;
    best = std::min(best, s / batch);
    total += s;
  }
  return best;
}

void ours(const Problem& p, float* C, ThreadPool* pool,
          siked::MatmulPrecision precision = siked::MatmulPrecision::Fp32) {
  auto fn = p.layout == Layout::NT ? siked::sgemm_nt : p.layout == Layout::NN ? siked::sgemm_nn : siked::sgemm_tn;
  fn(p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C, p.ldc, 0.f, pool, precision);
}
void naive(const Problem& p, float* C, ThreadPool* pool) {
  namespace lab = siked::lab;
  auto fn = p.layout == Layout::NT ? lab::naive_sgemm_nt : p.layout == Layout::NN ? lab::naive_sgemm_nn : lab::naive_sgemm_tn;
  fn(p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C, p.ldc, 0.f, pool);
}
void openblas(const OpenBlas& blas, const Problem& p, float* C) {
  const int ta = p.layout == Layout::TN ? kTrans : kNoTrans, tb = p.layout == Layout::NT ? kTrans : kNoTrans;
  blas.sgemm(kRowMajor, ta, tb, p.M, p.N, p.K, 1.f, p.A.data(), p.lda, p.B.data(), p.ldb, 0.f, C, p.ldc);
}

// Microseconds per job of run_tasks(threads) with empty tasks: the pool's dispatch overhead.
double dispatch_overhead_us(ThreadPool& pool) {
  const int jobs = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int j = 0; j < jobs; ++j) pool.run_tasks(pool.size(), [](int64_t) {});
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / jobs;
}

std::vector<int> parse_ints(const char* s) {
  std::vector<int> v;
  for (const char* p = s; *p;) {
    v.push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config = "all", blas_path;
  std::vector<int> thread_counts{1, 2};
  bool train = false, decode = false, with_naive = true, paths = false, bf16 = false;
  double min_time = 0.25;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--config") config = value();
    else if (a == "--threads") thread_counts = parse_ints(value());
    else if (a == "--train") train = true;
    else if (a == "--decode") decode = true;
    else if (a == "--min-time") min_time = std::atof(value());
    else if (a == "--no-naive") with_naive = false;
    else if (a == "--openblas") blas_path = value();
    else if (a == "--paths") paths = true;
    else if (a == "--bf16") bf16 = true;
    else { std::fprintf(stderr, "unknown argument %s (see the header of gemm_bench.cpp)\n", a.c_str()); return 2; }
  }
  if (!train && !decode) train = decode = true;

  const OpenBlas blas = load_openblas(blas_path);
  const auto& kernels = siked::gemm_detail::active_kernels();
  std::printf("# kernels: %s (MR %d x NR %d); OpenBLAS: %s\n", siked::simd_level_name(kernels.level),
              kernels.mr, kernels.nr, blas.sgemm ? blas.path.c_str() : "not found (set OPENBLAS_LIB)");
  if (bf16) std::printf("# bf16: %s\n", siked::matmul_kernel_name(siked::MatmulPrecision::Bf16));
  for (int t : thread_counts) {
    ThreadPool pool(t);
    std::printf("# pool of %d: %.2f us per run_tasks dispatch (empty tasks)\n", t, dispatch_overhead_us(pool));
  }
  std::printf("# GFLOP/s = 2*M*N*K / best time; 1 thread: thread CPU time, 2+ threads: wall time\n");
  std::printf("%-10s %-7s %-6s %-2s %5s %6s %5s %2s | %8s %8s %8s | %8s %8s\n", "config", "linear",
              "phase", "op", "M", "N", "K", "th", "naive00", "ours", "openblas", "ours/00", "ours/blas");

  std::mt19937 rng(7);
  for (const Config& cfg : kConfigs) {
    if (config != "all" && config != cfg.name) continue;
    struct Run { const char* phase; Layout layout; int tokens; };
    std::vector<Run> runs;
    if (train)
      for (Layout l : {Layout::NT, Layout::NN, Layout::TN}) runs.push_back({"train", l, cfg.train_tokens});
    if (decode)
      for (int b : {1, 8, 32}) runs.push_back({"decode", Layout::NT, b});
    for (const Run& run : runs)
      for (const Linear& lin : linears(cfg)) {
        Problem p = make_problem(run.layout, run.tokens, lin, rng);
        const double gflop = 2.0 * p.M * p.N * p.K / 1e9;
        std::vector<float> C(p.C.size());
        for (int t : thread_counts) {
          ThreadPool pool(t);
          ThreadPool* pool_ptr = t > 1 ? &pool : nullptr;
          const bool cpu_clock = t == 1;
          const double ours_s = best_seconds([&] { ours(p, C.data(), pool_ptr); }, min_time, 1000, cpu_clock);
          double naive_s = 0, blas_s = 0;
          // The naive loops take seconds at the largest shapes: time them once or twice there.
          if (with_naive)
            naive_s = best_seconds([&] { naive(p, C.data(), pool_ptr); }, gflop > 2 ? 0 : min_time,
                                   gflop > 2 ? 1 : 1000, cpu_clock);
          if (blas.sgemm) {
            blas.set_threads(t);
            blas_s = best_seconds([&] { openblas(blas, p, C.data()); }, min_time, 1000, cpu_clock);
            blas.set_threads(1);  // so its pthreads stop competing with the next measurement
          }
          auto rate = [&](double s) { return s > 0 ? gflop / s : 0.0; };
          char naive_col[16] = "-", blas_col[16] = "-", r00[16] = "-", rblas[16] = "-";
          if (naive_s > 0) {
            std::snprintf(naive_col, sizeof naive_col, "%8.1f", rate(naive_s));
            std::snprintf(r00, sizeof r00, "%7.2fx", naive_s / ours_s);
          }
          if (blas_s > 0) {
            std::snprintf(blas_col, sizeof blas_col, "%8.1f", rate(blas_s));
            std::snprintf(rblas, sizeof rblas, "%7.2fx", blas_s / ours_s);
          }
          std::printf("%-10s %-7s %-6s %-2s %5d %6d %5d %2d | %8s %8.1f %8s | %8s %8s", cfg.name,
                      lin.name, run.phase, layout_name(run.layout), p.M, p.N, p.K, t, naive_col,
                      rate(ours_s), blas_col, r00, rblas);
          if (bf16) {
            const double bf16_s = best_seconds([&] { ours(p, C.data(), pool_ptr, siked::MatmulPrecision::Bf16); },
                                               min_time, 1000, cpu_clock);
            std::printf(" | bf16 %8.1f %6.2fx", rate(bf16_s), ours_s / bf16_s);
          }
          if (paths && p.layout == Layout::NT) {
            namespace gd = siked::gemm_detail;
            const auto& k = gd::active_kernels();
            const double packed_s = best_seconds([&] {
              gd::gemm_packed(k, p.M, p.N, p.K, gd::Operand{p.A.data(), p.lda, false},
                              gd::Operand{p.B.data(), p.ldb, true}, C.data(), p.ldc, 0.f, pool_ptr);
            }, min_time, 1000, cpu_clock);
            const double direct_s = best_seconds([&] {
              gd::gemm_small_m_nt(k, p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C.data(),
                                  p.ldc, 0.f, pool_ptr);
            }, min_time, 1000, cpu_clock);
            std::printf(" | packed %6.1f direct %6.1f", rate(packed_s), rate(direct_s));
          }
          std::printf("\n");
          std::fflush(stdout);
        }
      }
  }
  return 0;
}
