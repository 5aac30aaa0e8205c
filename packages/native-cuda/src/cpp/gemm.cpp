// The GEMM driver: GotoBLAS/BLIS-style packing and cache blocking around the register-blocked
// micro-kernels of gemm_kernels_*.cpp, plus a direct path for decode-shaped forward products.
//
// Loop nest of gemm_packed (row-major C, so the micro-kernel's vectors run along N):
//   for each block of MB rows of op(A)             (packed A block, shared by all threads: L3)
//     for each KC slice of K                        (C accumulates over slices: beta, then 1)
//       pack A[rows, slice] into MR-row panels      (parallel over panels)
//       tasks over (NB-column block of B) x (share of the A panels), claimed dynamically:
//         pack B[slice, cols] into NR-column panels (per thread: L2)
//         for each A panel (L1) : for each B panel (streamed from L2) : micro-kernel
// Both operands are packed about once per call: A once per (row block, slice), B once per task.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "gemm_kernels.h"
#include "peak_probe.h"

namespace siked {
namespace gemm_detail {

namespace {

// The K slice is fixed on every CPU: it sets the order in which a product's terms are summed,
// so a machine-dependent KC would make results depend on the cache sizes (and training with
// threads: 1 would no longer be bit-reproducible across machines of one SIMD level). NB and MB
// only partition C and come from this CPU's caches (gemm_blocking()). All overridable at compile
// time for tools/kernels-lab's variants.
#ifndef SIKED_GEMM_KC
#define SIKED_GEMM_KC 256
#endif
constexpr int kSliceK = SIKED_GEMM_KC;  // KC: an MR x KC A panel (12 KiB at MR 12) stays in L1
#ifndef SIKED_GEMM_KC_BF16
#define SIKED_GEMM_KC_BF16 512
#endif
constexpr int kSliceKBf16 = SIKED_GEMM_KC_BF16;  // bf16 panels are half the bytes per k
constexpr int kTasksPerThread = 4;  // spare tasks let a thread slowed by other work catch up
// Below this many multiply-adds a call runs on one thread: waking a worker costs more.
constexpr int64_t kMinParallelFma = int64_t(1) << 16;
// Up to this many multiply-adds (and one column block) a multi-threaded call is one dispatch:
// each task packs its own rows of A and its own copy of B, slice after slice (run_fused).
constexpr int64_t kFusedMaxFma = int64_t(1) << 24;

// A 64-byte aligned scratch buffer that grows on demand and is kept per thread across calls, so
// steady-state GEMMs do not allocate (and do not page-fault fresh memory).
class ScratchBuffer {
 public:
  ~ScratchBuffer() { std::free(data_); }
  template <typename T>
  T* get(size_t count) {
    const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
    if (bytes > capacity_) {
      std::free(data_);
      data_ = std::aligned_alloc(64, bytes);
      if (!data_) throw std::bad_alloc();
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;  // bytes
};

thread_local ScratchBuffer t_packed_a;  // the shared A block of the call this thread submitted
thread_local ScratchBuffer t_packed_b;  // this thread's B block
thread_local ScratchBuffer t_shared_b;  // the shared B slice of the call this thread submitted
thread_local ScratchBuffer t_task_a;    // run_fused: this thread's task's A panels
thread_local ScratchBuffer t_task_b;    // run_fused: this thread's task's copy of B's slice

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// dst[0, width) = src[0, n) then zeros. Panels are 6-32 floats wide: an inline loop, because a
// memcpy call per 48-byte run was 8-10% of a small model's training step (GCC would turn the
// loop back into that call without the attribute).
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
inline void copy_padded(float* __restrict dst, const float* __restrict src, int n, int width) {
  for (int i = 0; i < n; ++i) dst[i] = src[i];
  for (int i = n; i < width; ++i) dst[i] = 0.f;
}

// Packs rows [i0, i0 + rows) x columns [k0, k0 + kc) of op(A) into ceil(rows / mr) panels.
// The loops follow the stored layout so the source is read sequentially: a transposed A (stored
// [K, M], as in sgemm_tn) row by row of K; a plain A with the kernel set's transposing packer.
void pack_a_block(const KernelSet& kernels, const Operand& A, int64_t i0, int rows, int64_t k0,
                  int kc, float* dst) {
  const int mr = kernels.mr;
  const int panels = static_cast<int>(ceil_div(rows, mr));
  const int64_t panel_floats = int64_t(kc) * mr;
  if (A.transposed) {
    for (int p = 0; p < panels; ++p) {
      const int n = std::min(mr, rows - p * mr);
      const float* src = A.data + k0 * A.ld + i0 + p * mr;
      float* d = dst + p * panel_floats;
      for (int k = 0; k < kc; ++k) copy_padded(d + k * mr, src + k * A.ld, n, mr);
    }
  } else {
    for (int p = 0; p < panels; ++p)
      kernels.pack_interleaved(A.data + (i0 + p * mr) * A.ld + k0, A.ld,
                               std::min(mr, rows - p * mr), kc, mr, dst + p * panel_floats);
  }
}

// Packs rows [k0, k0 + kc) x columns [j0, j0 + cols) of op(B) into ceil(cols / nr) panels, reading
// the source sequentially like pack_a_block: a plain B (stored [K, N]) row by row of K; a
// transposed B (stored [N, K], the weight of sgemm_nt) with the transposing packer.
void pack_b_block(const KernelSet& kernels, const Operand& B, int64_t k0, int kc, int64_t j0,
                  int cols, float* dst) {
  const int nr = kernels.nr;
  const int panels = static_cast<int>(ceil_div(cols, nr));
  const int64_t panel_floats = int64_t(kc) * nr;
  if (!B.transposed) {
    for (int q = 0; q < panels; ++q) {
      const int n = std::min(nr, cols - q * nr);
      const float* src = B.data + k0 * B.ld + j0 + q * nr;
      float* d = dst + q * panel_floats;
      for (int k = 0; k < kc; ++k) copy_padded(d + k * nr, src + k * B.ld, n, nr);
    }
  } else {
    for (int q = 0; q < panels; ++q)
      kernels.pack_interleaved(B.data + (j0 + q * nr) * B.ld + k0, B.ld,
                               std::min(nr, cols - q * nr), kc, nr, dst + q * panel_floats);
  }
}

// C = beta * C over an M x N block (the whole product when K == 0).
void scale_c(int M, int N, float* C, int64_t ldc, float beta) {
  for (int i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.f) std::memset(c, 0, sizeof(float) * N);
    else if (beta != 1.f)
      for (int j = 0; j < N; ++j) c[j] *= beta;
  }
}

int threads_for(ThreadPool* pool, int64_t M, int64_t N, int64_t K) {
  if (!pool || M * N * K < kMinParallelFma) return 1;
  return pool->size();
}

}  // namespace

namespace {
// A cache size from the C library (CPUID on x86), or `fallback` when it does not say.
int64_t cache_bytes(int name, int64_t fallback) {
  const long bytes = sysconf(name);
  return bytes > 0 ? bytes : fallback;
}

int64_t round_down_to(int64_t value, int64_t step, int64_t lo, int64_t hi) {
  return std::clamp(value / step * step, lo, hi);
}

// SIKED_GEMM_NB / SIKED_GEMM_MB in the environment override the cache-derived blocks (rounded
// to multiples of 64, at least 64): for tests that must cross every block boundary, and for
// trying other blockings without a rebuild.
int env_block(const char* name, int derived) {
  const char* text = std::getenv(name);
  if (!text || !*text) return derived;
  return static_cast<int>(round_down_to(std::atol(text), 64, 64, 1 << 20));
}
}  // namespace

const GemmBlocking& gemm_blocking() {
  static const GemmBlocking blocking = [] {
    GemmBlocking b;
    b.l1d_bytes = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    b.l2_bytes = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
    b.l3_bytes = cache_bytes(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
    b.kc = kSliceK;
    b.kc_bf16 = kSliceKBf16;
    // NB: a KC x NB float32 B block fills half of L2 (the other half: C rows, the A panel in
    // flight, the next block); 512 on a 1 MiB L2, 1024 on 2 MiB, 128 on 256 KiB.
#ifdef SIKED_GEMM_NB
    b.nb = SIKED_GEMM_NB;
#else
    b.nb = static_cast<int>(round_down_to(b.l2_bytes / 2 / (int64_t(kSliceK) * 4), 64, 128, 2048));
#endif
    // MB: the shared packed A block (MB x KC floats) takes at most an eighth of L3 (it is shared
    // by the threads; other cores and the B blocks use the rest), between 256 and 4096 rows.
    b.mb = static_cast<int>(round_down_to(b.l3_bytes / 8 / (int64_t(kSliceK) * 4), 64, 256, 4096));
    b.nb = env_block("SIKED_GEMM_NB", b.nb);
    b.mb = env_block("SIKED_GEMM_MB", b.mb);
    return b;
  }();
  return blocking;
}

const KernelSet& kernels_for(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return avx512_kernels();
    case SimdLevel::Avx2: return avx2_kernels();
    default: return scalar_kernels();
  }
}

const KernelSet& active_kernels() {
  static const KernelSet& chosen = kernels_for(detect_simd_level());
  return chosen;
}

namespace {

// The float32 panels of a KernelSet (layouts in gemm_kernels.h).
struct Fp32Panels {
  using Element = float;
  const KernelSet& kernels;
  int mr() const { return kernels.mr; }
  int nr() const { return kernels.nr; }
  // Equal slices of at most KC (K = 384 gives 192 + 192, not 256 + 128): a short last slice
  // would pay the same C traffic for half the work.
  int64_t slice_k(int64_t K) const { return ceil_div(K, ceil_div(K, kSliceK)); }
  int padded_k(int kc) const { return kc; }
  void pack_a(const Operand& A, int64_t i0, int rows, int64_t k0, int kc, float* dst) const {
    pack_a_block(kernels, A, i0, rows, k0, kc, dst);
  }
  void pack_b(const Operand& B, int64_t k0, int kc, int64_t j0, int cols, float* dst) const {
    pack_b_block(kernels, B, k0, kc, j0, cols, dst);
  }
  void micro(int kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, float beta) const {
    kernels.micro(kc, a, b, c, ldc, m, n, beta);
  }
  MicroKernelStrided strided() const { return kernels.micro_strided; }
};

// The bf16 panels of a Bf16KernelSet: operands rounded to bf16 while packing, k padded to whole
// k blocks (zeros), so only the packed copies are bf16 and the model keeps float32 everywhere.
struct Bf16Panels {
  using Element = uint16_t;
  const Bf16KernelSet& kernels;
  int mr() const { return kernels.mr; }
  int nr() const { return kernels.nr; }
  // Slices of whole k blocks (but the last), at most KC.
  int64_t slice_k(int64_t K) const {
    return round_up(ceil_div(K, ceil_div(K, kSliceKBf16)), kernels.k_block);
  }
  int padded_k(int kc) const { return static_cast<int>(round_up(kc, kernels.k_block)); }
  void pack_a(const Operand& A, int64_t i0, int rows, int64_t k0, int kc, uint16_t* dst) const {
    const int64_t panel = int64_t(padded_k(kc)) * mr();
    for (int p = 0; p * mr() < rows; ++p) {
      const int64_t i = i0 + int64_t(p) * mr();
      const float* src = A.transposed ? A.data + k0 * A.ld + i : A.data + i * A.ld + k0;
      kernels.pack_a(src, A.ld, A.transposed, std::min(mr(), rows - p * mr()), kc, dst + p * panel);
    }
  }
  void pack_b(const Operand& B, int64_t k0, int kc, int64_t j0, int cols, uint16_t* dst) const {
    const int64_t panel = int64_t(padded_k(kc)) * nr();
    for (int q = 0; q * nr() < cols; ++q) {
      const int64_t j = j0 + int64_t(q) * nr();
      const float* src = B.transposed ? B.data + j * B.ld + k0 : B.data + k0 * B.ld + j;
      kernels.pack_b(src, B.ld, B.transposed, std::min(nr(), cols - q * nr()), kc, dst + q * panel);
    }
  }
  void micro(int kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int m, int n,
             float beta) const {
    kernels.micro(padded_k(kc), a, b, c, ldc, m, n, beta);
  }
  MicroKernelStrided strided() const { return nullptr; }  // bf16 operands are rounded while packing
};

// A product small enough that the pool's hand-offs, not the arithmetic, would dominate (a
// 0.2M-parameter model's layers: M ~700 tokens, N and K 64-640): one dispatch instead of three
// per K slice. Task t owns a contiguous share of the A panels and all N columns and runs the K
// slices in order, so every C element sums exactly as run_packed's would. Operands the kernel set
// can read in place (a transposed A's full panels, a plain B: MicroKernelStrided) are not packed;
// the others are packed per task (B's copy duplicated, (tasks - 1) K N floats, small next to
// M N K).
template <typename Panels>
void run_fused(const Panels& panels, int M, int N, int K, const Operand& A, const Operand& B,
               float* C, int64_t ldc, float beta, ThreadPool* pool, int64_t tasks) {
  using Element = typename Panels::Element;
  const int mr = panels.mr(), nr = panels.nr();
  const int64_t a_panels = ceil_div(M, mr), b_panels = ceil_div(N, nr);
  const int64_t slice_k = panels.slice_k(K);
  const MicroKernelStrided strided = panels.strided();
  const bool a_in_place = strided && A.transposed, b_in_place = strided && !B.transposed;
  auto run_task = [&](int64_t task) {
    const int64_t p0 = task * a_panels / tasks, p1 = (task + 1) * a_panels / tasks;
    if (p0 == p1) return;
    const int rows = static_cast<int>(std::min<int64_t>(p1 * mr, M) - p0 * mr);
    const int64_t kp = panels.padded_k(static_cast<int>(slice_k));
    Element* packed_a = t_task_a.get<Element>((p1 - p0) * mr * kp);
    Element* packed_b = b_in_place ? nullptr : t_task_b.get<Element>(b_panels * nr * kp);
    for (int64_t k0 = 0; k0 < K; k0 += slice_k) {
      const int kc = static_cast<int>(std::min<int64_t>(slice_k, K - k0));
      const float slice_beta = k0 == 0 ? beta : 1.f;
      const int64_t a_panel_size = int64_t(panels.padded_k(kc)) * mr;
      const int64_t b_panel_size = int64_t(panels.padded_k(kc)) * nr;
      if (!a_in_place) {
        panels.pack_a(A, p0 * mr, rows, k0, kc, packed_a);
      } else if (p1 * mr > M) {  // the last panel is partial: packed, zero-padded
        panels.pack_a(A, (p1 - 1) * mr, static_cast<int>(M - (p1 - 1) * mr), k0, kc,
                      packed_a + (p1 - 1 - p0) * a_panel_size);
      }
      if (!b_in_place) panels.pack_b(B, k0, kc, 0, N, packed_b);
      for (int64_t p = p0; p < p1; ++p) {
        const int tile_rows = static_cast<int>(std::min<int64_t>(mr, M - p * mr));
        float* c_row = C + p * mr * ldc;
        const Element* a = packed_a + (p - p0) * a_panel_size;
        for (int64_t q = 0; q < b_panels; ++q) {
          const int cols = static_cast<int>(std::min<int64_t>(nr, N - q * nr));
          if (!strided) {
            panels.micro(kc, a, packed_b + q * b_panel_size, c_row + q * nr, ldc, tile_rows, cols,
                         slice_beta);
            continue;
          }
          if constexpr (std::is_same_v<Element, float>) {
            const bool a_direct = a_in_place && tile_rows == mr;
            const float* a_at = a_direct ? A.data + k0 * A.ld + p * mr : a;
            const float* b_at = b_in_place ? B.data + k0 * B.ld + q * nr : packed_b + q * b_panel_size;
            strided(kc, a_at, a_direct ? A.ld : mr, b_at, b_in_place ? B.ld : nr, c_row + q * nr, ldc,
                    tile_rows, cols, slice_beta);
          }
        }
      }
    }
  };
  if (tasks == 1) return run_task(0);
  pool->run_tasks(tasks, run_task);
}

template <typename Panels>
void run_packed(const Panels& panels, int M, int N, int K, Operand A, Operand B, float* C,
                int64_t ldc, float beta, ThreadPool* pool) {
  using Element = typename Panels::Element;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scale_c(M, N, C, ldc, beta);
    return;
  }
  const int mr = panels.mr(), nr = panels.nr();
  const int threads = threads_for(pool, M, N, K);
  const int target_tasks = threads == 1 ? 1 : threads * kTasksPerThread;
  const GemmBlocking& blocking = gemm_blocking();
  const int64_t block_m = std::max<int64_t>(mr, blocking.mb / mr * mr);
  if (int64_t(M) * N * K <= kFusedMaxFma && N <= blocking.nb && M <= block_m) {
    // Tasks of at least 2 panels (the copies of B stay small next to the multiplies), a whole
    // number per thread. On one thread (a small product, or a caller's per-head attention
    // product with no pool) one task: the same sums, with the operands it can read in place.
    if (threads == 1) return run_fused(panels, M, N, K, A, B, C, ldc, beta, pool, 1);
    const int64_t tasks = std::min<int64_t>(target_tasks, ceil_div(M, mr) / 2) / threads * threads;
    if (tasks > 1) return run_fused(panels, M, N, K, A, B, C, ldc, beta, pool, tasks);
  }
  const int64_t slice_k = panels.slice_k(K);
  Element* packed_a =
      t_packed_a.get<Element>(round_up(std::min<int64_t>(M, block_m), mr) * panels.padded_k(slice_k));

