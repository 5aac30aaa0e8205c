// Rotary position embedding, Hugging Face "rotate_half" convention: for i < d/2 the pair
// (x[i], x[i + d/2]) is rotated by angle position * theta^(-2i/d). In place, fp32 arithmetic.
// The backward is the inverse rotation (a rotation's transpose), so one kernel serves both.
#include "common.cuh"
#include "cuda_api.h"

namespace siked {
namespace {

__global__ void rope_kernel(bf16* x, const int32_t* __restrict__ positions, int tokens, int heads,
                            int d, float theta, float direction) {
  const int half = d / 2;
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t total = static_cast<int64_t>(tokens) * heads * half;
  if (pair >= total) return;
  const int i = static_cast<int>(pair % half);
  const int64_t token_head = pair / half;
  const int token = static_cast<int>(token_head / heads);
  // Same order of operations as HF: inv_freq in fp32, then position * inv_freq in fp32.
  const float inv_freq = 1.f / powf(theta, static_cast<float>(2 * i) / static_cast<float>(d));
  float sin_angle, cos_angle;
  sincosf(static_cast<float>(positions[token]) * inv_freq, &sin_angle, &cos_angle);
  sin_angle *= direction;
  bf16* head = x + token_head * d;
  const float a = to_float(head[i]), b = to_float(head[i + half]);
  head[i] = to_bf16(a * cos_angle - b * sin_angle);
  head[i + half] = to_bf16(b * cos_angle + a * sin_angle);
}

}  // namespace
}  // namespace siked

using namespace siked;

extern "C" int siked_cuda_rope(void* x, const int32_t* positions, int tokens, int heads, int d,
                               float theta, int inverse, void* stream) {
  if (tokens <= 0 || heads <= 0 || d <= 0 || d % 2)
    return fail("rope: bad shape tokens=%d heads=%d d=%d (d must be even)", tokens, heads, d);
  const int64_t pairs = static_cast<int64_t>(tokens) * heads * (d / 2);
  rope_kernel<<<blocks_for(pairs, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<bf16*>(x), positions, tokens, heads, d, theta, inverse ? -1.f : 1.f);
  return check_launch("rope");
}
