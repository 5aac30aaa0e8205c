// The CUDA backend of the engine's Model (src/cuda/cuda_model.cu): the same parameter table,
// initialisation and HF/PEFT names as the CPU engine, bf16 compute with fp32 master weights,
// gradients and AdamW moments on the device. Declared here without CUDA headers so the binding
// compiles the same way with or without the backend.
#pragma once

#include <memory>

#include "model_backend.h"

namespace siked {

// Builds a model on CUDA device 0. random_init as the CPU engine (same seed, same weights).
// Throws std::runtime_error naming the cause when there is no usable device, cuBLAS cannot be
// opened, the shape is not supported by the kernels (head_dim other than 64/128, more than 16
// query heads per KV head), or the device runs out of memory.
std::unique_ptr<ModelBackend> make_cuda_model(const LlamaConfig& config, uint64_t seed, bool random_init);

}  // namespace siked
