// CPU emulation: what kernel code sees of the device: qualifiers, thread coordinates, barriers,
// warp shuffles and votes, atomics. Each CUDA thread is a fiber on the OS thread running its
// block (emulate/src/block_runner.cpp); fibers switch only inside __syncthreads, __syncwarp,
// shuffles and votes.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "vector_types.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __constant__
#define __managed__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))  // as nvcc: allowed among the decl-specifiers
#define __grid_constant__
// One OS thread runs one block at a time, to its end, so a thread_local static is exactly
// "one copy per block, shared by its threads" (and invisible to blocks on other workers).
#define __shared__ static thread_local

// Per OS thread: the block being run and the fiber (CUDA thread) now running. The runner sets
// threadIdx before resuming a fiber. Fibers switch only inside the out-of-line calls below,
// which the compiler must assume write these globals, and each call is also followed by a
// compiler barrier, so no value of threadIdx is kept in a register across a switch.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace siked_emu {

enum class ShuffleMode : int { Index, Up, Down, Xor };

// Out of line (block_runner.cpp): may switch fibers.
void sync_block();
// A barrier that also counts the threads passing a non-zero predicate.
int sync_block_count(int predicate);
// Exchanges `bits` among the lanes of `mask` (lanes past the end of the block are left out);
// returns the source lane's bits, or the caller's own when the source is out of range.
uint64_t warp_shuffle(uint32_t mask, uint64_t bits, ShuffleMode mode, int lane_arg, int width);
// Ballot among the lanes of `mask`: bit i set when lane i passed a non-zero predicate.
uint32_t warp_ballot(uint32_t mask, int predicate);
// Waits for the lanes of `mask` (__syncwarp).
void sync_warp(uint32_t mask);
// Lanes of the caller's warp that have not exited.
uint32_t warp_active_mask();
// Dynamic shared memory of the running block (the launch's third <<<>>> argument).
void* dynamic_shared();
// Stops the launch with an error naming the kernel (the emulation's __trap).
[[noreturn]] void trap(const char* why);

inline void compiler_barrier() { asm volatile("" ::: "memory"); }

template <typename T>
inline uint64_t to_bits(T value) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type over 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <typename T>
inline T from_bits(uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}
template <typename T>
inline T shuffle(uint32_t mask, T value, ShuffleMode mode, int lane_arg, int width) {
  const uint64_t bits = warp_shuffle(mask, to_bits(value), mode, lane_arg, width);
  compiler_barrier();
  return from_bits<T>(bits);
}

}  // namespace siked_emu

inline void __syncthreads() {
  siked_emu::sync_block();
  siked_emu::compiler_barrier();
}
inline int __syncthreads_count(int predicate) {
  const int count = siked_emu::sync_block_count(predicate);
  siked_emu::compiler_barrier();
  return count;
}
inline int __syncthreads_or(int predicate) { return __syncthreads_count(predicate) != 0; }
inline int __syncthreads_and(int predicate) { return __syncthreads_count(!predicate) == 0; }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  siked_emu::sync_warp(mask);
  siked_emu::compiler_barrier();
}
template <typename T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  return siked_emu::shuffle(mask, var, siked_emu::ShuffleMode::Index, src_lane, width);
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return siked_emu::shuffle(mask, var, siked_emu::ShuffleMode::Up, static_cast<int>(delta), width);
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return siked_emu::shuffle(mask, var, siked_emu::ShuffleMode::Down, static_cast<int>(delta), width);
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  return siked_emu::shuffle(mask, var, siked_emu::ShuffleMode::Xor, lane_mask, width);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  const unsigned ballot = siked_emu::warp_ballot(mask, predicate);
  siked_emu::compiler_barrier();
  return ballot;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  // The ballot leaves out lanes past the end of the block, as the exchange does.
  const unsigned voters = mask & siked_emu::warp_active_mask();
  return (__ballot_sync(mask, predicate) & voters) == voters;
}
inline unsigned __activemask() { return siked_emu::warp_active_mask(); }
inline unsigned __lanemask_lt() {
  const unsigned lane = (threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y) & 31u;
  return (1u << lane) - 1u;
}

[[noreturn]] inline void __trap() { siked_emu::trap("__trap() called"); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __nanosleep(unsigned) {}
template <typename T>
inline T __ldg(const T* ptr) { return *ptr; }

// ---- atomics: real atomics, since blocks run on several OS threads at once --------------------
template <typename T>
inline T atomicAdd(T* address, T value) {
  if constexpr (std::is_integral<T>::value) {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
  } else {
    T old, sum;
    __atomic_load(address, &old, __ATOMIC_RELAXED);
    do {
      sum = old + value;
    } while (!__atomic_compare_exchange(address, &old, &sum, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
  }
}
template <typename T>
inline T atomicSub(T* address, T value) { return __atomic_fetch_sub(address, value, __ATOMIC_RELAXED); }
template <typename T>
inline T atomicMin(T* address, T value) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (value < old && !__atomic_compare_exchange_n(address, &old, value, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <typename T>
inline T atomicMax(T* address, T value) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (value > old && !__atomic_compare_exchange_n(address, &old, value, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <typename T>
inline T atomicExch(T* address, T value) {
  T old;
  __atomic_exchange(address, &value, &old, __ATOMIC_RELAXED);
  return old;
}
template <typename T>
inline T atomicCAS(T* address, T compare, T value) {
  __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
template <typename T>
inline T atomicAnd(T* address, T value) { return __atomic_fetch_and(address, value, __ATOMIC_RELAXED); }
template <typename T>
inline T atomicOr(T* address, T value) { return __atomic_fetch_or(address, value, __ATOMIC_RELAXED); }
template <typename T>
inline T atomicXor(T* address, T value) { return __atomic_fetch_xor(address, value, __ATOMIC_RELAXED); }
