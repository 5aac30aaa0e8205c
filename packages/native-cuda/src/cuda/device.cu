// Device discovery for the CUDA backend. Kept free of any kernel so that it links on machines
// without a GPU; errors are reported as text, never by aborting.
#include <cuda_runtime.h>
#include <cstdio>
#include "cuda_api.h"

extern "C" int siked_cuda_device_count(char* error, size_t error_size) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (error && error_size) std::snprintf(error, error_size, "%s", cudaGetErrorString(status));
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return -1;
  }
  return count;
}

extern "C" int siked_cuda_device_name(int index, char* name, size_t name_size, int* major, int* minor) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) return 1;
  std::snprintf(name, name_size, "%s", prop.name);
  *major = prop.major;
  *minor = prop.minor;
  return 0;
}
