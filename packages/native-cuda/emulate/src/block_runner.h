// Runs one thread block on the calling OS thread: each CUDA thread is a fiber, and fibers switch
// only where CUDA threads synchronise (__syncthreads, __syncwarp, shuffles, votes). A fiber that
// must wait hands over directly to the next fiber whose wait is over (or to a new fiber for a
// thread not yet started); only when there is none does control return to the block's
// scheduler, which then finds either every thread finished or a deadlock, reported as a launch
// failure, never a hang.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fiber.h"
#include "siked_emu/device_builtins.h"
#include "siked_emu/launch.h"

namespace siked_emu {

struct GridTask {
  LaunchConfig config;
  const char* kernel_name;
  void (*thread_main)(const void*);
  const void* closure;
};

class BlockRunner {
 public:
  // The runner of the calling OS thread, created on first use and kept for the thread's life.
  static BlockRunner& of_this_thread();
  // The runner executing kernel code on this OS thread, or nullptr outside a kernel.
  static BlockRunner* active();

  BlockRunner();
  BlockRunner(const BlockRunner&) = delete;
  BlockRunner& operator=(const BlockRunner&) = delete;

  // Runs block `index` (linear, x fastest) of `task` to its end. false: it could not finish,
  // *failure says why (deadlock or trap), naming the kernel and the block.
  bool run_block(const GridTask& task, uint64_t index, std::string* failure);

  // Kernel-side operations (device_builtins.h), called on the running fiber.
  int sync_block(int predicate);  // returns how many threads passed a non-zero predicate
  uint64_t warp_exchange(uint32_t mask, uint64_t bits, const char* what, ShuffleMode mode, int lane_arg,
                         int width, uint32_t* ballot);
  uint32_t active_mask() const;
  void* dynamic_shared() { return dynamic_shared_.data(); }
  [[noreturn]] void trap(const char* why);

 private:
  enum class Wait : uint8_t { Running, Barrier, Exchange, Finished, Aborted };
  struct Fiber {
    Context context;
    char* stack = nullptr;
    int thread = 0;  // linear index of the CUDA thread it runs now
    uint3 thread_idx{};
    Wait wait = Wait::Running;
    uint32_t generation = 0;  // the barrier generation it waits to see pass
    int exchange = -1;        // the warp exchange it waits to see complete
  };
  // One warp-synchronous operation of the lanes in `mask`: each writes its value, and once all
  // have arrived each reads its source. Entries are freed when every lane has read, so a fast
  // lane's next shuffle takes a new entry and never overwrites a value a slow lane still needs.
  struct Exchange {
    uint32_t mask = 0, arrived = 0, unread = 0;
    int next_open = -1;  // the warp's next exchange still waiting for lanes
    const char* what = "";
    uint64_t value[32];
  };
  struct Warp {
    uint32_t present = 0;  // lanes that exist (the last warp of a block may be partial)
    uint32_t exited = 0;
    int open = -1;  // first exchange still waiting for lanes
  };

  static void fiber_entry(void* runner);
  [[noreturn]] void fiber_main();
  void start_block(const GridTask& task, uint64_t index);
  void claim_thread(Fiber& fiber);
  int pick_next();
  void switch_to(Context* from, int fiber);
  void suspend(Fiber& fiber, Wait wait);
  bool ready(const Fiber& fiber) const;
  void thread_exited(int thread);
  void release_barrier();
  void abandon_block();
  std::string describe_deadlock() const;
  std::string where() const;

  StackPool stacks_;
  Context scheduler_;
  std::vector<Fiber> fibers_;  // fixed size: one per possible CUDA thread of a block
  std::vector<int> free_fibers_;
  std::vector<int> active_;  // started fibers, in start order (finished ones until block end)
  size_t cursor_ = 0;        // where the round-robin search for a ready fiber resumes
  int running_ = -1;         // the fiber executing now

  const GridTask* task_ = nullptr;
  uint3 block_{};
  unsigned dim_x_ = 1, dim_xy_ = 1;
  int threads_ = 0, next_thread_ = 0, finished_ = 0, live_ = 0;
  uint32_t generation_ = 0;
  int arrived_ = 0, count_ = 0, count_result_[2] = {0, 0};
  std::vector<Warp> warps_;
  std::vector<Exchange> exchanges_;  // fixed size: at most one live entry per lane
  std::vector<int> free_exchanges_;
  std::vector<std::max_align_t> dynamic_shared_;
  std::string failure_;
  uint3* thread_idx_ = nullptr;  // this OS thread's threadIdx
};

}  // namespace siked_emu
