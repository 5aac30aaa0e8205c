// Known-answer test of src/cuda/philox.cuh against the Random123 reference vectors
// (Random123 1.09, examples/kat_vectors, philox4x32 10 rounds). Host-only: runs without a GPU.
// Build and run: tools/cuda-lab/check.sh runs it; or
//   nvcc -std=c++17 -Ipackages/native-cuda/src/cuda tools/cuda-lab/philox_kat.cu -o /tmp/kat && /tmp/kat
#include <cstdint>
#include <cstdio>
#include "philox.cuh"

int main() {
  struct Vector {
    uint32_t counter[4], key[2], expected[4];
  } vectors[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
  };
  int failures = 0;
  for (const Vector& v : vectors) {
    const siked::Philox4 r = siked::philox4x32_10(v.key[0], v.key[1], v.counter[0], v.counter[1],
                                                  v.counter[2], v.counter[3]);
    bool same = true;
    for (int i = 0; i < 4; ++i) same = same && r.x[i] == v.expected[i];
    std::printf("%s %08x %08x %08x %08x\n", same ? "ok  " : "FAIL", r.x[0], r.x[1], r.x[2], r.x[3]);
    failures += !same;
  }
  return failures ? 1 : 0;
}