  for (int64_t i0 = 0; i0 < M; i0 += block_m) {
    const int rows = static_cast<int>(std::min<int64_t>(block_m, M - i0));
    const int a_panels = static_cast<int>(ceil_div(rows, mr));

    // Split the block of C into tasks: NB-column blocks first (each packs its own B block), and
    // when they are too few, also into shares of the A panels (which then repack the same B
    // block: cheap, since a share still has many rows).
    int64_t block_n = blocking.nb;
    int64_t n_blocks = ceil_div(N, block_n);
    const int64_t m_shares = std::min<int64_t>(a_panels, ceil_div(target_tasks, n_blocks));
    if (n_blocks * m_shares < target_tasks) {
      block_n = round_up(ceil_div(N, ceil_div(target_tasks, m_shares)), nr);
      n_blocks = ceil_div(N, block_n);
    }
    const int64_t tasks = n_blocks * m_shares;
    // Shares of the A panels would each repack the same B block: with several shares, B's slice
    // is packed once into a shared buffer instead (in parallel, before the multiplies). Only
    // then is N small enough (fewer column blocks than tasks) for that buffer to stay cached.
    const bool shared_b = m_shares > 1;

    for (int64_t k0 = 0; k0 < K; k0 += slice_k) {
      const int kc = static_cast<int>(std::min<int64_t>(slice_k, K - k0));
      const float slice_beta = k0 == 0 ? beta : 1.f;  // later slices accumulate onto C
      const int64_t a_panel_size = int64_t(panels.padded_k(kc)) * mr;
      const int64_t b_panel_size = int64_t(panels.padded_k(kc)) * nr;
      const int64_t all_b_panels = ceil_div(N, nr);
      Element* packed_b_slice = shared_b ? t_shared_b.get<Element>(all_b_panels * b_panel_size) : nullptr;

      auto pack_a_panels = [&](int64_t p0, int64_t p1) {
        panels.pack_a(A, i0 + p0 * mr, static_cast<int>(std::min<int64_t>(p1 * mr, rows) - p0 * mr),
                      k0, kc, packed_a + p0 * a_panel_size);
      };
      auto pack_b_panels = [&](int64_t q0, int64_t q1) {
        panels.pack_b(B, k0, kc, q0 * nr, static_cast<int>(std::min<int64_t>(q1 * nr, N) - q0 * nr),
                      packed_b_slice + q0 * b_panel_size);
      };
      auto multiply_task = [&](int64_t task) {
        const int64_t share = task % m_shares, n_block = task / m_shares;
        const int64_t j0 = n_block * block_n;
        const int cols = static_cast<int>(std::min<int64_t>(block_n, N - j0));
        const int b_panels = static_cast<int>(ceil_div(cols, nr));
        const Element* packed_b;
        if (shared_b) {
          packed_b = packed_b_slice + (j0 / nr) * b_panel_size;  // block_n is a multiple of nr
        } else {
          Element* own = t_packed_b.get<Element>(b_panels * b_panel_size);
          panels.pack_b(B, k0, kc, j0, cols, own);
          packed_b = own;
        }
        const int64_t p0 = share * a_panels / m_shares, p1 = (share + 1) * a_panels / m_shares;
        for (int64_t p = p0; p < p1; ++p) {
          const int tile_rows = static_cast<int>(std::min<int64_t>(mr, rows - p * mr));
          float* c_row = C + (i0 + p * mr) * ldc + j0;
          for (int q = 0; q < b_panels; ++q)
            panels.micro(kc, packed_a + p * a_panel_size, packed_b + q * b_panel_size, c_row + q * nr,
                         ldc, tile_rows, std::min(nr, cols - q * nr), slice_beta);
        }
      };

      if (threads == 1) {
        pack_a_panels(0, a_panels);
        if (shared_b) pack_b_panels(0, all_b_panels);
        for (int64_t t = 0; t < tasks; ++t) multiply_task(t);
      } else {
        pool->parallel_for(0, a_panels, 8, pack_a_panels);
        if (shared_b) pool->parallel_for(0, all_b_panels, 4, pack_b_panels);
        pool->run_tasks(tasks, multiply_task);
      }
    }
  }
}

}  // namespace

void gemm_packed(const KernelSet& kernels, int M, int N, int K, Operand A, Operand B, float* C,
                 int64_t ldc, float beta, ThreadPool* pool) {
  run_packed(Fp32Panels{kernels}, M, N, K, A, B, C, ldc, beta, pool);
}

void gemm_packed_bf16(const Bf16KernelSet& kernels, int M, int N, int K, Operand A, Operand B,
                      float* C, int64_t ldc, float beta, ThreadPool* pool) {
  run_packed(Bf16Panels{kernels}, M, N, K, A, B, C, ldc, beta, pool);
}

const Bf16KernelSet* active_bf16_kernels() {
  static const Bf16KernelSet* chosen = [] {
    const Bf16Level level = detect_bf16_level();
    // VDPBF16PS does twice the products of an FMA per instruction, but not every core issues it
    // as fast (on the Sapphire Rapids-class Xeon measured it reaches 0.57x the FMA peak; on Zen 4
    // it is the other way round). Use it only where its measured peak clearly beats float32's;
    // register-only loops of 20 ms each, so the choice does not move with the machine's load.
    if (level == Bf16Level::Avx512Bf16 &&
        measure_peak_gflops(PeakKind::Bf16, 0.02, nullptr) <
            1.5 * measure_peak_gflops(PeakKind::Fp32, 0.02, nullptr))
      return static_cast<const Bf16KernelSet*>(nullptr);
    return bf16_kernels(level);
  }();
  return chosen;
}

namespace {
// The small-M driver for either B element type: kernel(M, cols, K, A, lda, B, ldb, C, ldc, beta)
// over chunks of B's rows (output columns), multiples of 8 (the kernels' widest B tile).
template <typename BT, typename Kernel>
void run_small_m_nt(Kernel kernel, int M, int N, int K, const float* A, int64_t lda, const BT* B,
                    int64_t ldb, float* C, int64_t ldc, float beta, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scale_c(M, N, C, ldc, beta);
    return;
  }
  const int threads = threads_for(pool, M, N, K);
  if (threads == 1) {
    kernel(M, N, K, A, lda, B, ldb, C, ldc, beta);
    return;
  }
  const int64_t chunk = round_up(ceil_div(N, int64_t(threads) * kTasksPerThread), 8);
  pool->run_tasks(ceil_div(N, chunk), [&](int64_t task) {
    const int64_t j0 = task * chunk;
    const int cols = static_cast<int>(std::min<int64_t>(chunk, N - j0));
    kernel(M, cols, K, A, lda, B + j0 * ldb, ldb, C + j0, ldc, beta);
  });
}
}  // namespace

void gemm_small_m_nt(const KernelSet& kernels, int M, int N, int K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C, int64_t ldc, float beta,
                     ThreadPool* pool) {
  if (M <= kSmallMNTDots || M > kSmallMNT || K <= 0 || !kernels.small_m_nt_packed_a) {
    run_small_m_nt(kernels.small_m_nt, M, N, K, A, lda, B, ldb, C, ldc, beta, pool);
    return;
  }
  // A is packed once here (a few KiB), then every task broadcasts its rows of B against it.
  const int width = M <= 16 ? 16 : 32;
  thread_local std::vector<float> a_packed;
  a_packed.resize(size_t(K) * width);
  kernels.pack_interleaved(A, lda, M, K, width, a_packed.data());
  const float* a = a_packed.data();
  auto kernel = [&](int m, int cols, int k, const float*, int64_t, const float* b, int64_t lb,
                    float* c, int64_t lc, float bt) {
    kernels.small_m_nt_packed_a(m, cols, k, a, width, b, lb, c, lc, bt);
  };
  run_small_m_nt(kernel, M, N, K, A, lda, B, ldb, C, ldc, beta, pool);
}

void gemm_small_m_nt_int8(const KernelSet& kernels, int M, int N, int K, const float* A,
                          int64_t lda, const int8_t* B, int64_t ldb, const float* scales, float* C,
                          int64_t ldc, float beta, ThreadPool* pool) {
  // Per chunk of B's rows (output columns): the kernel's dots, then each column times its row's
  // scale. With beta != 0 the dots go to a scratch block first, so only they are scaled.
  auto scaled = [&](int m, int cols, int k, const float* a, int64_t la, const int8_t* b, int64_t lb,
                    float* c, int64_t lc, float bt) {
    const float* s = scales + (b - B) / ldb;
    if (bt == 0.f) {
      kernels.small_m_nt_int8(m, cols, k, a, la, b, lb, c, lc, 0.f);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < cols; ++j) c[i * lc + j] *= s[j];
      return;
    }
    thread_local std::vector<float> dots;
    dots.resize(size_t(m) * cols);
    kernels.small_m_nt_int8(m, cols, k, a, la, b, lb, dots.data(), cols, 0.f);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < cols; ++j) c[i * lc + j] = bt * c[i * lc + j] + s[j] * dots[size_t(i) * cols + j];
  };
  run_small_m_nt(scaled, M, N, K, A, lda, B, ldb, C, ldc, beta, pool);
}

