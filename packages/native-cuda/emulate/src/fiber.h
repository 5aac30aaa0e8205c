// Cooperative fibers for the emulated CUDA threads: a context switch that saves only what the
// C ABI makes the callee preserve (x86-64: rbx, rbp, r12-r15 and rsp; ~2 ns), and fixed-size
// stacks reused from block to block. ucontext's swapcontext would make a sigprocmask system
// call per switch, which at one switch per thread per barrier dominated the run time.
#pragma once
#include <cstddef>
#include <vector>

// The assembly switch on x86-64; ucontext elsewhere, or when SIKED_EMU_UCONTEXT is defined (to
// test that path on x86-64).
#if defined(__x86_64__) && !defined(SIKED_EMU_UCONTEXT)
#define SIKED_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

namespace siked_emu {

// A suspended context. On x86-64 it is a stack pointer (the saved registers lie on that
// stack); elsewhere a ucontext, correct but ~100x slower per switch.
struct Context {
#if SIKED_EMU_ASM_SWITCH
  void* sp = nullptr;
#else
  ucontext_t uc;
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
#endif
};

// Saves the running context into `from` and resumes `to`.
void switch_context(Context* from, Context* to);
// Prepares the stack growing down from `top` so that switching to `context` calls entry(arg).
// `entry` must never return.
void make_context(Context* context, char* top, void (*entry)(void*), void* arg);

// Stacks of one OS thread, each with an inaccessible guard page below it, so an overflow
// faults instead of silently corrupting a neighbour. Reserved as one mapping on first use;
// pages are committed by the kernel only as they are touched.
class StackPool {
 public:
  static constexpr size_t kStackBytes = size_t{64} << 10;
  static constexpr int kMaxStacks = 1024;  // one per CUDA thread of the largest block
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();
  // Top of a free stack, or nullptr when all kMaxStacks are taken.
  char* take();
  void give_back(char* top) { free_.push_back(top); }

 private:
  char* region_ = nullptr;
  int carved_ = 0;
  std::vector<char*> free_;
};

}  // namespace siked_emu
