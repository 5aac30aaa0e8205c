// Self-test of the CPU emulation runtime (emulate/): barriers, shuffles with full and partial
// masks, votes, atomics, deadlock and bad-configuration reporting, bf16 rounding, stream capture,
// the memory budget, and the cuBLAS stand-in against a naive loop. Written as CUDA (<<<>>>
// launches) so the rewriter is exercised too. Run by tools/cuda-lab/emulate-parity.sh; prints
// one line per check and the measured fiber switch cost; exit code 0 only when all pass.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <library_types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" int cublasCreate_v2(void** handle);
extern "C" int cublasDestroy_v2(void* handle);
extern "C" int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                            const void* a, cudaDataType_t a_type, int lda, const void* b, cudaDataType_t b_type,
                            int ldb, const void* beta, void* c, cudaDataType_t c_type, int ldc, int compute_type,
                            int algo);

namespace {

int failures = 0;

void check(bool ok, const std::string& name, const std::string& detail = "") {
  std::printf("%-44s %s %s\n", name.c_str(), ok ? "pass" : "FAIL", detail.c_str());
  failures += !ok;
}

// Managed-style helper: "device" memory is host memory in the emulation, but the test goes
// through the API anyway.
template <typename T>
T* device(size_t n) {
  T* ptr = nullptr;
  cudaMalloc(&ptr, sizeof(T) * n);
  cudaMemset(ptr, 0, sizeof(T) * n);
  return ptr;
}

// ---- kernels ----------------------------------------------------------------------------------

// Each round, every thread reads what another thread wrote before the barrier.
__global__ void barrier_kernel(int* out, int rounds) {
  __shared__ int slots[1024];
  const int n = blockDim.x * blockDim.y * blockDim.z;
  const int t = threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y;
  int value = t;
  for (int r = 0; r < rounds; ++r) {
    slots[t] = value;
    __syncthreads();
    value = slots[(t + r + 1) % n] + 1;
    __syncthreads();
  }
  out[blockIdx.x * n + t] = value;
}

__global__ void shuffle_kernel(int* out) {
  const int lane = threadIdx.x & 31;
  int sum = lane;
  for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  int scan = lane;
  for (int offset = 1; offset < 32; offset <<= 1) {
    const int other = __shfl_up_sync(0xffffffffu, scan, offset);
    if (lane >= offset) scan += other;
  }
  const int down = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  const int broadcast = __shfl_sync(0xffffffffu, lane * 7, 5);
  const int segment = __shfl_sync(0xffffffffu, lane, 2, 8);  // lane 2 of each group of 8
  // Divergent halves, each with its own mask, reducing at the same time.
  int half = lane;
  const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  for (int offset = 8; offset > 0; offset >>= 1) half += __shfl_xor_sync(mask, half, offset);
  // Odd lanes only: rotate among themselves.
  int odd = -1;
  if (lane & 1) odd = __shfl_sync(0xaaaaaaaau, lane, (lane + 2) & 31);
  const unsigned ballot = __ballot_sync(0xffffffffu, lane % 3 == 0);
  const int any = __any_sync(0xffffffffu, lane == 31), all = __all_sync(0xffffffffu, lane < 32);
  __syncwarp();
  int* row = out + threadIdx.x * 10;
  row[0] = sum;
  row[1] = scan;
  row[2] = down;
  row[3] = broadcast;
  row[4] = segment;
  row[5] = half;
  row[6] = odd;
  row[7] = static_cast<int>(ballot);
  row[8] = any;
  row[9] = all;
}

__global__ void count_kernel(int* out) {
  const int count = __syncthreads_count(threadIdx.x % 4 == 0);
  const int any = __syncthreads_or(threadIdx.x == 77);
  const int all = __syncthreads_and(threadIdx.x < 1000);
  if (threadIdx.x == 0) {
    out[0] = count;
    out[1] = any;
    out[2] = all;
  }
}

__global__ void early_exit_kernel(int* out) {
  __shared__ int total;
  if (threadIdx.x == 0) total = 0;
  __syncthreads();
  if (threadIdx.x >= 100) return;  // exited threads no longer count at the barrier
  atomicAdd(&total, 1);
  __syncthreads();
  if (threadIdx.x == 0) out[0] = total;
}

// Thread 0 waits in a shuffle for lane 1, which waits at the barrier for thread 0.
__global__ void skipped_barrier_kernel(int* out) {
  int value = threadIdx.x;
  if (threadIdx.x == 0) value = __shfl_sync(0x3u, value, 1);
  __syncthreads();
  out[0] = value;
}

__global__ void exited_lane_kernel(float* out) {
  if (threadIdx.x == 3) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

__global__ void trap_kernel(int* out) {
  if (blockIdx.x == 2 && threadIdx.x == 5) __trap();
  out[0] = 1;
}

__global__ void atomic_kernel(int* counters, float* sum) {
  atomicAdd(&counters[0], 1);
  atomicMax(&counters[1], static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x));
  atomicMin(&counters[2], static_cast<int>(blockIdx.x));
  atomicAdd(sum, 0.5f);
}

__global__ void dynamic_shared_kernel(float* out) {
  extern __shared__ float cells[];
  cells[threadIdx.x] = threadIdx.x * 2.f;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = cells[blockDim.x - 1 - threadIdx.x];
}

__global__ void coords_kernel(int* out) {
  const int t = threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y;
  const int b = blockIdx.x + blockIdx.y * gridDim.x + blockIdx.z * gridDim.x * gridDim.y;
  const int n = blockDim.x * blockDim.y * blockDim.z;
  out[b * n + t] = (threadIdx.x << 20) | (threadIdx.y << 10) | threadIdx.z;
  out[gridDim.x * gridDim.y * gridDim.z * n + b] = (blockIdx.x << 20) | (blockIdx.y << 10) | blockIdx.z;
}

__global__ void add_kernel(float* x, float value, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += value;
}

__global__ void barrier_loop_kernel(int rounds) {
  for (int r = 0; r < rounds; ++r) __syncthreads();
}

__global__ void shuffle_loop_kernel(int rounds, float* out) {
  float value = threadIdx.x;
  for (int r = 0; r < rounds; ++r) value = __shfl_xor_sync(0xffffffffu, value, 1);
  if (threadIdx.x == 0) out[0] = value;
}

// ---- checks -----------------------------------------------------------------------------------

// What barrier_kernel leaves in each thread's slot.
std::vector<int> barrier_expected(int n, int rounds) {
  std::vector<int> value(n);
  for (int i = 0; i < n; ++i) value[i] = i;
  for (int r = 0; r < rounds; ++r) {
    std::vector<int> next(n);
    for (int i = 0; i < n; ++i) next[i] = value[(i + r + 1) % n] + 1;
    value = next;
  }
  return value;
}

void test_barrier() {
  const int rounds = 5;
  for (dim3 block : {dim3(256), dim3(8, 4, 2), dim3(1024), dim3(33)}) {
    const int n = block.x * block.y * block.z, blocks = 3;
    int* out = device<int>(n * blocks);
    barrier_kernel<<<blocks, block>>>(out, rounds);
    std::vector<int> got(n * blocks);
    cudaMemcpy(got.data(), out, sizeof(int) * got.size(), cudaMemcpyDeviceToHost);
    bool ok = cudaGetLastError() == cudaSuccess;
    const std::vector<int> expected = barrier_expected(n, rounds);
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < n; ++t) ok = ok && got[b * n + t] == expected[t];
    cudaFree(out);
    check(ok, "barrier block " + std::to_string(block.x) + "x" + std::to_string(block.y) + "x" + std::to_string(block.z));
  }
}

