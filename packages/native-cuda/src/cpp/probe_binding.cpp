// sgemmProbe(n, seconds, threads): the GFLOP/s this machine reaches right now with the engine's
// own sgemm on n x n matrices (the benchmark's yardstick for "fraction of the sgemm rate").
// Synchronous: it is a measurement, and blocking the caller is the point.
#include <chrono>
#include <vector>

#include "gemm.h"
#include "model_binding.h"
#include "random.h"
#include "thread_pool.h"

namespace siked {

namespace {
Napi::Value SgemmProbe(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const int threads = info[2].As<Napi::Number>().Int32Value();
  if (n <= 0 || n > 8192 || !(seconds > 0)) throw Napi::RangeError::New(info.Env(), "sgemmProbe(n in 1..8192, seconds > 0, threads)");
  ThreadPool pool(threads);
  std::vector<float> a(size_t(n) * n), b(a.size()), c(a.size());
  Rng rng(1);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = float(rng.uniform() - 0.5);
    b[i] = float(rng.uniform() - 0.5);
  }
  sgemm_nt(n, n, n, a.data(), n, b.data(), n, c.data(), n, 0.f, &pool);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  int reps = 0;
  double elapsed = 0;
  do {
    sgemm_nt(n, n, n, a.data(), n, b.data(), n, c.data(), n, 0.f, &pool);
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return Napi::Number::New(info.Env(), 2.0 * double(n) * n * n * reps / elapsed / 1e9);
}
}  // namespace

void RegisterProbes(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmProbe", Napi::Function::New(env, SgemmProbe));
}

}  // namespace siked
