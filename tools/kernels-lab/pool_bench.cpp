// Dispatch cost of ThreadPool: microseconds per parallel_for over `size()` chunks of empty work,
// and per parallel_for of a small real job (summing 64 Ki floats), for 1..3 threads. Built twice by
// build.sh (WHAT=pool): against the engine's pool and against variant 00 (variants/00_pool).
#include <chrono>
#include <cstdio>
#include <vector>

#include "thread_pool.h"

namespace {

double microseconds_per_call(siked::ThreadPool& pool, int calls, int64_t n,
                             const std::function<void(int64_t, int64_t)>& fn) {
  pool.parallel_for(0, n, 1, fn);  // warm-up: threads started and awake
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) pool.parallel_for(0, n, 1, fn);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
         calls;
}

}  // namespace

int main() {
  std::vector<float> data(1 << 16, 1.f);
  std::printf("%-8s %14s %20s\n", "threads", "empty us/call", "sum 64Ki us/call");
  for (int threads : {1, 2, 3}) {
    siked::ThreadPool pool(threads);
    double best_empty = 1e30, best_sum = 1e30;
    for (int round = 0; round < 5; ++round) {  // best of 5: the machine is shared
      best_empty = std::min(best_empty, microseconds_per_call(pool, 20000, threads, [](int64_t, int64_t) {}));
      std::vector<double> partial(64);
      best_sum = std::min(best_sum, microseconds_per_call(pool, 5000, int64_t(data.size()), [&](int64_t b, int64_t e) {
        double s = 0;
        for (int64_t i = b; i < e; ++i) s += data[i];
        partial[b * 64 / int64_t(data.size())] += s;
      }));
    }
    std::printf("%-8d %14.2f %20.2f\n", threads, best_empty, best_sum);
  }
  return 0;
}