// Host threads launching at the same time (the addon calls the backend from worker threads):
// each has its own block runner, and the worker pool serves one launch at a time.
void test_concurrent_hosts() {
  std::atomic<int> wrong{0};
  auto host = [&wrong] {
    const int n = 96, blocks = 16, rounds = 3;
    int* out = device<int>(n * blocks);
    const std::vector<int> expected = barrier_expected(n, rounds);
    std::vector<int> got(n * blocks);
    for (int repeat = 0; repeat < 40; ++repeat) {
      barrier_kernel<<<blocks, n>>>(out, rounds);
      cudaMemcpy(got.data(), out, sizeof(int) * got.size(), cudaMemcpyDeviceToHost);
      for (int i = 0; i < n * blocks; ++i) wrong += got[i] != expected[i % n];
    }
    cudaFree(out);
  };
  std::thread first(host), second(host), third(host);
  first.join();
  second.join();
  third.join();
  check(wrong == 0, "three host threads launching at once");
}

void test_shuffles() {
  const int threads = 64;
  int* out = device<int>(threads * 10);
  shuffle_kernel<<<1, threads>>>(out);
  std::vector<int> got(threads * 10);
  cudaMemcpy(got.data(), out, sizeof(int) * got.size(), cudaMemcpyDeviceToHost);
  bool ok[10] = {true, true, true, true, true, true, true, true, true, true};
  for (int t = 0; t < threads; ++t) {
    const int lane = t & 31;
    const int* row = &got[t * 10];
    ok[0] &= row[0] == 496;
    ok[1] &= row[1] == lane * (lane + 1) / 2;
    ok[2] &= row[2] == (lane + 3 < 32 ? (lane + 3) * 10 : lane * 10);
    ok[3] &= row[3] == 35;
    ok[4] &= row[4] == (lane & ~7) + 2;
    ok[5] &= row[5] == (lane < 16 ? 120 : 376);
    ok[6] &= row[6] == ((lane & 1) ? (lane + 2) & 31 : -1);
    ok[7] &= static_cast<unsigned>(row[7]) == 0x49249249u;
    ok[8] &= row[8] == 1;
    ok[9] &= row[9] == 1;
  }
  const char* names[10] = {"xor reduction", "up scan", "down (own value past the end)", "broadcast",
                           "width 8", "two half-warp masks at once", "odd-lane mask", "ballot", "any", "all"};
  for (int i = 0; i < 10; ++i) check(ok[i], std::string("shuffle: ") + names[i]);
  cudaFree(out);
}

