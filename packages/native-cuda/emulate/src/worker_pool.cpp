// Helper threads sleeping on a condition variable between parallel sections (worker_pool.h).
#include "worker_pool.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace siked_emu {
namespace {

class WorkerPool {
 public:
  explicit WorkerPool(int helpers) {
    for (int i = 0; i < helpers; ++i) threads_.emplace_back([this, i] { loop(i); });
  }

  int helpers() const { return static_cast<int>(threads_.size()); }

  void run(int helpers, void (*work)(void*), void* arg) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      work_ = work;
      arg_ = arg;
      wanted_ = helpers;
      open_ = true;
      ++generation_;
    }
    wake_.notify_all();
    work(arg);
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false;  // helpers that wake from now on skip this section
    done_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  void loop(int index) {
    unsigned long long seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (!open_ || index >= wanted_) continue;
      ++running_;
      void (*work)(void*) = work_;
      void* arg = arg_;
      lock.unlock();
      work(arg);
      lock.lock();
      if (--running_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  void (*work_)(void*) = nullptr;
  void* arg_ = nullptr;
  int wanted_ = 0, running_ = 0;
  bool open_ = false;
  unsigned long long generation_ = 0;
};

int configured_count() {
  if (const char* env = std::getenv("SIKED_EMU_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return std::min(n, 256);
  }
  const int hardware = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, std::min(hardware, 16));
}

WorkerPool& pool() {
  // Never destroyed: the helpers sleep until the process exits, and no static destructor has to
  // join threads that a Node.js worker or a late launch might still be using.
  static WorkerPool* instance = new WorkerPool(worker_count() - 1);
  return *instance;
}

}  // namespace

int worker_count() {
  static const int count = configured_count();
  return count;
}

void run_parallel(int participants, void (*work)(void*), void* arg) {
  const int helpers = std::min(participants, worker_count()) - 1;
  if (helpers <= 0) {
    work(arg);
    return;
  }
  // One section at a time: the pool has one job slot (launches are serialised anyway).
  static std::mutex section;
  std::lock_guard<std::mutex> lock(section);
  pool().run(helpers, work, arg);
}

}  // namespace siked_emu
