// Error state and error strings of the emulated runtime (see errors.h).
#include <mutex>
#include <string>

#include "errors.h"

namespace siked_emu {
namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local cudaError_t pending_failure = cudaSuccess;

std::mutex detail_mutex;
std::string failure_detail;  // of the latest failed kernel, any thread

}  // namespace

cudaError_t set_error(cudaError_t error) {
  if (error != cudaSuccess) last_error = error;
  return error;
}

void set_launch_failure(const std::string& detail) {
  {
    std::lock_guard<std::mutex> lock(detail_mutex);
    failure_detail = detail;
  }
  last_error = cudaErrorLaunchFailure;
  pending_failure = cudaErrorLaunchFailure;
}

cudaError_t take_launch_failure() {
  const cudaError_t failure = pending_failure;
  pending_failure = cudaSuccess;
  return failure;
}

}  // namespace siked_emu

using namespace siked_emu;

extern "C" cudaError_t cudaGetLastError(void) {
  const cudaError_t error = last_error;
  last_error = cudaSuccess;
  return error;
}

extern "C" cudaError_t cudaPeekAtLastError(void) { return last_error; }

extern "C" const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define SIKED_EMU_NAME(code) \
  case code:                 \
    return #code;
    SIKED_EMU_NAME(cudaSuccess)
    SIKED_EMU_NAME(cudaErrorInvalidValue)
    SIKED_EMU_NAME(cudaErrorMemoryAllocation)
    SIKED_EMU_NAME(cudaErrorInitializationError)
    SIKED_EMU_NAME(cudaErrorCudartUnloading)
    SIKED_EMU_NAME(cudaErrorInvalidConfiguration)
    SIKED_EMU_NAME(cudaErrorInvalidSymbol)
    SIKED_EMU_NAME(cudaErrorInvalidDevicePointer)
    SIKED_EMU_NAME(cudaErrorInvalidMemcpyDirection)
    SIKED_EMU_NAME(cudaErrorInvalidDeviceFunction)
    SIKED_EMU_NAME(cudaErrorNoDevice)
    SIKED_EMU_NAME(cudaErrorInvalidDevice)
    SIKED_EMU_NAME(cudaErrorInvalidResourceHandle)
    SIKED_EMU_NAME(cudaErrorIllegalState)
    SIKED_EMU_NAME(cudaErrorNotReady)
    SIKED_EMU_NAME(cudaErrorIllegalAddress)
    SIKED_EMU_NAME(cudaErrorLaunchOutOfResources)
    SIKED_EMU_NAME(cudaErrorLaunchTimeout)
    SIKED_EMU_NAME(cudaErrorLaunchFailure)
    SIKED_EMU_NAME(cudaErrorNotPermitted)
    SIKED_EMU_NAME(cudaErrorNotSupported)
    SIKED_EMU_NAME(cudaErrorStreamCaptureUnsupported)
    SIKED_EMU_NAME(cudaErrorStreamCaptureInvalidated)
    SIKED_EMU_NAME(cudaErrorStreamCaptureUnmatched)
    SIKED_EMU_NAME(cudaErrorStreamCaptureWrongThread)
    SIKED_EMU_NAME(cudaErrorUnknown)
#undef SIKED_EMU_NAME
  }
  return "cudaErrorUnknown";
}

// The toolkit's texts, so messages read the same as on a GPU.
extern "C" const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorCudartUnloading: return "driver shutting down";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidSymbol: return "invalid device symbol";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchTimeout: return "the launch timed out and was terminated";
    case cudaErrorLaunchFailure: {
      // The detail names the kernel and what went wrong; copied per thread so the pointer stays
      // valid while another thread records a newer failure.
      static thread_local std::string text;
      std::lock_guard<std::mutex> lock(detail_mutex);
      text = failure_detail.empty() ? "unspecified launch failure"
                                    : "unspecified launch failure: " + failure_detail;
      return text.c_str();
    }
    case cudaErrorNotPermitted: return "operation not permitted";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "capture was not initiated in this stream";
    case cudaErrorStreamCaptureWrongThread: return "attempt to terminate a thread-local capture sequence from another thread";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unrecognized error code";
}