void test_counts() {
  int* out = device<int>(3);
  count_kernel<<<1, 256>>>(out);
  int got[3];
  cudaMemcpy(got, out, sizeof got, cudaMemcpyDeviceToHost);
  check(got[0] == 64 && got[1] == 1 && got[2] == 1, "__syncthreads_count/or/and");
  early_exit_kernel<<<1, 256>>>(out);
  cudaMemcpy(got, out, sizeof(int), cudaMemcpyDeviceToHost);
  check(got[0] == 100 && cudaGetLastError() == cudaSuccess, "barrier after threads exited");
  cudaFree(out);
}

void test_failures() {
  int* out = device<int>(1);
  skipped_barrier_kernel<<<2, 64>>>(out);
  cudaError_t error = cudaGetLastError();
  std::string message = cudaGetErrorString(error);
  check(error == cudaErrorLaunchFailure && message.find("deadlock in skipped_barrier_kernel") != std::string::npos,
        "deadlock at a barrier reported", message);
  check(cudaDeviceSynchronize() == cudaErrorLaunchFailure && cudaDeviceSynchronize() == cudaSuccess,
        "deadlock also returned by the next synchronize, once");

  float* values = device<float>(32);
  exited_lane_kernel<<<1, 32>>>(values);
  error = cudaGetLastError();
  message = cudaGetErrorString(error);
  check(error == cudaErrorLaunchFailure && message.find("deadlock in exited_lane_kernel") != std::string::npos &&
            message.find("have exited") != std::string::npos,
        "deadlock on a lane that exited before a shuffle", message);
  cudaDeviceSynchronize();

  trap_kernel<<<4, 32>>>(out);
  error = cudaGetLastError();
  message = cudaGetErrorString(error);
  check(error == cudaErrorLaunchFailure && message.find("__trap") != std::string::npos, "__trap reported", message);
  cudaDeviceSynchronize();

  bool config_ok = true;
  for (auto [grid, block] : {std::pair<dim3, dim3>{1, 0}, {1, 1025}, {0, 32}, {1, dim3(32, 32, 2)}, {1, dim3(1, 1, 65)},
                             {dim3(1, 65536), 32}}) {
    add_kernel<<<grid, block>>>(values, 1.f, 1);
    config_ok &= cudaGetLastError() == cudaErrorInvalidConfiguration;
  }
  check(config_ok, "invalid configurations refused");
  add_kernel<<<1, 32, 64 << 10>>>(values, 1.f, 1);
  check(cudaGetLastError() == cudaErrorInvalidValue, "64 KiB dynamic shared memory needs the attribute");
  cudaFuncSetAttribute(add_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 << 10);
  add_kernel<<<1, 32, 64 << 10>>>(values, 1.f, 1);
  check(cudaGetLastError() == cudaSuccess, "... and runs with it");

  // The runner is usable again after the failures above.
  std::vector<float> host(32, 0.f);
  cudaMemcpy(values, host.data(), sizeof(float) * 32, cudaMemcpyHostToDevice);
  add_kernel<<<1, 32>>>(values, 2.f, 32);
  cudaMemcpy(host.data(), values, sizeof(float) * 32, cudaMemcpyDeviceToHost);
  check(host[31] == 2.f && cudaGetLastError() == cudaSuccess, "launches work after failures");
  cudaFree(values);
  cudaFree(out);
}

