// Matrix products through cuBLAS opened at run time (dlopen), so the backend compiles and links
// where cuBLAS is absent (CI has nvcc but no cuBLAS) and fails with a clear message only when a
// product is actually asked for.
//
// No cuBLAS header is used: the few types, enum values and signatures below are declared by
// hand and must match the official ABI (cuBLAS Library User Guide, docs.nvidia.com/cuda/cublas:
// section 2.2 "cuBLAS Datatypes Reference" for cublasStatus_t / cublasOperation_t /
// cublasComputeType_t / cublasGemmAlgo_t, section 2.8.12 "cublasGemmEx()", and section 2.4
// "cuBLAS Helper Function Reference" for cublasCreate_v2, cublasSetStream_v2,
// cublasSetWorkspace_v2, cublasGetStatusString). cudaDataType_t comes from the runtime's own
// library_types.h. The values used: CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_COMPUTE_32F = 68,
// CUBLAS_GEMM_DEFAULT = -1, CUBLAS_STATUS_SUCCESS = 0 (unchanged from cuBLAS 11 to 13).
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <library_types.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include "common.cuh"
#include "cuda_api.h"

namespace {

using cublas_handle = void*;
using cublas_status = int;
constexpr int kOpN = 0, kOpT = 1;
constexpr int kComputeF32 = 68;
constexpr int kGemmDefault = -1;
// cuBLAS asks for a user workspace so that graph capture does not allocate (cuBLAS guide,
// "CUDA Graphs Support"); 32 MiB covers Hopper's recommended size.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

struct BlasFunctions {
  cublas_status (*create)(cublas_handle*);
  cublas_status (*destroy)(cublas_handle);
  cublas_status (*set_stream)(cublas_handle, cudaStream_t);
  cublas_status (*set_workspace)(cublas_handle, void*, size_t);
  const char* (*status_string)(cublas_status);
  cublas_status (*gemm_ex)(cublas_handle, int transa, int transb, int m, int n, int k,
                           const void* alpha, const void* a, cudaDataType_t a_type, int lda,
                           const void* b, cudaDataType_t b_type, int ldb, const void* beta,
                           void* c, cudaDataType_t c_type, int ldc, int compute_type, int algo);
};

// Candidate locations in the order tried: the toolkit's sonames (found through the loader path),
// then the PyTorch wheel layout (nvidia-cublas) under SIKED_CUBLAS_PATH.
std::string open_cublas(void** library) {
#ifdef SIKED_CUDA_EMULATE
  // CPU emulation (packages/native-cuda/emulate): the cuBLAS functions are defined in the module
  // holding this code (the addon, or a test executable linked with -rdynamic).
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&open_cublas), &self) && self.dli_fname) {
    *library = dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    if (!*library) *library = dlopen(nullptr, RTLD_NOW);  // an executable is not found by path
    if (*library) return std::string("siked CPU emulator (") + self.dli_fname + ")";
  }
#endif
  std::string tried;
  std::string names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  for (const std::string& name : names) {
    *library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (*library) return name;
    tried += "\n  " + name + ": " + dlerror();
  }
  if (const char* dir = std::getenv("SIKED_CUBLAS_PATH")) {
    for (const char* soname : {"libcublas.so.13", "libcublas.so.12"}) {
      std::string path = std::string(dir) + "/" + soname;
      *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (*library) return path;
      tried += "\n  " + path + ": " + dlerror();
    }
  } else {
    tried += "\n  (SIKED_CUBLAS_PATH not set; set it to a folder holding libcublas.so.13, e.g. "
             "site-packages/nvidia/cu13/lib of PyTorch's nvidia-cublas wheel)";
  }
  *library = nullptr;
  return "cuBLAS not found; tried:" + tried;
}

}  // namespace

struct SikedBlas {
  void* library = nullptr;
  std::string library_path;
  BlasFunctions fn{};
  cublas_handle handle = nullptr;
  void* workspace = nullptr;
};