void gemm_small_m_nt_bf16(const KernelSet& kernels, int M, int N, int K, const float* A,
                          int64_t lda, const uint16_t* B, int64_t ldb, float* C, int64_t ldc,
                          float beta, ThreadPool* pool) {
  run_small_m_nt(kernels.small_m_nt_bf16, M, N, K, A, lda, B, ldb, C, ldc, beta, pool);
}

void gemm_small_m_nn(const KernelSet& kernels, int M, int N, int K, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float* C, int64_t ldc, float beta,
                     ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  const int threads = threads_for(pool, M, N, K);
  if (threads == 1) {
    kernels.small_m_nn(M, N, K, A, lda, B, ldb, C, ldc, beta);
    return;
  }
  // Column chunks in multiples of 64 (the AVX-512 kernel's block), each a full-K product.
  const int64_t chunk = round_up(ceil_div(N, int64_t(threads) * kTasksPerThread), 64);
  pool->run_tasks(ceil_div(N, chunk), [&](int64_t task) {
    const int64_t j0 = task * chunk;
    const int cols = static_cast<int>(std::min<int64_t>(chunk, N - j0));
    kernels.small_m_nn(M, cols, K, A, lda, B + j0, ldb, C + j0, ldc, beta);
  });
}

}  // namespace gemm_detail

