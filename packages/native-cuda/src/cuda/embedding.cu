// Token embedding lookup and its backward. The backward is deterministic and atomic-free: a
// block owns a tile of columns and a range of token ids, walks the rows in order and adds each
// row whose token falls in its range. Every output element therefore has exactly one writer,
// and repeated tokens are summed in row order on every run.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kColumnTile = 64;
constexpr int kVocabBuckets = 32;  // vocabulary ranges per column tile (parallelism across blocks)

__global__ void embedding_forward_kernel(bf16* __restrict__ out, const bf16* __restrict__ table,
                                         const int32_t* __restrict__ tokens, int n, int c) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(n) * c) return;
  const int64_t row = i / c, col = i % c;
  out[i] = table[static_cast<int64_t>(tokens[row]) * c + col];
}

__global__ void embedding_backward_kernel(float* __restrict__ dtable, const bf16* __restrict__ dout,
                                          const int32_t* __restrict__ tokens, int n, int c,
                                          int bucket_size) {
  const int col = blockIdx.x * kColumnTile + threadIdx.x;
  const int token_begin = blockIdx.y * bucket_size, token_end = token_begin + bucket_size;
  if (col >= c) return;
  for (int row = 0; row < n; ++row) {
    const int token = tokens[row];
    if (token < token_begin || token >= token_end) continue;
    dtable[static_cast<int64_t>(token) * c + col] += to_float(dout[static_cast<int64_t>(row) * c + col]);
  }
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_embedding_forward(void* out, const void* table, const int32_t* tokens,
                                            int n, int c, void* stream) {
  if (n <= 0 || c <= 0) return fail("embedding_forward: bad shape n=%d c=%d", n, c);
  embedding_forward_kernel<<<blocks_for(static_cast<int64_t>(n) * c, 256), 256, 0,
                             static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(out), static_cast<const bf16*>(table), tokens, n, c);
  return check_launch("embedding_forward");
}

extern "C" int siked_cuda_embedding_backward(float* dtable, const void* dout, const int32_t* tokens,
                                             int n, int c, int vocab, void* stream) {
  if (n <= 0 || c <= 0 || vocab <= 0)
    return fail("embedding_backward: bad shape n=%d c=%d vocab=%d", n, c, vocab);
  const int bucket_size = (vocab + kVocabBuckets - 1) / kVocabBuckets;
  embedding_backward_kernel<<<dim3(blocks_for(c, kColumnTile), kVocabBuckets), kColumnTile, 0,
                              static_cast<cudaStream_t>(stream)>>>(
      dtable, static_cast<const bf16*>(dout), tokens, n, c, bucket_size);
  return check_launch("embedding_backward");
}
