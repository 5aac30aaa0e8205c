// Node-API registration of the engine: class `NativeModel` wrapping LlamaModel (its TS shape is
// src/native-model.ts) and the benchmark probes.
#pragma once

#include <napi.h>

namespace siked {
void RegisterNativeModel(Napi::Env env, Napi::Object exports);
// Measurement helpers for the benchmark (probe_binding.cpp).
void RegisterProbes(Napi::Env env, Napi::Object exports);
}