using gemm_detail::Operand;

void gemm_nt_bf16w(int M, int N, int K, const float* A, int lda, const uint16_t* B, int ldb,
                   float* C, int ldc, float beta, ThreadPool* pool) {
  gemm_detail::gemm_small_m_nt_bf16(gemm_detail::active_kernels(), M, N, K, A, lda, B, ldb, C, ldc,
                                    beta, pool);
}

void gemm_nt_int8w(int M, int N, int K, const float* A, int lda, const int8_t* B, int ldb,
                   const float* scales, float* C, int ldc, float beta, ThreadPool* pool) {
  gemm_detail::gemm_small_m_nt_int8(gemm_detail::active_kernels(), M, N, K, A, lda, B, ldb, scales, C,
                                    ldc, beta, pool);
}

void quantize_rows_int8(const float* W, int rows, int cols, int ldw, int8_t* Q, int ldq,
                        float* scales, ThreadPool* pool) {
  auto quantize = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* w = W + r * ldw;
      float largest = 0.f;
      for (int k = 0; k < cols; ++k) largest = std::max(largest, std::fabs(w[k]));
      const float scale = largest / 127.f;
      scales[r] = scale;
      int8_t* q = Q + r * ldq;
      if (scale == 0.f) {
        std::memset(q, 0, size_t(cols));
        continue;
      }
      const float inverse = 1.f / scale;
      for (int k = 0; k < cols; ++k)
        q[k] = int8_t(std::clamp(std::nearbyint(w[k] * inverse), -127.f, 127.f));
    }
  };
  if (pool) pool->parallel_for(0, rows, 64, quantize);
  else quantize(0, rows);
}