extern "C" int siked_cuda_blas_create(SikedBlas** out, void* stream) {
  using siked::fail;
  *out = nullptr;
  auto* blas = new SikedBlas();
  std::string opened = open_cublas(&blas->library);
  if (!blas->library) {
    delete blas;
    return fail("%s", opened.c_str());
  }
  blas->library_path = opened;
  struct Symbol {
    const char* name;
    void** slot;
  } symbols[] = {
      {"cublasCreate_v2", reinterpret_cast<void**>(&blas->fn.create)},
      {"cublasDestroy_v2", reinterpret_cast<void**>(&blas->fn.destroy)},
      {"cublasSetStream_v2", reinterpret_cast<void**>(&blas->fn.set_stream)},
      {"cublasSetWorkspace_v2", reinterpret_cast<void**>(&blas->fn.set_workspace)},
      {"cublasGetStatusString", reinterpret_cast<void**>(&blas->fn.status_string)},
      {"cublasGemmEx", reinterpret_cast<void**>(&blas->fn.gemm_ex)},
  };
  for (const Symbol& symbol : symbols) {
    *symbol.slot = dlsym(blas->library, symbol.name);
    if (!*symbol.slot) {
      int rc = fail("%s: symbol %s missing", opened.c_str(), symbol.name);
      dlclose(blas->library);
      delete blas;
      return rc;
    }
  }
  cublas_status status = blas->fn.create(&blas->handle);
  if (status != 0) {
    int rc = fail("cublasCreate failed: %s", blas->fn.status_string(status));
    siked_cuda_blas_destroy(blas);
    return rc;
  }
  if (siked::check_cuda(cudaMalloc(&blas->workspace, kWorkspaceBytes), "cuBLAS workspace")) {
    siked_cuda_blas_destroy(blas);
    return 1;
  }
  status = blas->fn.set_stream(blas->handle, static_cast<cudaStream_t>(stream));
  if (status == 0) status = blas->fn.set_workspace(blas->handle, blas->workspace, kWorkspaceBytes);
  if (status != 0) {
    int rc = fail("cuBLAS stream/workspace setup failed: %s", blas->fn.status_string(status));
    siked_cuda_blas_destroy(blas);
    return rc;
  }
  *out = blas;
  return 0;
}

extern "C" int siked_cuda_blas_set_stream(SikedBlas* blas, void* stream) {
  if (!blas) return siked::fail("siked_cuda_blas_set_stream: no cuBLAS handle");
  const cublas_status status = blas->fn.set_stream(blas->handle, static_cast<cudaStream_t>(stream));
  if (status != 0) return siked::fail("cublasSetStream failed: %s", blas->fn.status_string(status));
  return 0;
}

extern "C" void siked_cuda_blas_destroy(SikedBlas* blas) {
  if (!blas) return;
  if (blas->handle) blas->fn.destroy(blas->handle);
  if (blas->workspace) cudaFree(blas->workspace);
  if (blas->library) dlclose(blas->library);
  delete blas;
}

extern "C" const char* siked_cuda_blas_library(const SikedBlas* blas) {
  return blas ? blas->library_path.c_str() : "";
}

// cuBLAS is column-major. A row-major [r,c] matrix is the column-major [c,r] matrix, its
// transpose; so row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, i.e. the same
// call with A and B swapped (and m, n swapped), the transpose flags kept.
extern "C" int siked_cuda_gemm(SikedBlas* blas, int trans_a, int trans_b, int m, int n, int k,
                               float alpha, const void* a, int lda, const void* b, int ldb,
                               float beta, void* c, int ldc, int c_fp32) {
  using siked::fail;
  if (!blas) return fail("siked_cuda_gemm: no cuBLAS handle (call siked_cuda_blas_create)");
  if (m <= 0 || n <= 0 || k <= 0) return fail("siked_cuda_gemm: bad shape m=%d n=%d k=%d", m, n, k);
  if (lda < (trans_a ? m : k) || ldb < (trans_b ? k : n) || ldc < n)
    return fail("siked_cuda_gemm: leading dimension too small (lda=%d ldb=%d ldc=%d for m=%d n=%d k=%d)",
                lda, ldb, ldc, m, n, k);
  cublas_status status = blas->fn.gemm_ex(
      blas->handle, trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, n, m, k, &alpha, b, CUDA_R_16BF,
      ldb, a, CUDA_R_16BF, lda, &beta, c, c_fp32 ? CUDA_R_32F : CUDA_R_16BF, ldc, kComputeF32,
      kGemmDefault);
  if (status != 0) return fail("cublasGemmEx failed: %s", blas->fn.status_string(status));
  return 0;
}
