// Context switch and fiber stacks (see fiber.h).
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if SIKED_EMU_ASM_SWITCH

// siked_emu_switch(void** save_sp, void* load_sp): push the callee-saved registers, swap stack
// pointers, pop the other context's registers, return into it. MXCSR and the x87 control word
// are not saved: kernels never change the floating-point environment.
// siked_emu_fiber_start: first return target of a new context; calls r13(r12) with the stack
// 16-byte aligned at the call, as the ABI requires.
asm(R"(
  .text
  .p2align 4
  .globl siked_emu_switch
  .hidden siked_emu_switch
  .type siked_emu_switch, @function
siked_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size siked_emu_switch, .-siked_emu_switch

  .p2align 4
  .globl siked_emu_fiber_start
  .hidden siked_emu_fiber_start
  .type siked_emu_fiber_start, @function
siked_emu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size siked_emu_fiber_start, .-siked_emu_fiber_start
  .section .note.GNU-stack,"",@progbits
  .text
)");

extern "C" void siked_emu_switch(void** save_sp, void* load_sp);
extern "C" void siked_emu_fiber_start();

namespace siked_emu {

void switch_context(Context* from, Context* to) { siked_emu_switch(&from->sp, to->sp); }

void make_context(Context* context, char* top, void (*entry)(void*), void* arg) {
  auto* aligned = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t{15});
  // Popped in this order by siked_emu_switch: r15 r14 r13 r12 rbx rbp, then the return address.
  uint64_t* sp = aligned - 7;
  sp[0] = 0;                                                   // r15
  sp[1] = 0;                                                   // r14
  sp[2] = reinterpret_cast<uint64_t>(entry);                   // r13
  sp[3] = reinterpret_cast<uint64_t>(arg);                     // r12
  sp[4] = 0;                                                   // rbx
  sp[5] = 0;                                                   // rbp
  sp[6] = reinterpret_cast<uint64_t>(&siked_emu_fiber_start);  // return address
  context->sp = sp;
}

}  // namespace siked_emu

#else  // other architectures

namespace siked_emu {

namespace {
// makecontext passes only int arguments: the Context pointer travels as two halves.
void ucontext_entry(unsigned high, unsigned low) {
  auto* context = reinterpret_cast<Context*>((static_cast<uintptr_t>(high) << 32) | low);
  context->entry(context->arg);
}
}  // namespace

void switch_context(Context* from, Context* to) { swapcontext(&from->uc, &to->uc); }

void make_context(Context* context, char* top, void (*entry)(void*), void* arg) {
  getcontext(&context->uc);
  context->uc.uc_stack.ss_sp = top - StackPool::kStackBytes;
  context->uc.uc_stack.ss_size = StackPool::kStackBytes;
  context->uc.uc_link = nullptr;
  context->entry = entry;
  context->arg = arg;
  const auto bits = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(context));
  makecontext(&context->uc, reinterpret_cast<void (*)()>(&ucontext_entry), 2,
              static_cast<unsigned>(bits >> 32), static_cast<unsigned>(bits));
}

}  // namespace siked_emu

#endif

namespace siked_emu {

namespace {
size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
size_t slot_bytes() { return StackPool::kStackBytes + page_size(); }
}  // namespace

StackPool::~StackPool() {
  if (region_) munmap(region_, slot_bytes() * kMaxStacks);
}

char* StackPool::take() {
  if (!free_.empty()) {
    char* top = free_.back();
    free_.pop_back();
    return top;
  }
  if (carved_ == kMaxStacks) return nullptr;
  if (!region_) {
    void* region = mmap(nullptr, slot_bytes() * kMaxStacks, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) {
      std::fprintf(stderr, "siked CUDA emulator: cannot map %zu bytes of fiber stacks\n",
                   slot_bytes() * kMaxStacks);
      std::abort();
    }
    region_ = static_cast<char*>(region);
  }
  char* slot = region_ + slot_bytes() * carved_++;
  mprotect(slot, page_size(), PROT_NONE);  // the guard page, below the stack
  return slot + slot_bytes();
}

}  // namespace siked_emu