uint16_t float_to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
  return uint16_t(bits >> 16);
}

float bf16_to_float(uint16_t x) {
  const uint32_t bits = uint32_t(x) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

void floats_to_bf16(const float* src, uint16_t* dst, int64_t n, ThreadPool* pool) {
  auto convert = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dst[i] = float_to_bf16(src[i]);
  };
  if (pool) pool->parallel_for(0, n, 1 << 16, convert);
  else convert(0, n);
}

namespace {
// The bf16 kernels when asked for and present (else float32 runs: the fallback).
const gemm_detail::Bf16KernelSet* bf16_for(MatmulPrecision precision) {
  return precision == MatmulPrecision::Bf16 ? gemm_detail::active_bf16_kernels() : nullptr;
}

void packed(MatmulPrecision precision, int M, int N, int K, Operand A, Operand B, float* C, int ldc,
            float beta, ThreadPool* pool) {
  if (const auto* bf16 = bf16_for(precision))
    gemm_detail::gemm_packed_bf16(*bf16, M, N, K, A, B, C, ldc, beta, pool);
  else
    gemm_detail::gemm_packed(gemm_detail::active_kernels(), M, N, K, A, B, C, ldc, beta, pool);
}
}  // namespace

std::string gemm_description() {
  const auto& k = gemm_detail::active_kernels();
  const auto& b = gemm_detail::gemm_blocking();
  char text[256];
  std::snprintf(text, sizeof text,
                "%s kernels %dx%d, KC %d (bf16 %d), NB %d, MB %d; caches L1d %lld KiB, L2 %lld KiB, "
                "L3 %lld MiB",
                simd_level_name(k.level), k.mr, k.nr, b.kc, b.kc_bf16, b.nb, b.mb,
                static_cast<long long>(b.l1d_bytes >> 10), static_cast<long long>(b.l2_bytes >> 10),
                static_cast<long long>(b.l3_bytes >> 20));
  return text;
}

