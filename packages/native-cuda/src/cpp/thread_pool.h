// One pool of worker threads shared by every CPU kernel of a model.
// Why one pool: on small machines two pools spinning against each other (e.g. OpenMP + BLAS)
// made PyTorch 3-20x slower here; all parallel work goes through this pool, and idle workers sleep.
//
// Dispatch is lock-free on the fast path: a job is published by bumping one atomic word that holds
// (generation << 32 | next task index); workers claim tasks with a compare-and-swap on that word,
// so a worker that wakes late can never claim a task of a newer job, and the caller waits only for
// claimed tasks, never for a worker that has not woken yet. Workers poll for 50 microseconds after
// a job (the layers of a model call the pool back to back; after a short busy spin they yield
// between polls, so on an oversubscribed machine they give the core away) and then sleep on a
// condition variable, so an idle pool costs no CPU. tools/kernels-lab/pool_bench times dispatch.
#pragma once

#include <atomic>
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
  // per chunk (at most size() chunks), and returns when all chunks are done. A call made from
  // inside a task of this pool runs inline on the calling thread (no nested parallelism).
  void parallel_for(int64_t begin, int64_t end, int64_t grain,
                    const std::function<void(int64_t, int64_t)>& fn);

  // Calls fn(task) once for every task in [0, count); threads claim tasks one at a time, so
  // uneven tasks (or a thread delayed by another process) balance out. Returns when all are done.
  // Nested calls run inline like parallel_for. count must be below 2^31.
  void run_tasks(int64_t count, const std::function<void(int64_t)>& fn);

 private:
  // One published job. Two slots alternate so that a worker reading the slot of generation g can
  // never see it rewritten while generation g is still claimable (see run_tasks in the .cpp).
  struct JobSlot {
    std::atomic<const std::function<void(int64_t)>*> fn{nullptr};
    std::atomic<int64_t> count{0};
    std::atomic<int64_t> done{0};
  };

  void worker_loop();
  // Claims and runs tasks of generation `generation` until none is left or a newer job started.
  void drain(uint32_t generation);
  void wait_for_new_job(uint32_t seen_generation);
  void wait_until_done(JobSlot& slot, int64_t count);

  std::vector<std::thread> workers_;
  std::atomic<uint64_t> state_{0};  // (generation << 32) | index of the next unclaimed task
  JobSlot slots_[2];
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stopping_{false};
  std::mutex callers_;  // serialises jobs submitted from different threads
  std::mutex mutex_;
  std::condition_variable wake_;  // workers wait here for a new generation
  std::condition_variable done_;  // the caller waits here for the last task of its job
};

}  // namespace siked
