// Stream capture (runtime_streams.cpp): while a stream is being captured, launches, copies and
// memsets on it are recorded instead of run, and a graph launch replays them in order, the
// way the engine captures a decode step once and replays it.
#pragma once
#include <functional>

#include "siked_emu/runtime_api.h"

namespace siked_emu {

bool capturing(cudaStream_t stream);  // also declared in launch.h
void record_operation(cudaStream_t stream, std::function<void()> operation);
// A capture in global mode is active on some thread: cudaMalloc and cudaFree are refused, as
// the real runtime refuses these "unsafe" calls during such a capture.
bool capture_forbids_allocation();
// Some capture is active: synchronous calls (cudaMemcpy, cudaDeviceSynchronize) are refused.
bool capture_forbids_sync();

}  // namespace siked_emu
