// The AMX tile palette the engine uses everywhere (the bf16 GEMM, the peak probe): all 8 tiles
// 16 rows x 64 bytes. x86-64 only; include after <immintrin.h>. LDTILECFG is per-thread state,
// so a thread loads it before its first tile instruction; with one palette in the process, any
// thread that loaded it can run every tile kernel.
#pragma once

#if defined(__x86_64__)

#include <cstdint>

namespace siked {

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Loads the palette on this thread (once; later calls return at once).
__attribute__((target("amx-tile"))) inline void ensure_tile_config() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
  configured = true;
}

}  // namespace siked

#endif
