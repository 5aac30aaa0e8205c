// A kernel launch: the configuration checks of the real runtime, then the blocks of the grid
// spread over the worker pool, each run to its end by the worker's BlockRunner.
#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include "block_runner.h"
#include "errors.h"
#include "worker_pool.h"

namespace siked_emu {
namespace {

constexpr size_t kDefaultSharedLimit = 48 << 10;  // beyond it a kernel must opt in (attribute)
constexpr size_t kOptInSharedLimit = 227 << 10;   // sm_90's per-block maximum

std::mutex attribute_mutex;
std::unordered_map<const void*, int> max_dynamic_shared;  // kernel -> opted-in bytes

// Limits of sm_80/sm_90 (CUDA C++ Programming Guide, "Compute Capabilities").
bool valid_config(const LaunchConfig& config) {
  const dim3 b = config.block, g = config.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64) return false;
  if (uint64_t{b.x} * b.y * b.z > 1024) return false;
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) return false;
  return true;
}

bool shared_bytes_allowed(const void* kernel, size_t bytes) {
  if (bytes <= kDefaultSharedLimit) return true;
  if (bytes > kOptInSharedLimit) return false;
  std::lock_guard<std::mutex> lock(attribute_mutex);
  const auto found = max_dynamic_shared.find(kernel);
  return found != max_dynamic_shared.end() && static_cast<size_t>(found->second) >= bytes;
}

struct GridRun {
  explicit GridRun(const GridTask& t)
      : task(t), blocks(uint64_t{t.config.grid.x} * t.config.grid.y * t.config.grid.z) {}
  GridTask task;
  uint64_t blocks;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex failure_mutex;
  std::string failure;
};

void run_blocks(void* arg) {
  auto* run = static_cast<GridRun*>(arg);
  BlockRunner& runner = BlockRunner::of_this_thread();
  std::string why;
  while (!run->failed.load(std::memory_order_relaxed)) {
    const uint64_t block = run->next.fetch_add(1, std::memory_order_relaxed);
    if (block >= run->blocks) break;
    if (!runner.run_block(run->task, block, &why)) {
      std::lock_guard<std::mutex> lock(run->failure_mutex);
      if (!run->failed.load()) run->failure = why;
      run->failed.store(true);
    }
  }
}

}  // namespace

void run_grid(const LaunchConfig& config, const char* kernel_name, const void* kernel,
              void (*thread_main)(const void*), const void* closure) {
  if (!valid_config(config)) {
    set_error(cudaErrorInvalidConfiguration);
    return;
  }
  if (!shared_bytes_allowed(kernel, config.shared_bytes)) {
    set_error(cudaErrorInvalidValue);
    return;
  }
  GridRun run(GridTask{config, kernel_name, thread_main, closure});
  const uint64_t participants = run.blocks < static_cast<uint64_t>(worker_count()) ? run.blocks : worker_count();
  run_parallel(static_cast<int>(participants), &run_blocks, &run);
  if (run.failed.load()) set_launch_failure(run.failure);
}

}  // namespace siked_emu

extern "C" cudaError_t siked_emu_func_set_attribute(const void* func, cudaFuncAttribute attribute, int value) {
  using namespace siked_emu;
  if (!func) return set_error(cudaErrorInvalidDeviceFunction);
  if (attribute == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || static_cast<size_t>(value) > kOptInSharedLimit) return set_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(attribute_mutex);
    max_dynamic_shared[func] = value;
  }
  return cudaSuccess;
}
