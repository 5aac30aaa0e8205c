// Run-time detection of the SIMD instruction sets the CPU kernels can dispatch to.
#pragma once

namespace siked {

enum class SimdLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Best level supported by this CPU and OS (checks CPUID and XGETBV for saved register state).
// SIKED_SIMD=scalar|avx2|avx512 in the environment caps it (for testing the fallbacks).
SimdLevel detect_simd_level();
const char* simd_level_name(SimdLevel level);

// The bfloat16 matrix instructions the mixed-precision GEMM (gemm_bf16, MatmulPrecision::Bf16)
// can use: AMX tiles (TDPBF16PS, Intel Sapphire Rapids and later), AVX512-BF16 (VDPBF16PS, also
// AMD Zen 4/5), or none (bf16 requests then run in float32). Both need AVX512-BF16 (the packers
// convert with VCVTNE2PS2BF16). Detecting AMX also asks Linux for permission to use the tile
// state (arch_prctl ARCH_REQ_XCOMP_PERM), without which the first tile instruction faults; a
// refusal means no AMX. SIKED_BF16=off|avx512bf16|amx caps the level (for testing fallbacks).
enum class Bf16Level { None = 0, Avx512Bf16 = 1, Amx = 2 };
Bf16Level detect_bf16_level();
const char* bf16_level_name(Bf16Level level);

}  // namespace siked