void test_atomics_and_grid() {
  int* counters = device<int>(3);
  float* sum = device<float>(1);
  const int init[3] = {0, -1, 1 << 30};
  cudaMemcpy(counters, init, sizeof init, cudaMemcpyHostToDevice);
  atomic_kernel<<<500, 128>>>(counters, sum);
  int got[3];
  float total = 0;
  cudaMemcpy(got, counters, sizeof got, cudaMemcpyDeviceToHost);
  cudaMemcpy(&total, sum, sizeof total, cudaMemcpyDeviceToHost);
  check(got[0] == 64000 && got[1] == 63999 && got[2] == 0 && total == 32000.f, "atomics over 500 blocks");
  cudaFree(counters);
  cudaFree(sum);

  float* cells = device<float>(4 * 128);
  dynamic_shared_kernel<<<4, 128, 128 * sizeof(float)>>>(cells);
  std::vector<float> host(4 * 128);
  cudaMemcpy(host.data(), cells, sizeof(float) * host.size(), cudaMemcpyDeviceToHost);
  bool ok = true;
  for (int i = 0; i < 4 * 128; ++i) ok &= host[i] == (127 - i % 128) * 2.f;
  check(ok, "extern __shared__ (dynamic shared memory)");
  cudaFree(cells);

  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int blocks = 12, threads = 24;
  int* coords = device<int>(blocks * threads + blocks);
  coords_kernel<<<grid, block>>>(coords);
  std::vector<int> c(blocks * threads + blocks);
  cudaMemcpy(c.data(), coords, sizeof(int) * c.size(), cudaMemcpyDeviceToHost);
  ok = true;
  for (int b = 0; b < blocks; ++b) {
    ok &= c[blocks * threads + b] == (((b % 3) << 20) | (((b / 3) % 2) << 10) | (b / 6));
    for (int t = 0; t < threads; ++t) ok &= c[b * threads + t] == (((t % 4) << 20) | (((t / 4) % 3) << 10) | (t / 12));
  }
  check(ok, "3-D thread and block coordinates");
  cudaFree(coords);
}

void test_bf16() {
  struct Case {
    uint32_t in;
    unsigned short out;
  } cases[] = {
      {0x3f800000u, 0x3f80}, {0x3f808000u, 0x3f80},  // tie, even stays
      {0x3f818000u, 0x3f82},                          // tie, odd rounds up
      {0x3f80c000u, 0x3f81}, {0x3f807fffu, 0x3f80}, {0xbf808001u, 0xbf81},
      {0x7f7fffffu, 0x7f80},                          // rounds to +inf
      {0x7f800000u, 0x7f80}, {0xff800000u, 0xff80}, {0x80000000u, 0x8000},
      {0x00018000u, 0x0002}, {0x7fc00001u, 0x7fff},  // denormal tie up; NaN -> canonical NaN
      {0xffffffffu, 0x7fff},
  };
  bool ok = true;
  for (const Case& c : cases) {
    float x;
    std::memcpy(&x, &c.in, 4);
    ok &= __bfloat16_as_ushort(__float2bfloat16_rn(x)) == c.out && __bfloat16_as_ushort(__float2bfloat16(x)) == c.out;
  }
  check(ok, "bf16 round to nearest even, NaN kept");
  check(std::isnan(__bfloat162float(__ushort_as_bfloat16(0xffff))) && __bfloat162float(__ushort_as_bfloat16(0x3fc0)) == 1.5f,
        "bf16 -> float");
}

