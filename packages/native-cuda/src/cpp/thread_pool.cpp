#include "thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace siked {

namespace {

// How long an idle thread polls before it sleeps. Long enough to bridge the gap between two
// consecutive kernels of one layer (microseconds), short enough not to steal a core from other
// processes when the model is idle.
constexpr auto kSpinTime = std::chrono::microseconds(50);

// Set while a thread runs a task of some pool, so a nested call runs inline instead of deadlocking.
thread_local bool t_inside_task = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

inline uint32_t generation_of(uint64_t state) { return static_cast<uint32_t>(state >> 32); }
inline int64_t task_of(uint64_t state) { return static_cast<int64_t>(state & 0xffffffffu); }

// Polls `ready` for kSpinTime; returns true as soon as it holds. After a short busy spin it
// yields between polls: on a machine with more runnable threads than cores, the thread we wait
// for may need this very core.
template <typename Pred>
bool spin_until(Pred ready) {
  for (int i = 0; i < 256; ++i) {
    if (ready()) return true;
    cpu_relax();
  }
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    if (ready()) return true;
    std::this_thread::yield();
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

struct InsideTask {
  InsideTask() { t_inside_task = true; }
  ~InsideTask() { t_inside_task = false; }
};

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain(uint32_t generation) {
  JobSlot& slot = slots_[generation & 1];
  uint64_t state = state_.load();
  for (;;) {
    if (generation_of(state) != generation) return;
    const int64_t task = task_of(state);
    // Read the slot before claiming: a successful CAS below proves generation `generation` was
    // still current, so the slot (only rewritten two generations later) held this job's values.
    const int64_t count = slot.count.load();
    if (task >= count) return;
    const auto* fn = slot.fn.load();
    if (!state_.compare_exchange_weak(state, state + 1)) continue;  // `state` was reloaded
    {
      InsideTask inside;
      (*fn)(task);
    }
    if (slot.done.fetch_add(1) + 1 == count && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
    state = state_.load();
  }
}

void ThreadPool::wait_for_new_job(uint32_t seen_generation) {
  auto ready = [&] { return stopping_.load() || generation_of(state_.load()) != seen_generation; };
  if (spin_until(ready)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  ++sleeping_workers_;
  wake_.wait(lock, ready);
  --sleeping_workers_;
}

void ThreadPool::worker_loop() {
  uint32_t seen = generation_of(state_.load());
  for (;;) {
    wait_for_new_job(seen);
    if (stopping_.load()) return;
    seen = generation_of(state_.load());
    drain(seen);
  }
}

void ThreadPool::wait_until_done(JobSlot& slot, int64_t count) {
  auto ready = [&] { return slot.done.load() == count; };
  if (spin_until(ready)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  caller_sleeping_ = true;
  done_.wait(lock, ready);
  caller_sleeping_ = false;
}

void ThreadPool::run_tasks(int64_t count, const std::function<void(int64_t)>& fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1 || t_inside_task) {
    for (int64_t t = 0; t < count; ++t) fn(t);
    return;
  }
  std::lock_guard<std::mutex> caller(callers_);
  const uint32_t generation = generation_of(state_.load()) + 1;
  JobSlot& slot = slots_[generation & 1];
  slot.fn = &fn;
  slot.count = count;
  slot.done = 0;
  state_.store(static_cast<uint64_t>(generation) << 32);  // publishes the job: task 0 is next
  if (sleeping_workers_.load() > 0) {
    // Taking the mutex orders this wake-up after a worker's last look at state_ (no lost wake-up).
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
  drain(generation);
  wait_until_done(slot, count);
}

void ThreadPool::parallel_for(int64_t begin, int64_t end, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t n = end - begin;
  const int64_t wanted = std::min<int64_t>(size(), (n + grain - 1) / grain);
  if (wanted <= 1 || t_inside_task) {
    fn(begin, end);
    return;
  }
  const int64_t chunk = (n + wanted - 1) / wanted;
  const int64_t parts = (n + chunk - 1) / chunk;  // rounding may leave fewer, never empty, chunks
  run_tasks(parts, [&](int64_t part) {
    const int64_t b = begin + part * chunk;
    fn(b, std::min(end, b + chunk));
  });
}

}  // namespace siked
