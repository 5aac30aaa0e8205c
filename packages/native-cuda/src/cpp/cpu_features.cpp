#include "cpu_features.h"

#include <cstdint>

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

namespace {

#if defined(__x86_64__)
// XCR0: which register states the OS saves on context switches.
uint64_t xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

bool os_saves(uint64_t bits) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  return (xcr0() & bits) == bits;
}

// Linux keeps the 8 KiB AMX tile state off until a process asks (kernel 5.16+).
bool request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

Bf16Level probe_bf16_level() {
  if (detect_simd_level() < SimdLevel::Avx512) return Bf16Level::None;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return Bf16Level::None;
  Bf16Level level = Bf16Level::Avx512Bf16;
  constexpr uint64_t kTileState = (uint64_t(1) << 17) | (uint64_t(1) << 18);  // XTILECFG, XTILEDATA
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22)) && (d & (1u << 24)) &&
      os_saves(kTileState) && request_amx_permission())
    level = Bf16Level::Amx;
  return level;
}
#else
Bf16Level probe_bf16_level() { return Bf16Level::None; }
#endif

}  // namespace

Bf16Level detect_bf16_level() {
  static const Bf16Level hardware = probe_bf16_level();  // the permission request happens once
  Bf16Level level = hardware;
  if (const char* cap = std::getenv("SIKED_BF16")) {
    Bf16Level wanted = level;
    if (std::strcmp(cap, "off") == 0) wanted = Bf16Level::None;
    else if (std::strcmp(cap, "avx512bf16") == 0) wanted = Bf16Level::Avx512Bf16;
    else if (std::strcmp(cap, "amx") == 0) wanted = Bf16Level::Amx;
    if (wanted < level) level = wanted;
  }
  return level;
}

const char* bf16_level_name(Bf16Level level) {
  switch (level) {
    case Bf16Level::Amx: return "amx";
    case Bf16Level::Avx512Bf16: return "avx512bf16";
    default: return "none";
  }
}

}  // namespace siked
