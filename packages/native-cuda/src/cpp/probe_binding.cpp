// sgemmProbe(n, seconds, threads, precision = 'fp32'): the GFLOP/s this machine reaches right now
// with the engine's own GEMM on n x n matrices (the benchmark's yardstick for "fraction of the
// sgemm rate"); precision 'bf16' times the mixed-precision path.
// peakProbe(kind, seconds, threads): the arithmetic peak of kind 'fp32' | 'bf16' (peak_probe.h).
// Synchronous: they are measurements, and blocking the caller is the point.
#include <chrono>
#include <string>
#include <vector>

#include "gemm.h"
#include "model_binding.h"
#include "peak_probe.h"
#include "random.h"
#include "thread_pool.h"

namespace siked {

namespace {
Napi::Value SgemmProbe(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const int threads = info[2].As<Napi::Number>().Int32Value();
  if (n <= 0 || n > 8192 || !(seconds > 0)) throw Napi::RangeError::New(info.Env(), "sgemmProbe(n in 1..8192, seconds > 0, threads)");
  const bool bf16 = info.Length() > 3 && info[3].IsString() && info[3].As<Napi::String>().Utf8Value() == "bf16";
  const MatmulPrecision precision = bf16 ? MatmulPrecision::Bf16 : MatmulPrecision::Fp32;
  ThreadPool pool(threads);
  std::vector<float> a(size_t(n) * n), b(a.size()), c(a.size());
  Rng rng(1);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = float(rng.uniform() - 0.5);
    b[i] = float(rng.uniform() - 0.5);
  }
  sgemm_nt(n, n, n, a.data(), n, b.data(), n, c.data(), n, 0.f, &pool, precision);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  int reps = 0;
  double elapsed = 0;
  do {
    sgemm_nt(n, n, n, a.data(), n, b.data(), n, c.data(), n, 0.f, &pool, precision);
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return Napi::Number::New(info.Env(), 2.0 * double(n) * n * n * reps / elapsed / 1e9);
}

Napi::Value PeakProbe(const Napi::CallbackInfo& info) {
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const int threads = info[2].As<Napi::Number>().Int32Value();
  if ((kind != "fp32" && kind != "bf16") || !(seconds > 0) || threads <= 0)
    throw Napi::RangeError::New(info.Env(), "peakProbe('fp32' | 'bf16', seconds > 0, threads > 0)");
  ThreadPool pool(threads);
  return Napi::Number::New(
      info.Env(), measure_peak_gflops(kind == "bf16" ? PeakKind::Bf16 : PeakKind::Fp32, seconds, &pool));
}
}  // namespace

void RegisterProbes(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmProbe", Napi::Function::New(env, SgemmProbe));
  exports.Set("peakProbe", Napi::Function::New(env, PeakProbe));
}

}  // namespace siked