void test_gemm() {
  void* handle = nullptr;
  cublasCreate_v2(&handle);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const int pad = 3;
  bool all_ok = true;
  // Partial tiles in every dimension (and k past one 256-deep block), a tiny product, and whole
  // tiles exactly.
  for (const auto& shape : {std::array<int, 3>{37, 70, 300}, {5, 3, 1}, {64, 64, 256}})
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int c_f32 = 0; c_f32 < 2; ++c_f32) {
        const int m = shape[0], n = shape[1], k = shape[2];
        const int lda = (ta ? k : m) + pad, ldb = (tb ? n : k) + pad, ldc = m + pad;
        std::vector<__nv_bfloat16> a(static_cast<size_t>(lda) * (ta ? m : k)), b(static_cast<size_t>(ldb) * (tb ? k : n));
        for (auto& x : a) x = __float2bfloat16(normal(rng));
        for (auto& x : b) x = __float2bfloat16(normal(rng));
        std::vector<float> c0(static_cast<size_t>(ldc) * n);
        for (auto& x : c0) x = normal(rng);
        const float alpha = 0.75f, beta = c_f32 ? 0.5f : 0.f;
        std::vector<float> c32 = c0;
        std::vector<__nv_bfloat16> c16(c0.size(), __ushort_as_bfloat16(0xffff));  // NaN: beta 0 must not read it
        const int rc = cublasGemmEx(handle, ta, tb, m, n, k, &alpha, a.data(), CUDA_R_16BF, lda, b.data(), CUDA_R_16BF,
                                    ldb, &beta, c_f32 ? static_cast<void*>(c32.data()) : c16.data(),
                                    c_f32 ? CUDA_R_32F : CUDA_R_16BF, ldc, 68, -1);
        double max_error = 0;
        bool ok = rc == 0;
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < m; ++i) {
            double sum = 0;
            for (int p = 0; p < k; ++p) {
              const float av = __bfloat162float(ta ? a[p + static_cast<size_t>(i) * lda] : a[i + static_cast<size_t>(p) * lda]);
              const float bv = __bfloat162float(tb ? b[j + static_cast<size_t>(p) * ldb] : b[p + static_cast<size_t>(j) * ldb]);
              sum += static_cast<double>(av) * bv;
            }
            const size_t at = i + static_cast<size_t>(j) * ldc;
            const double ref = alpha * sum + beta * c0[at];
            const double got = c_f32 ? c32[at] : __bfloat162float(c16[at]);
            // fp32 accumulation of 300 terms; bf16 output: half an ulp of 2^-8 relative.
            const double bound = c_f32 ? 1e-5 * (1 + std::fabs(ref)) + 1e-4 : std::fabs(ref) * (1.0 / 256) + 1e-3;
            max_error = std::max(max_error, std::fabs(got - ref));
            ok &= std::fabs(got - ref) <= bound;
          }
        for (int j = 0; j < n && ok; ++j)  // the padding rows of C are untouched
          for (int i = m; i < ldc; ++i) {
            const size_t at = i + static_cast<size_t>(j) * ldc;
            ok &= c_f32 ? c32[at] == c0[at] : __bfloat16_as_ushort(c16[at]) == 0xffff;
          }
        char name[80], detail[64];
        std::snprintf(name, sizeof name, "cublasGemmEx %dx%dx%d %s%s C=%s", m, n, k, ta ? "T" : "N", tb ? "T" : "N",
                      c_f32 ? "fp32" : "bf16");
        std::snprintf(detail, sizeof detail, "max error %.3g", max_error);
        check(ok, name, detail);
        all_ok &= ok;
      }
  const float one = 1.f;
  check(cublasGemmEx(handle, 0, 0, 4, 4, 4, &one, nullptr, CUDA_R_16BF, 2, nullptr, CUDA_R_16BF, 4, &one, nullptr,
                     CUDA_R_32F, 4, 68, -1) == 7,
        "cublasGemmEx rejects lda < m");
  // Speed at a training-test shape (cuBLAS m, n, k = 128, 64, 512).
  std::vector<__nv_bfloat16> a(128 * 512), b(512 * 64);
  std::vector<float> c(128 * 64);
  const float zero = 0.f;
  const auto start = std::chrono::steady_clock::now();
  const int reps = 50;
  for (int r = 0; r < reps; ++r)
    cublasGemmEx(handle, 1, 0, 128, 64, 512, &one, a.data(), CUDA_R_16BF, 512, b.data(), CUDA_R_16BF, 512, &zero,
                 c.data(), CUDA_R_32F, 128, 68, -1);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / reps;
  std::printf("gemm 128x64x512: %.3f ms (%.2f GFLOP/s)\n", ms, 2.0 * 128 * 64 * 512 / (ms * 1e6));
  cublasDestroy_v2(handle);
  (void)all_ok;
}

