// Variant 00 of the pool (commit c7afe42, verbatim below this line): mutex + condition variable
// dispatch, kept so pool_bench can time the engine's pool against it.
// One pool of worker threads shared by every CPU kernel of a model.
// Why one pool: on small machines two pools spinning against each other (e.g. OpenMP + BLAS)
// made PyTorch 3-20x slower here; all parallel work goes through this pool, and idle workers sleep.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace siked {

class ThreadPool {
 public:
  // threads <= 0 means std::thread::hardware_concurrency(). The calling thread also works,
  // so `threads` is the total parallelism (threads - 1 helper threads are started).
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin_i, end_i) on disjoint chunks covering [begin, end), at least `grain` items
  // per chunk, and returns when all chunks are done. Not reentrant (no nested parallel_for).
  void parallel_for(int64_t begin, int64_t end, int64_t grain,
                    const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t begin_ = 0, end_ = 0, chunk_ = 1;
  int64_t next_ = 0;         // next chunk start (guarded by mutex_)
  int pending_ = 0;          // workers still busy on the current job
  uint64_t generation_ = 0;  // bumps once per job so sleeping workers know there is new work
  bool stopping_ = false;
};

}  // namespace siked
