// Streams, events and graphs of the emulated runtime. Work runs when it is issued, so a stream
// only matters while it is being captured; events carry wall-clock times.
#include <atomic>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "capture.h"
#include "errors.h"
#include "siked_emu/launch.h"

struct CUstream_st {
  bool capturing = false;
  bool invalidated = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::vector<std::function<void()>> recorded;
};

struct CUevent_st {
  std::chrono::steady_clock::time_point at;
  bool recorded = false;
  bool timing = true;
};

struct CUgraph_st {
  std::vector<std::function<void()>> operations;
};

struct CUgraphExec_st {
  std::vector<std::function<void()>> operations;
};

namespace siked_emu {
namespace {

std::atomic<int> global_captures{0};
std::atomic<int> all_captures{0};

void end_capture_counts(cudaStream_t stream) {
  all_captures.fetch_sub(1);
  if (stream->mode == cudaStreamCaptureModeGlobal) global_captures.fetch_sub(1);
}

}  // namespace

bool capturing(cudaStream_t stream) { return stream && stream->capturing; }

void record_operation(cudaStream_t stream, std::function<void()> operation) {
  stream->recorded.push_back(std::move(operation));
}

void record_launch(cudaStream_t stream, std::shared_ptr<void> keep_alive, void (*replay)(const void*),
                   const void* launch) {
  record_operation(stream, [keep_alive = std::move(keep_alive), replay, launch] { replay(launch); });
}

bool capture_forbids_allocation() { return global_captures.load(std::memory_order_relaxed) > 0; }

bool capture_forbids_sync() { return all_captures.load(std::memory_order_relaxed) > 0; }

}  // namespace siked_emu

using namespace siked_emu;

extern "C" cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (!stream) return set_error(cudaErrorInvalidValue);
  *stream = new CUstream_st();
  return cudaSuccess;
}

extern "C" cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) { return cudaStreamCreate(stream); }

extern "C" cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return set_error(cudaErrorInvalidResourceHandle);
  if (stream->capturing) end_capture_counts(stream);
  delete stream;
  return cudaSuccess;
}

extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream && stream->capturing) {
    stream->invalidated = true;
    return set_error(cudaErrorStreamCaptureUnsupported);
  }
  return take_launch_failure();
}

extern "C" cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }

extern "C" cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned int) {
  return event ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

extern "C" cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  if (!stream) return set_error(cudaErrorStreamCaptureUnsupported);  // the legacy NULL stream
  if (stream->capturing) return set_error(cudaErrorIllegalState);
  stream->capturing = true;
  stream->invalidated = false;
  stream->mode = mode;
  stream->recorded.clear();
  all_captures.fetch_add(1);
  if (mode == cudaStreamCaptureModeGlobal) global_captures.fetch_add(1);
  return cudaSuccess;
}

extern "C" cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!graph) return set_error(cudaErrorInvalidValue);
  if (!stream || !stream->capturing) return set_error(cudaErrorIllegalState);
  stream->capturing = false;
  end_capture_counts(stream);
  *graph = nullptr;
  if (stream->invalidated) return set_error(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(stream->recorded)};
  stream->recorded.clear();
  return cudaSuccess;
}

extern "C" cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (!status) return set_error(cudaErrorInvalidValue);
  *status = !stream || !stream->capturing ? cudaStreamCaptureStatusNone
            : stream->invalidated         ? cudaStreamCaptureStatusInvalidated
                                          : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

extern "C" cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!exec || !graph) return set_error(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->operations};
  return cudaSuccess;
}

extern "C" cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t graph,
                                                     unsigned long long flags) {
  return cudaGraphInstantiate(exec, graph, flags);
}

extern "C" cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return set_error(cudaErrorInvalidValue);
  if (capturing(stream)) {
    for (const auto& operation : exec->operations) record_operation(stream, operation);
    return cudaSuccess;
  }
  for (const auto& operation : exec->operations) operation();
  return cudaSuccess;
}

extern "C" cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

extern "C" cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

extern "C" cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (!event) return set_error(cudaErrorInvalidValue);
  *event = new CUevent_st();
  return cudaSuccess;
}

extern "C" cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (cudaEventCreate(event) != cudaSuccess) return cudaErrorInvalidValue;
  (*event)->timing = !(flags & cudaEventDisableTiming);
  return cudaSuccess;
}

extern "C" cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return set_error(cudaErrorInvalidResourceHandle);
  auto stamp = [event] {
    event->at = std::chrono::steady_clock::now();
    event->recorded = true;
  };
  if (capturing(stream)) {
    record_operation(stream, stamp);
    return cudaSuccess;
  }
  stamp();
  return cudaSuccess;
}

extern "C" cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return set_error(cudaErrorInvalidResourceHandle);
  return take_launch_failure();
}

extern "C" cudaError_t cudaEventQuery(cudaEvent_t event) {
  return event ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

extern "C" cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return set_error(cudaErrorInvalidValue);
  if (!start || !end || !start->recorded || !end->recorded || !start->timing || !end->timing)
    return set_error(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

extern "C" cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
