// Node-API entry point: registers every exported function of the engine.
#include <napi.h>

#include "cpu_features.h"
#include "gemm.h"
#include "model_binding.h"
#ifdef SIKED_WITH_CUDA
#include "cuda_api.h"
#endif

namespace {

// What this build of the addon contains and what the machine offers it.
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("napiVersion", NAPI_VERSION);
  out.Set("simd", siked::simd_level_name(siked::detect_simd_level()));
  out.Set("bf16", siked::bf16_level_name(siked::detect_bf16_level()));
  out.Set("bf16Matmul", siked::matmul_kernel_name(siked::MatmulPrecision::Bf16));
  out.Set("gemm", siked::gemm_description());
  Napi::Object cuda = Napi::Object::New(env);
#ifdef SIKED_WITH_CUDA
  cuda.Set("compiled", true);
  char error[256] = {0};
  int count = siked_cuda_device_count(error, sizeof error);
  cuda.Set("deviceCount", count < 0 ? 0 : count);
  cuda.Set("error", count < 0 ? Napi::Value(Napi::String::New(env, error)) : env.Null());
  Napi::Array devices = Napi::Array::New(env);
  for (int i = 0; i < count; ++i) {
    char name[256];
    int major = 0, minor = 0;
    if (siked_cuda_device_name(i, name, sizeof name, &major, &minor) == 0) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("name", name);
      d.Set("computeCapability", std::to_string(major) + "." + std::to_string(minor));
      devices.Set(devices.Length(), d);
    }
  }
  cuda.Set("devices", devices);
#else
  cuda.Set("compiled", false);
  cuda.Set("deviceCount", 0);
  cuda.Set("error", "built without the CUDA backend (nvcc was not found at build time)");
  cuda.Set("devices", Napi::Array::New(env));
#endif
  out.Set("cuda", cuda);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  siked::RegisterNativeModel(env, exports);
  siked::RegisterProbes(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(siked_native, Init)
