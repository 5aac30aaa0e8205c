// Fused RMSNorm: y = x / sqrt(mean(x^2) + eps) * w. One warp per row; fp32 arithmetic on bf16
// storage. The weight gradient is reduced in two deterministic stages (no atomics), so the same
// batch always gives bit-identical gradients.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

constexpr int kRowsPerBlock = 8;  // one warp each
constexpr int kWeightTileCols = 32;
constexpr int kWeightTileRows = 8;
constexpr int kRowsPerSplit = 256;
constexpr int kMaxSplits = 64;

int weight_splits(int rows) {
  int splits = (rows + kRowsPerSplit - 1) / kRowsPerSplit;
  return splits < 1 ? 1 : (splits > kMaxSplits ? kMaxSplits : splits);
}

__global__ void rmsnorm_forward_kernel(bf16* __restrict__ out, float* __restrict__ rstd,
                                       const bf16* __restrict__ x, const bf16* __restrict__ weight,
                                       int rows, int c, float eps) {
  const int row = blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const bf16* xr = x + static_cast<int64_t>(row) * c;
  float sum_sq = 0.f;
  for (int i = lane; i < c; i += 32) {
    float value = to_float(xr[i]);
    sum_sq += value * value;
  }
  const float r = rsqrtf(warp_sum(sum_sq) / c + eps);
  bf16* orow = out + static_cast<int64_t>(row) * c;
  // HF LlamaRMSNorm rounds the normalised input to the activation dtype before the weight
  // multiply; we keep it in fp32 (one rounding instead of two), which the parity bounds allow.
  for (int i = lane; i < c; i += 32) orow[i] = to_bf16(to_float(xr[i]) * r * to_float(weight[i]));
  if (lane == 0) rstd[row] = r;
}

__global__ void rmsnorm_backward_input_kernel(bf16* dx, const bf16* __restrict__ dout,
                                              const bf16* residual_grad, const bf16* __restrict__ x,
                                              const bf16* __restrict__ weight,
                                              const float* __restrict__ rstd, int rows, int c) {
  const int row = blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const int64_t base = static_cast<int64_t>(row) * c;
  const float r = rstd[row];
  float dot = 0.f;  // sum_j w_j dy_j x_j
  for (int i = lane; i < c; i += 32)
    dot += to_float(weight[i]) * to_float(dout[base + i]) * to_float(x[base + i]);
  dot = warp_sum(dot);
  const float coeff = r * r * r * dot / c;
  for (int i = lane; i < c; i += 32) {
    float g = r * to_float(weight[i]) * to_float(dout[base + i]) - coeff * to_float(x[base + i]);
    if (residual_grad) g += to_float(residual_grad[base + i]);
    dx[base + i] = to_bf16(g);
  }
}

// partial[split, col] = sum over the split's rows of dy * x * rstd.
__global__ void rmsnorm_weight_partial_kernel(float* __restrict__ partial,
                                              const bf16* __restrict__ dout,
                                              const bf16* __restrict__ x,
                                              const float* __restrict__ rstd, int rows, int c,
                                              int rows_per_split) {
  __shared__ float tile[kWeightTileRows][kWeightTileCols + 1];
  const int col = blockIdx.x * kWeightTileCols + threadIdx.x;
  const int split = blockIdx.y;
  const int row_begin = split * rows_per_split;
  const int row_end = min(rows, row_begin + rows_per_split);
  float sum = 0.f;
  if (col < c)
    for (int row = row_begin + threadIdx.y; row < row_end; row += kWeightTileRows) {
      const int64_t i = static_cast<int64_t>(row) * c + col;
      sum += to_float(dout[i]) * to_float(x[i]) * rstd[row];
    }
  tile[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < c) {
    float total = 0.f;
    for (int j = 0; j < kWeightTileRows; ++j) total += tile[j][threadIdx.x];
    partial[static_cast<int64_t>(split) * c + col] = total;
  }
}

__global__ void rmsnorm_weight_reduce_kernel(float* __restrict__ dweight,
                                             const float* __restrict__ partial, int splits, int c) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= c) return;
  float total = 0.f;
  for (int s = 0; s < splits; ++s) total += partial[static_cast<int64_t>(s) * c + col];
  dweight[col] += total;
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int64_t siked_cuda_rmsnorm_partial_floats(int rows, int c) {
  return static_cast<int64_t>(weight_splits(rows)) * c;
}

extern "C" int siked_cuda_rmsnorm_forward(void* out, float* rstd, const void* x, const void* weight,
                                          int rows, int c, float eps, void* stream) {
  if (rows <= 0 || c <= 0) return fail("rmsnorm_forward: bad shape rows=%d c=%d", rows, c);
  rmsnorm_forward_kernel<<<blocks_for(rows, kRowsPerBlock), kRowsPerBlock * 32, 0,
                           static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(out), rstd, static_cast<const bf16*>(x), static_cast<const bf16*>(weight),
      rows, c, eps);
  return check_launch("rmsnorm_forward");
}

extern "C" int siked_cuda_rmsnorm_backward(void* dx, float* dweight, float* partial,
                                           const void* dout, const void* residual_grad,
                                           const void* x, const void* weight, const float* rstd,
                                           int rows, int c, void* stream) {
  if (rows <= 0 || c <= 0) return fail("rmsnorm_backward: bad shape rows=%d c=%d", rows, c);
  auto s = static_cast<cudaStream_t>(stream);
  const auto* dy = static_cast<const bf16*>(dout);
  const auto* xs = static_cast<const bf16*>(x);
  // The weight gradient reads x before dx overwrites anything: dx may alias residual_grad only.
  const int splits = weight_splits(rows);
  const int rows_per_split = (rows + splits - 1) / splits;
  if (dweight) {  // null: the weight is frozen (LoRA), only dx is wanted
    rmsnorm_weight_partial_kernel<<<dim3(blocks_for(c, kWeightTileCols), splits),
                                    dim3(kWeightTileCols, kWeightTileRows), 0, s>>>(
        partial, dy, xs, rstd, rows, c, rows_per_split);
    if (check_launch("rmsnorm_backward (weight partial)")) return 1;
    rmsnorm_weight_reduce_kernel<<<blocks_for(c, 256), 256, 0, s>>>(dweight, partial, splits, c);
    if (check_launch("rmsnorm_backward (weight reduce)")) return 1;
  }
  rmsnorm_backward_input_kernel<<<blocks_for(rows, kRowsPerBlock), kRowsPerBlock * 32, 0, s>>>(
      static_cast<bf16*>(dx), dy, static_cast<const bf16*>(residual_grad), xs,
      static_cast<const bf16*>(weight), rstd, rows, c);
  return check_launch("rmsnorm_backward (input)");
}
