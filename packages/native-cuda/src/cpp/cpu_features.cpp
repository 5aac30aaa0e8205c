#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace siked {

SimdLevel detect_simd_level() {
  SimdLevel level = SimdLevel::Scalar;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = SimdLevel::Avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    level = SimdLevel::Avx512;
#endif
  if (const char* cap = std::getenv("SIKED_SIMD")) {
    SimdLevel wanted = level;
    if (std::strcmp(cap, "scalar") == 0) wanted = SimdLevel::Scalar;
    else if (std::strcmp(cap, "avx2") == 0) wanted = SimdLevel::Avx2;
    else if (std::strcmp(cap, "avx512") == 0) wanted = SimdLevel::Avx512;
    if (wanted < level) level = wanted;
  }
  return level;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace siked
