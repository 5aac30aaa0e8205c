// Small deterministic random numbers (same stream on every platform and compiler, unlike <random>
// distributions): splitmix64 for seeding and generation, Box-Muller for normals.
#pragma once

#include <cmath>
#include <cstdint>

namespace siked {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Mixes several values into one seed (order matters): hash(seed, promptIndex, sampleIndex).
inline uint64_t hash_seed(uint64_t a, uint64_t b, uint64_t c = 0) {
  uint64_t s = a;
  uint64_t h = splitmix64(s);
  s = h ^ (b + 0x632BE59BD9B4E019ull);
  h = splitmix64(s);
  s = h ^ (c + 0x85157AF5ull);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace siked
