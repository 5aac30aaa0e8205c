// The arithmetic peak of this CPU, measured (peak_probe.cpp), for "fraction of peak" figures.
#pragma once

#include "thread_pool.h"

namespace siked {

// Fp32: FMA on the widest float32 vectors the kernels use (AVX-512 / AVX2; 0 on scalar CPUs).
// Bf16: the bf16 matrix instructions precision 'bf16' uses (AMX tiles / AVX512-BF16; 0 if none).
enum class PeakKind { Fp32, Bf16 };

// GFLOP/s (2 per multiply-add) of register-only loops on every thread of `pool` (or the caller
// alone when null) for `seconds`, summed over threads.
double measure_peak_gflops(PeakKind kind, double seconds, ThreadPool* pool);

}  // namespace siked
