// CPU emulation: what a `kernel<<<grid, block, smem, stream>>>(args...)` launch becomes. The
// build rewrites each launch (emulate/rewrite.mjs) into
//   ::siked_emu::launch(::siked_emu::LaunchConfig(grid, block, smem, stream), "kernel", kernel, args...)
// The arguments are converted to the kernel's parameter types once, on the host, as CUDA does;
// every CUDA thread then calls the kernel with its own copy of them.
#pragma once
#include <cstddef>
#include <memory>
#include <tuple>
#include <utility>

#include "runtime_api.h"
#include "vector_types.h"

namespace siked_emu {

struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
  LaunchConfig(dim3 g, dim3 b, size_t smem = 0, cudaStream_t s = nullptr)
      : grid(g), block(b), shared_bytes(smem), stream(s) {}
};

// Runs thread_main(closure) once per CUDA thread of the grid and returns when all are done; a
// failure (bad configuration, deadlock) becomes the calling thread's last CUDA error.
// `kernel` identifies the kernel for cudaFuncSetAttribute's limits.
void run_grid(const LaunchConfig& config, const char* kernel_name, const void* kernel,
              void (*thread_main)(const void*), const void* closure);
// Whether `stream` is being captured, and the recording of a launch into its graph.
bool capturing(cudaStream_t stream);
void record_launch(cudaStream_t stream, std::shared_ptr<void> keep_alive,
                   void (*replay)(const void* launch), const void* launch);

template <typename... Params>
struct KernelLaunch {
  LaunchConfig config;
  const char* name;
  void (*kernel)(Params...);
  std::tuple<Params...> args;

  static void thread_main(const void* self) {
    const auto* launch = static_cast<const KernelLaunch*>(self);
    std::apply(launch->kernel, launch->args);
  }
  static void replay(const void* self) {
    const auto* launch = static_cast<const KernelLaunch*>(self);
    run_grid(launch->config, launch->name, reinterpret_cast<const void*>(launch->kernel), &thread_main, launch);
  }
};

template <typename... Params, typename... Args>
void launch(const LaunchConfig& config, const char* name, void (*kernel)(Params...), Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "kernel launched with the wrong number of arguments");
  using Launch = KernelLaunch<Params...>;
  if (capturing(config.stream)) {
    auto recorded = std::make_shared<Launch>(Launch{config, name, kernel, std::tuple<Params...>(std::forward<Args>(args)...)});
    const Launch* raw = recorded.get();
    record_launch(config.stream, std::move(recorded), &Launch::replay, raw);
    return;
  }
  const Launch launch{config, name, kernel, std::tuple<Params...>(std::forward<Args>(args)...)};
  run_grid(config, name, reinterpret_cast<const void*>(kernel), &Launch::thread_main, &launch);
}

}  // namespace siked_emu
