// The error channel of the emulated runtime (runtime_errors.cpp): CUDA's per-host-thread
// "last error", plus a failed kernel's description, returned by the next synchronising call
// the way a real kernel fault surfaces asynchronously.
#pragma once
#include <string>

#include "siked_emu/runtime_api.h"

namespace siked_emu {

// Records `error` as this thread's last error (unless it is cudaSuccess) and returns it.
cudaError_t set_error(cudaError_t error);
// A kernel that failed while running (deadlock, __trap): cudaErrorLaunchFailure becomes the last
// error and the pending result of the next synchronising call; cudaGetErrorString on it returns
// "unspecified launch failure: <detail>".
void set_launch_failure(const std::string& detail);
// Returns and clears the pending launch failure (cudaSuccess when none).
cudaError_t take_launch_failure();

}  // namespace siked_emu
