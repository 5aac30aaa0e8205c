// CPU emulation of the CUDA runtime (SIKED_CUDA=EMULATE, packages/native-cuda/emulate/README.md):
// the unmodified kernel sources compile with g++ against these headers and run on CPU fibers.
// Only what the engine's .cu files and tools/device use is provided; a missing name is a
// compile error in the emulation build, never a silent difference.
#pragma once
#include <math.h>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "siked_emu/vector_types.h"
#include "siked_emu/runtime_api.h"
#include "siked_emu/device_builtins.h"
#include "siked_emu/device_math.h"
#include "siked_emu/launch.h"
