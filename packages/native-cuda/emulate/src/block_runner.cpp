// Fiber scheduling of one thread block (see block_runner.h).
#include "block_runner.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace siked_emu {
namespace {

thread_local BlockRunner* active_runner = nullptr;
constexpr int kMaxThreads = StackPool::kMaxStacks;

std::string hex(uint32_t mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

BlockRunner& current(const char* what) {
  if (BlockRunner* runner = BlockRunner::active()) return *runner;
  std::fprintf(stderr, "siked CUDA emulator: %s called outside a kernel\n", what);
  std::abort();
}

int source_lane(int lane, ShuffleMode mode, int arg, int width) {
  if (width < 1 || width > 32 || (width & (width - 1))) width = 32;  // undefined in CUDA
  const int base = lane & ~(width - 1);
  int source = -1;
  switch (mode) {
    case ShuffleMode::Index:
      return base + (arg & (width - 1));
    case ShuffleMode::Up:
      source = lane - arg;
      return source >= base ? source : -1;
    case ShuffleMode::Down:
      source = lane + arg;
      return source < base + width ? source : -1;
    case ShuffleMode::Xor:
      // Earlier segments may be read, later ones give the caller's own value (CUDA guide).
      source = lane ^ arg;
      return source >= 0 && source < base + width ? source : -1;
  }
  return -1;
}

const char* shuffle_name(ShuffleMode mode) {
  switch (mode) {
    case ShuffleMode::Index: return "__shfl_sync";
    case ShuffleMode::Up: return "__shfl_up_sync";
    case ShuffleMode::Down: return "__shfl_down_sync";
    case ShuffleMode::Xor: return "__shfl_xor_sync";
  }
  return "__shfl_sync";
}

}  // namespace

BlockRunner& BlockRunner::of_this_thread() {
  // Kept until the thread ends; a helper thread lives as long as the process.
  static thread_local std::unique_ptr<BlockRunner> runner(new BlockRunner());
  return *runner;
}

BlockRunner* BlockRunner::active() { return active_runner; }

BlockRunner::BlockRunner() : fibers_(kMaxThreads), exchanges_(kMaxThreads) {
  for (int i = kMaxThreads - 1; i >= 0; --i) free_fibers_.push_back(i);
  for (int i = kMaxThreads - 1; i >= 0; --i) free_exchanges_.push_back(i);
  active_.reserve(kMaxThreads);
  thread_idx_ = &threadIdx;
}

void BlockRunner::fiber_entry(void* runner) { static_cast<BlockRunner*>(runner)->fiber_main(); }

// A fiber runs threads back to back on one stack until one of them has to wait: a block whose
// threads never synchronise runs on a single fiber with no switch at all.
void BlockRunner::fiber_main() {
  for (;;) {
    task_->thread_main(task_->closure);
    Fiber& fiber = fibers_[running_];
    thread_exited(fiber.thread);
    if (next_thread_ < threads_) {
      claim_thread(fiber);
      *thread_idx_ = fiber.thread_idx;
      continue;
    }
    // Never resumed (a finished fiber is never ready); its stack, which it is still running
    // on, goes back to the pool at the end of the block.
    suspend(fiber, Wait::Finished);
    std::abort();
  }
}

void BlockRunner::claim_thread(Fiber& fiber) {
  const unsigned t = static_cast<unsigned>(next_thread_++);
  fiber.thread = static_cast<int>(t);
  fiber.thread_idx = uint3{t % dim_x_, (t % dim_xy_) / dim_x_, t / dim_xy_};
}

// What runs next: a new fiber while threads remain unstarted (so every thread reaches its first
// wait before any waiter resumes), else the next fiber in round-robin order whose wait is over.
// -1: nothing can run.
int BlockRunner::pick_next() {
  if (next_thread_ < threads_) {
    const int fiber = free_fibers_.back();
    free_fibers_.pop_back();
    Fiber& f = fibers_[fiber];
    f.stack = stacks_.take();
    f.wait = Wait::Running;
    claim_thread(f);
    make_context(&f.context, f.stack, &BlockRunner::fiber_entry, this);
    active_.push_back(fiber);
    return fiber;
  }
  const size_t count = active_.size();
  for (size_t k = 0; k < count; ++k) {
    size_t i = cursor_ + k;
    if (i >= count) i -= count;
    if (ready(fibers_[active_[i]])) {
      cursor_ = i + 1;
      return active_[i];
    }
  }
  return -1;
}

void BlockRunner::switch_to(Context* from, int fiber) {
  running_ = fiber;
  *thread_idx_ = fibers_[fiber].thread_idx;
  switch_context(from, &fibers_[fiber].context);
}

// Called on the fiber that has to wait: hands over to the next runnable fiber directly, or to
// the scheduler when there is none. Returns once another fiber has switched back to this one.
void BlockRunner::suspend(Fiber& fiber, Wait wait) {
  fiber.wait = wait;
  const int next = pick_next();
  if (next >= 0)
    switch_to(&fiber.context, next);
  else
    switch_context(&fiber.context, &scheduler_);
  fiber.wait = Wait::Running;
}

bool BlockRunner::ready(const Fiber& fiber) const {
  switch (fiber.wait) {
    case Wait::Barrier:
      return generation_ != fiber.generation;
    case Wait::Exchange:
      return exchanges_[fiber.exchange].arrived == exchanges_[fiber.exchange].mask;
    default:
      return false;
  }
}

void BlockRunner::start_block(const GridTask& task, uint64_t index) {
  task_ = &task;
  const dim3 grid = task.config.grid, block = task.config.block;
  block_ = uint3{static_cast<unsigned>(index % grid.x), static_cast<unsigned>((index / grid.x) % grid.y),
                 static_cast<unsigned>(index / (uint64_t{grid.x} * grid.y))};
  blockIdx = block_;
  blockDim = block;
  gridDim = grid;
  dim_x_ = block.x;
  dim_xy_ = block.x * block.y;
  threads_ = static_cast<int>(block.x * block.y * block.z);
  next_thread_ = finished_ = 0;
  live_ = threads_;
  generation_ = 0;
  arrived_ = count_ = 0;
  cursor_ = 0;
  warps_.assign(static_cast<size_t>((threads_ + 31) / 32), Warp{});
  for (size_t w = 0; w < warps_.size(); ++w) {
    const int lanes = threads_ - static_cast<int>(w) * 32;
    warps_[w].present = lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1u;
  }
  const size_t words = (task.config.shared_bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  if (dynamic_shared_.size() < words) dynamic_shared_.resize(words);
  failure_.clear();
}

bool BlockRunner::run_block(const GridTask& task, uint64_t index, std::string* failure) {
  start_block(task, index);
  BlockRunner* const outer = active_runner;
  active_runner = this;
  // Control comes back here only when no fiber can run (or one trapped).
  for (int next; failure_.empty() && (next = pick_next()) >= 0;) switch_to(&scheduler_, next);
  running_ = -1;
  active_runner = outer;
  if (failure_.empty() && finished_ != threads_) failure_ = describe_deadlock();
  const bool ok = failure_.empty();
  if (!ok) {
    abandon_block();
    *failure = failure_;
    return false;
  }
  for (int fiber : active_) {
    stacks_.give_back(fibers_[fiber].stack);
    free_fibers_.push_back(fiber);
  }
  active_.clear();
  return true;
}

// Fibers stopped mid-kernel are dropped with their stacks: kernel frames hold nothing that
// needs a destructor. The exchange pool is refilled since lanes never came to read.
void BlockRunner::abandon_block() {
  for (int fiber : active_) {
    stacks_.give_back(fibers_[fiber].stack);
    free_fibers_.push_back(fiber);
  }
  active_.clear();
  free_exchanges_.clear();
  for (int i = kMaxThreads - 1; i >= 0; --i) free_exchanges_.push_back(i);
}

void BlockRunner::thread_exited(int thread) {
  --live_;
  ++finished_;
  warps_[static_cast<size_t>(thread >> 5)].exited |= 1u << (thread & 31);
  // Exited threads no longer count at a barrier (as on sm_70 and later).
  if (arrived_ > 0 && arrived_ == live_) release_barrier();
}

void BlockRunner::release_barrier() {
  count_result_[generation_ & 1] = count_;
  count_ = 0;
  arrived_ = 0;
  ++generation_;
}

int BlockRunner::sync_block(int predicate) {
  Fiber& fiber = fibers_[running_];
  const uint32_t generation = generation_;
  count_ += predicate != 0;
  if (++arrived_ == live_) {
    release_barrier();
  } else {
    fiber.generation = generation;
    suspend(fiber, Wait::Barrier);
  }
  // Not overwritten before this thread reads it: the next release needs this thread to arrive.
  return count_result_[generation & 1];
}

uint64_t BlockRunner::warp_exchange(uint32_t mask, uint64_t bits, const char* what, ShuffleMode mode,
                                    int lane_arg, int width, uint32_t* ballot) {
  Fiber& fiber = fibers_[running_];
  const int lane = fiber.thread & 31;
  const uint32_t self = 1u << lane;
  Warp& warp = warps_[static_cast<size_t>(fiber.thread >> 5)];
  // Lanes past the end of the block do not exist and are left out; a lane that exited while
  // named in the mask is waited for, which ends as a reported deadlock.
  mask &= warp.present;
  if (!(mask & self)) {
    char why[160];
    std::snprintf(why, sizeof why, "%s with mask %s, which leaves out the calling lane %d", what,
                  hex(mask).c_str(), lane);
    trap(why);
  }
  int entry = warp.open;
  while (entry >= 0 && (exchanges_[entry].mask != mask || (exchanges_[entry].arrived & self)))
    entry = exchanges_[entry].next_open;
  if (entry < 0) {
    entry = free_exchanges_.back();
    free_exchanges_.pop_back();
    Exchange& fresh = exchanges_[entry];
    fresh.mask = mask;
    fresh.arrived = 0;
    fresh.unread = mask;
    fresh.what = what;
    fresh.next_open = warp.open;
    warp.open = entry;
  }
  Exchange& exchange = exchanges_[entry];
  exchange.value[lane] = bits;
  exchange.arrived |= self;
  if (exchange.arrived != mask) {
    fiber.exchange = entry;
    suspend(fiber, Wait::Exchange);
  } else {
    int* link = &warp.open;  // complete: unlink it from the warp's open list
    while (*link != entry) link = &exchanges_[*link].next_open;
    *link = exchange.next_open;
  }
  uint64_t result = bits;
  if (ballot) {
    uint32_t votes = 0;
    for (uint32_t lanes = exchange.arrived; lanes; lanes &= lanes - 1) {
      const int l = __builtin_ctz(lanes);
      if (exchange.value[l]) votes |= 1u << l;
    }
    *ballot = votes;
  } else {
    const int source = source_lane(lane, mode, lane_arg, width);
    if (source >= 0 && (exchange.arrived >> source & 1u)) result = exchange.value[source];
  }
  exchange.unread &= ~self;
  if (!exchange.unread) free_exchanges_.push_back(entry);
  return result;
}

uint32_t BlockRunner::active_mask() const {
  const Warp& warp = warps_[static_cast<size_t>(fibers_[running_].thread >> 5)];
  return warp.present & ~warp.exited;
}

void BlockRunner::trap(const char* why) {
  failure_ = std::string(why) + " in " + task_->kernel_name + where();
  Fiber& fiber = fibers_[running_];
  fiber.wait = Wait::Aborted;
  switch_context(&fiber.context, &scheduler_);
  std::abort();  // never resumed
}

std::string BlockRunner::where() const {
  char text[96];
  std::snprintf(text, sizeof text, " (block %u,%u,%u of a %ux%ux%u grid)", block_.x, block_.y, block_.z,
                task_->config.grid.x, task_->config.grid.y, task_->config.grid.z);
  if (running_ >= 0) {
    const int t = fibers_[running_].thread;
    char thread[48];
    std::snprintf(thread, sizeof thread, " at thread %d", t);
    return std::string(thread) + text;
  }
  return text;
}

std::string BlockRunner::describe_deadlock() const {
  std::string text = std::string("deadlock in ") + task_->kernel_name + where() + ": ";
  int at_barrier = 0;
  for (int fiber : active_) at_barrier += fibers_[fiber].wait == Wait::Barrier;
  text += std::to_string(at_barrier) + " of " + std::to_string(live_) + " live threads wait at __syncthreads";
  int described = 0;
  for (size_t w = 0; w < warps_.size(); ++w) {
    for (int entry = warps_[w].open; entry >= 0; entry = exchanges_[entry].next_open) {
      const Exchange& exchange = exchanges_[entry];
      if (described++ == 4) {
        text += "; ...";
        return text;
      }
      const uint32_t missing = exchange.mask & ~exchange.arrived;
      text += "; warp " + std::to_string(w) + ": lanes " + hex(exchange.arrived) + " wait in " + exchange.what +
              "(mask " + hex(exchange.mask) + ") for lanes " + hex(missing);
      if (missing & warps_[w].exited) text += ", of which " + hex(missing & warps_[w].exited) + " have exited";
    }
  }
  return text;
}

// ---- the kernel-side entry points of device_builtins.h ---------------------------------------

void sync_block() { current("__syncthreads").sync_block(0); }

int sync_block_count(int predicate) { return current("__syncthreads_count").sync_block(predicate); }

uint64_t warp_shuffle(uint32_t mask, uint64_t bits, ShuffleMode mode, int lane_arg, int width) {
  return current(shuffle_name(mode)).warp_exchange(mask, bits, shuffle_name(mode), mode, lane_arg, width, nullptr);
}

uint32_t warp_ballot(uint32_t mask, int predicate) {
  uint32_t votes = 0;
  current("__ballot_sync").warp_exchange(mask, predicate != 0, "__ballot_sync", ShuffleMode::Index, 0, 32, &votes);
  return votes;
}

void sync_warp(uint32_t mask) {
  uint32_t votes = 0;
  current("__syncwarp").warp_exchange(mask, 0, "__syncwarp", ShuffleMode::Index, 0, 32, &votes);
}

uint32_t warp_active_mask() { return current("__activemask").active_mask(); }

void* dynamic_shared() { return current("extern __shared__").dynamic_shared(); }

void trap(const char* why) {
  if (BlockRunner* runner = BlockRunner::active()) runner->trap(why);
  std::fprintf(stderr, "siked CUDA emulator: %s (outside a kernel)\n", why);
  std::abort();
}

}  // namespace siked_emu
