// C interface of the CUDA backend, callable from the CPU-side addon code.
// Compiled only when SIKED_WITH_CUDA is defined (nvcc found at build time).
#pragma once
#include <cstddef>

extern "C" {
// Number of CUDA devices visible, or -1 with a message in `error` when the runtime fails
// (no driver, no device). Never aborts.
int siked_cuda_device_count(char* error, size_t error_size);
// Name and compute capability of device `index`; returns 0 on success.
int siked_cuda_device_name(int index, char* name, size_t name_size, int* major, int* minor);
}
