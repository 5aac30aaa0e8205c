// CPU emulation (SIKED_CUDA=EMULATE): the toolkit splits the runtime over several headers; here
// cuda_runtime.h holds everything.
#pragma once
#include "cuda_runtime.h"
