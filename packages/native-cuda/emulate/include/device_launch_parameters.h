// CPU emulation (SIKED_CUDA=EMULATE): threadIdx & co. are declared by cuda_runtime.h.
#pragma once
#include "cuda_runtime.h"
