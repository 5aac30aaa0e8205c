// The one emulated device: its properties (sm_90-like limits, so launch checks match the
// kernels' targets), device selection and device-wide synchronisation.
#include <cstdio>
#include <cstring>

#include "capture.h"
#include "errors.h"
#include "worker_pool.h"

using namespace siked_emu;

extern "C" cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return set_error(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

extern "C" cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue);
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "siked CPU emulator (%d worker thread%s)", worker_count(),
                worker_count() == 1 ? "" : "s");
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  prop->totalGlobalMem = total_bytes;
  prop->sharedMemPerBlock = 48 << 10;
  prop->sharedMemPerBlockOptin = 227 << 10;
  prop->sharedMemPerMultiprocessor = 228 << 10;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->warpSize = 32;
  prop->memPitch = ~size_t{0} >> 1;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 64 << 10;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = worker_count();
  prop->concurrentKernels = 1;
  prop->unifiedAddressing = 1;
  prop->l2CacheSize = 50 << 20;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->cooperativeLaunch = 1;
  return cudaSuccess;
}

extern "C" cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : set_error(cudaErrorInvalidDevice);
}

extern "C" cudaError_t cudaGetDevice(int* device) {
  if (!device) return set_error(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

extern "C" cudaError_t cudaSetDeviceFlags(unsigned int) { return cudaSuccess; }

extern "C" cudaError_t cudaDeviceSynchronize(void) {
  if (capture_forbids_sync()) return set_error(cudaErrorStreamCaptureUnsupported);
  return take_launch_failure();
}

// Allocations are left alone: the engine never resets the device, and freeing memory that live
// objects still point to would only turn a reset into a use-after-free.
extern "C" cudaError_t cudaDeviceReset(void) {
  take_launch_failure();
  cudaGetLastError();
  return cudaSuccess;
}