void test_memory_and_capture() {
  size_t free_bytes = 0, total = 0;
  check(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess && free_bytes <= total && total > 0, "cudaMemGetInfo");
  void* huge = nullptr;
  const cudaError_t error = cudaMalloc(&huge, total + (size_t{1} << 20));
  check(error == cudaErrorMemoryAllocation && cudaGetLastError() == cudaErrorMemoryAllocation &&
            cudaGetLastError() == cudaSuccess,
        "cudaMalloc past the budget fails with out of memory");

  cudaStream_t stream;
  cudaStreamCreate(&stream);
  float* x = device<float>(256);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal);
  add_kernel<<<2, 128, 0, stream>>>(x, 1.f, 256);
  void* during = nullptr;
  const bool refused = cudaMalloc(&during, 16) == cudaErrorStreamCaptureUnsupported;
  cudaGetLastError();
  add_kernel<<<2, 128, 0, stream>>>(x, 2.f, 256);
  cudaStreamEndCapture(stream, &graph);
  float value = -1;
  cudaMemcpy(&value, x, sizeof value, cudaMemcpyDeviceToHost);
  const bool not_run = value == 0.f;
  cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphLaunch(exec, stream);
  cudaGraphLaunch(exec, stream);
  cudaStreamSynchronize(stream);
  cudaMemcpy(&value, x + 255, sizeof value, cudaMemcpyDeviceToHost);
  check(refused && not_run && value == 6.f, "stream capture records, graph launch replays");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
  cudaFree(x);

  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start);
  cudaEventRecord(stop);
  cudaEventSynchronize(stop);
  float ms = -1;
  check(cudaEventElapsedTime(&ms, start, stop) == cudaSuccess && ms >= 0.f, "events time");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);

  int count = 0;
  cudaDeviceProp prop;
  const bool listed = cudaGetDeviceCount(&count) == cudaSuccess && count == 1 &&
                      cudaGetDeviceProperties(&prop, 0) == cudaSuccess;
  check(listed && std::strncmp(prop.name, "siked CPU emulator", 18) == 0 && prop.major == 9, "one device",
        listed ? prop.name : "");
}

void measure_switches() {
  const int threads = 1024, rounds = 200;
  barrier_loop_kernel<<<1, threads>>>(10);  // warm the stacks
  auto start = std::chrono::steady_clock::now();
  barrier_loop_kernel<<<1, threads>>>(rounds);
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  // Each thread is switched to once per barrier (a waiting fiber hands over to the next one).
  std::printf("fiber switch: %.1f ns including scheduling (barrier of 1024 threads: %.1f us)\n",
              ns / (1.0 * threads * rounds), ns / rounds / 1e3);
  float* out = device<float>(1);
  start = std::chrono::steady_clock::now();
  shuffle_loop_kernel<<<1, 256>>>(rounds, out);
  ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("warp shuffle: %.1f ns per lane\n", ns / (256.0 * rounds));
  cudaFree(out);
}

}  // namespace

int main() {
  test_barrier();
  test_concurrent_hosts();
  test_shuffles();
  test_counts();
  test_failures();
  test_atomics_and_grid();
  test_bf16();
  test_gemm();
  test_memory_and_capture();
  measure_switches();
  std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
  return failures ? 1 : 0;
}
