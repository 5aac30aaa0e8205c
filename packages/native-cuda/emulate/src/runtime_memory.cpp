// Device memory of the emulated runtime: host memory with the device's 256-byte alignment and a
// budget (SIKED_EMU_MEMORY_MB, default 8192) so that out-of-memory handling can be tested.
// Copies and memsets run at once (see runtime_api.h), or are recorded when the stream is being
// captured.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "capture.h"
#include "errors.h"

namespace siked_emu {
namespace {

constexpr size_t kAlignment = 256;

size_t budget_bytes() {
  size_t megabytes = 8192;
  if (const char* env = std::getenv("SIKED_EMU_MEMORY_MB")) {
    const long long value = std::atoll(env);
    if (value > 0) megabytes = static_cast<size_t>(value);
  }
  return megabytes << 20;
}

struct Allocations {
  std::mutex mutex;
  std::unordered_map<void*, size_t> sizes;
  size_t used = 0;
  const size_t budget = budget_bytes();
  // SIKED_EMU_POISON=1 fills new allocations with 0xFF bytes (NaN as fp32 and bf16, -1 as
  // int32), so a read of memory nobody wrote shows up in results instead of reading zeros.
  const bool poison = std::getenv("SIKED_EMU_POISON") && std::strcmp(std::getenv("SIKED_EMU_POISON"), "0");
};

Allocations& allocations() {
  static Allocations* instance = new Allocations();  // outlives static destructors that free
  return *instance;
}

bool valid_kind(cudaMemcpyKind kind) { return kind >= cudaMemcpyHostToHost && kind <= cudaMemcpyDefault; }

}  // namespace
}  // namespace siked_emu

using namespace siked_emu;

extern "C" cudaError_t cudaMalloc(void** ptr, size_t size) {
  if (!ptr) return set_error(cudaErrorInvalidValue);
  if (capture_forbids_allocation()) return set_error(cudaErrorStreamCaptureUnsupported);
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  const size_t rounded = (size + kAlignment - 1) & ~(kAlignment - 1);
  Allocations& all = allocations();
  {
    std::lock_guard<std::mutex> lock(all.mutex);
    if (rounded < size || all.used + rounded > all.budget) return set_error(cudaErrorMemoryAllocation);
    all.used += rounded;
  }
  void* memory = std::aligned_alloc(kAlignment, rounded);
  std::lock_guard<std::mutex> lock(all.mutex);
  if (!memory) {
    all.used -= rounded;
    return set_error(cudaErrorMemoryAllocation);
  }
  if (all.poison) std::memset(memory, 0xFF, rounded);
  all.sizes[memory] = rounded;
  *ptr = memory;
  return cudaSuccess;
}

extern "C" cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  if (capture_forbids_allocation()) return set_error(cudaErrorStreamCaptureUnsupported);
  Allocations& all = allocations();
  {
    std::lock_guard<std::mutex> lock(all.mutex);
    const auto found = all.sizes.find(ptr);
    if (found == all.sizes.end()) return set_error(cudaErrorInvalidValue);
    all.used -= found->second;
    all.sizes.erase(found);
  }
  std::free(ptr);
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return set_error(cudaErrorInvalidValue);
  Allocations& all = allocations();
  std::lock_guard<std::mutex> lock(all.mutex);
  *free_bytes = all.budget - all.used;
  *total_bytes = all.budget;
  return cudaSuccess;
}

extern "C" cudaError_t cudaMallocHost(void** ptr, size_t size) {
  if (!ptr) return set_error(cudaErrorInvalidValue);
  *ptr = size ? std::aligned_alloc(kAlignment, (size + kAlignment - 1) & ~(kAlignment - 1)) : nullptr;
  return size && !*ptr ? set_error(cudaErrorMemoryAllocation) : cudaSuccess;
}

extern "C" cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int) { return cudaMallocHost(ptr, size); }

extern "C" cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (!valid_kind(kind)) return set_error(cudaErrorInvalidMemcpyDirection);
  if (count && (!dst || !src)) return set_error(cudaErrorInvalidValue);
  if (capture_forbids_sync()) return set_error(cudaErrorStreamCaptureUnsupported);
  // Synchronous: a failed kernel before it is reported here, as a GPU would.
  if (const cudaError_t failure = take_launch_failure()) return failure;
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                                       cudaStream_t stream) {
  if (!valid_kind(kind)) return set_error(cudaErrorInvalidMemcpyDirection);
  if (count && (!dst || !src)) return set_error(cudaErrorInvalidValue);
  if (capturing(stream)) {
    record_operation(stream, [=] { std::memmove(dst, src, count); });
    return cudaSuccess;
  }
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                         size_t height, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!valid_kind(kind)) return set_error(cudaErrorInvalidMemcpyDirection);
  if (width > dpitch || width > spitch) return set_error(cudaErrorInvalidValue);
  auto copy = [=] {
    for (size_t row = 0; row < height; ++row)
      std::memmove(static_cast<char*>(dst) + row * dpitch, static_cast<const char*>(src) + row * spitch, width);
  };
  if (capturing(stream)) {
    record_operation(stream, copy);
    return cudaSuccess;
  }
  copy();
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                    size_t height, cudaMemcpyKind kind) {
  if (capture_forbids_sync()) return set_error(cudaErrorStreamCaptureUnsupported);
  if (const cudaError_t failure = take_launch_failure()) return failure;
  return cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, kind, nullptr);
}

extern "C" cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  if (count && !ptr) return set_error(cudaErrorInvalidValue);
  if (capturing(stream)) {
    record_operation(stream, [=] { std::memset(ptr, value, count); });
    return cudaSuccess;
  }
  if (count) std::memset(ptr, value, count);
  return cudaSuccess;
}

extern "C" cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  if (capture_forbids_sync()) return set_error(cudaErrorStreamCaptureUnsupported);
  return cudaMemsetAsync(ptr, value, count, nullptr);
}
