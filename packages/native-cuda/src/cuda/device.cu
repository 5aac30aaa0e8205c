// Device discovery and the error channel of the CUDA backend. Kept free of any kernel so that it
// links on machines without a GPU; errors are reported as text, never by aborting.
#include <cuda_runtime.h>
#include <cstdarg>
#include <cstdio>
#include "common.cuh"
#include "cuda_api.h"

namespace siked {

// One message per host thread: the addon calls from worker threads, and a message must not be
// overwritten by a call on another thread before it is read.
static thread_local char last_error_text[1024] = "";

int fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(last_error_text, sizeof last_error_text, format, args);
  va_end(args);
  return 1;
}

int check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return 0;
  return fail("%s: %s (%s)", what, cudaGetErrorString(status), cudaGetErrorName(status));
}

int check_launch(const char* what) { return check_cuda(cudaGetLastError(), what); }

}  // namespace siked

extern "C" const char* siked_cuda_last_error(void) { return siked::last_error_text; }

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