const char* matmul_kernel_name(MatmulPrecision precision) {
  if (const auto* bf16 = bf16_for(precision)) return bf16_level_name(bf16->level);
  return simd_level_name(gemm_detail::active_kernels().level);
}

void sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool, MatmulPrecision precision) {
  if (M <= gemm_detail::kSmallMNT)
    gemm_detail::gemm_small_m_nt(gemm_detail::active_kernels(), M, N, K, A, lda, B, ldb, C, ldc, beta,
                                 pool);
  else
    packed(precision, M, N, K, Operand{A, lda, false}, Operand{B, ldb, true}, C, ldc, beta, pool);
}

void sgemm_nn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool, MatmulPrecision precision) {
  if (M <= gemm_detail::kSmallMNN)
    return gemm_detail::gemm_small_m_nn(gemm_detail::active_kernels(), M, N, K, A, lda, B, ldb, C, ldc,
                                        beta, pool);
  packed(precision, M, N, K, Operand{A, lda, false}, Operand{B, ldb, false}, C, ldc, beta, pool);
}

void sgemm_tn(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
              int ldc, float beta, ThreadPool* pool, MatmulPrecision precision) {
  packed(precision, M, N, K, Operand{A, lda, true}, Operand{B, ldb, false}, C, ldc, beta, pool);
}

}  // namespace siked
