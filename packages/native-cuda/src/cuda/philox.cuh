// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator cuRAND and PyTorch use. Counter-based means no state to carry between
// steps: (key = seed, counter = step) gives the number directly, on the device or on the host.
#pragma once
#include <cstdint>

namespace siked {

struct Philox4 {
  uint32_t x[4];
};

__host__ __device__ inline uint32_t mul_hi_lo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}

// The full generator: 128-bit counter (c0..c3), 64-bit key (key0, key1).
__host__ __device__ inline Philox4 philox4x32_10(uint32_t key0, uint32_t key1, uint32_t c0, uint32_t c1,
                                                 uint32_t c2, uint32_t c3) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mul_hi_lo(kMul0, c0, &hi0);
    const uint32_t lo1 = mul_hi_lo(kMul1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ key0, n1 = lo1, n2 = hi0 ^ c3 ^ key1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// The engine's use: key = a 64-bit seed, counter = a 64-bit step number (upper half zero).
__host__ __device__ inline Philox4 philox4x32_10(uint64_t key64, uint64_t counter64) {
  return philox4x32_10(static_cast<uint32_t>(key64), static_cast<uint32_t>(key64 >> 32),
                       static_cast<uint32_t>(counter64), static_cast<uint32_t>(counter64 >> 32), 0u, 0u);
}

// A uniform in (0, 1] with 24 random bits (never 0, so u * mass always selects some token).
__host__ __device__ inline float philox_uniform(uint64_t seed, uint64_t counter) {
  const uint32_t bits = philox4x32_10(seed, counter).x[0] >> 8;
  return static_cast<float>(bits + 1u) * (1.f / 16777216.f);
}

}  // namespace siked
