// Run-time detection of the SIMD instruction sets the CPU kernels can dispatch to.
#pragma once

namespace siked {

enum class SimdLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Best level supported by this CPU and OS (checks CPUID and XGETBV for saved register state).
// SIKED_SIMD=scalar|avx2|avx512 in the environment caps it (for testing the fallbacks).
SimdLevel detect_simd_level();
const char* simd_level_name(SimdLevel level);

}  // namespace siked
