// CPU emulation (SIKED_CUDA=EMULATE): bfloat16 with the conversions of the toolkit's
// cuda_bf16.h. float -> bf16 rounds to nearest even, and a NaN gives the canonical NaN 0x7FFF,
// as the device's cvt.rn.bf16.f32 and the toolkit's host path do.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "siked_emu/vector_types.h"

namespace siked_emu {
inline unsigned short float_to_bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<unsigned short>(u >> 16);
}
inline unsigned short float_to_bf16_bits_rz(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
  return static_cast<unsigned short>(u >> 16);
}
inline float bf16_bits_to_float(unsigned short bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
}  // namespace siked_emu

struct __nv_bfloat16_raw {
  unsigned short x;
};

struct __nv_bfloat16 {
  unsigned short __x;
  // Trivial, so that `__shared__ bf16 tile[..]` (a thread_local array) needs no initialiser.
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) : __x(siked_emu::float_to_bf16_bits(f)) {}
  __nv_bfloat16(double f) : __x(siked_emu::float_to_bf16_bits(static_cast<float>(f))) {}
  template <typename T, typename = typename std::enable_if<std::is_integral<T>::value>::type>
  __nv_bfloat16(T v) : __x(siked_emu::float_to_bf16_bits(static_cast<float>(v))) {}
  __nv_bfloat16(__nv_bfloat16_raw raw) : __x(raw.x) {}
  operator float() const { return siked_emu::bf16_bits_to_float(__x); }
  operator __nv_bfloat16_raw() const { return __nv_bfloat16_raw{__x}; }
};
typedef __nv_bfloat16 nv_bfloat16;

struct __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
typedef __nv_bfloat162 nv_bfloat162;

inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short bits) { return __nv_bfloat16(__nv_bfloat16_raw{bits}); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __nv_bfloat16 __float2bfloat16(float x) { return __ushort_as_bfloat16(siked_emu::float_to_bf16_bits(x)); }
inline __nv_bfloat16 __float2bfloat16_rn(float x) { return __float2bfloat16(x); }
inline __nv_bfloat16 __float2bfloat16_rz(float x) { return __ushort_as_bfloat16(siked_emu::float_to_bf16_bits_rz(x)); }
inline float __bfloat162float(__nv_bfloat16 h) { return siked_emu::bf16_bits_to_float(h.__x); }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__float2bfloat16(a), __float2bfloat16(b)}; }
inline __nv_bfloat162 __float2bfloat162_rn(float a) { return {__float2bfloat16(a), __float2bfloat16(a)}; }
inline float __low2float(__nv_bfloat162 v) { return __bfloat162float(v.x); }
inline float __high2float(__nv_bfloat162 v) { return __bfloat162float(v.y); }
inline float2 __bfloat1622float2(__nv_bfloat162 v) { return {__bfloat162float(v.x), __bfloat162float(v.y)}; }
