// The OS threads that run the blocks of a grid (and the cuBLAS stand-in's tiles): the calling
// thread plus helpers, SIKED_EMU_THREADS in all (default: the hardware threads, at most 16).
#pragma once

namespace siked_emu {

// Participants in a parallel section: the caller and the helpers.
int worker_count();

// Calls work(arg) on the calling thread and on up to `participants - 1` helpers, and returns
// when every call that started has returned. `work` must claim its units from a shared atomic
// counter: a helper that wakes late finds nothing left, and the caller does not wait for a
// helper that has not started, so a launch never pays a wake-up it does not use.
void run_parallel(int participants, void (*work)(void*), void* arg);

}  // namespace siked_emu
