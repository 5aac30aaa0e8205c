#include "thread_pool.h"

#include <algorithm>

namespace siked {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  for (;;) {
    int64_t start;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= end_) return;
      start = next_;
      next_ = std::min(end_, next_ + chunk_);
    }
    (*job_)(start, std::min(end_, start + chunk_));
  }
}

void ThreadPool::worker_loop(int) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    run_chunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t begin, int64_t end, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t n = end - begin;
  if (workers_.empty() || n <= grain) {
    fn(begin, end);
    return;
  }
  const int64_t parts = std::min<int64_t>(size(), (n + grain - 1) / grain);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    begin_ = begin;
    end_ = end;
    next_ = begin;
    chunk_ = (n + parts - 1) / parts;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

}  // namespace siked
