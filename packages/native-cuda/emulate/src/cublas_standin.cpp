// The six cuBLAS functions blas.cu looks up (dlsym), implemented on the CPU with cuBLAS's
// semantics: column-major, host-pointer alpha/beta as float (CUBLAS_COMPUTE_32F), A and B bf16
// or fp32, C bf16 or fp32, and C not read when beta is 0. Exported so that blas.cu's dlsym on
// this module finds them (blas.cu opens the module it lives in under SIKED_CUDA_EMULATE).
// Status and enum values: cuBLAS Library User Guide, "cuBLAS Datatypes Reference".
#include <cstddef>

#include "capture.h"
#include "cpu_gemm.h"
#include "library_types.h"

namespace {

enum Status {
  kSuccess = 0,
  kNotInitialized = 1,
  kAllocFailed = 3,
  kInvalidValue = 7,
  kArchMismatch = 8,
  kMappingError = 11,
  kExecutionFailed = 13,
  kInternalError = 14,
  kNotSupported = 15,
  kLicenseError = 16,
};
constexpr int kOpN = 0, kOpT = 1, kOpC = 2;
constexpr int kComputeF32 = 68;
constexpr int kLegacyComputeF32 = 0;  // CUDA_R_32F, accepted as a compute type before CUDA 11

struct Handle {
  cudaStream_t stream = nullptr;
};

bool element_of(cudaDataType_t type, siked_emu::Element* element) {
  if (type == CUDA_R_16BF) *element = siked_emu::Element::Bf16;
  else if (type == CUDA_R_32F) *element = siked_emu::Element::F32;
  else return false;
  return true;
}

}  // namespace

#define SIKED_EMU_EXPORT extern "C" __attribute__((visibility("default")))

SIKED_EMU_EXPORT int cublasCreate_v2(void** handle) {
  if (!handle) return kInvalidValue;
  *handle = new Handle();
  return kSuccess;
}

SIKED_EMU_EXPORT int cublasDestroy_v2(void* handle) {
  if (!handle) return kNotInitialized;
  delete static_cast<Handle*>(handle);
  return kSuccess;
}

SIKED_EMU_EXPORT int cublasSetStream_v2(void* handle, cudaStream_t stream) {
  if (!handle) return kNotInitialized;
  static_cast<Handle*>(handle)->stream = stream;
  return kSuccess;
}

SIKED_EMU_EXPORT int cublasSetWorkspace_v2(void* handle, void*, size_t) {
  return handle ? kSuccess : kNotInitialized;
}

SIKED_EMU_EXPORT const char* cublasGetStatusString(int status) {
  switch (status) {
    case kSuccess: return "CUBLAS_STATUS_SUCCESS";
    case kNotInitialized: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case kAllocFailed: return "CUBLAS_STATUS_ALLOC_FAILED";
    case kInvalidValue: return "CUBLAS_STATUS_INVALID_VALUE";
    case kArchMismatch: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case kMappingError: return "CUBLAS_STATUS_MAPPING_ERROR";
    case kExecutionFailed: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case kInternalError: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case kNotSupported: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case kLicenseError: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

SIKED_EMU_EXPORT int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                                  const void* a, cudaDataType_t a_type, int lda, const void* b,
                                  cudaDataType_t b_type, int ldb, const void* beta, void* c,
                                  cudaDataType_t c_type, int ldc, int compute_type, int /*algo*/) {
  using namespace siked_emu;
  if (!handle) return kNotInitialized;
  const auto op_ok = [](int op) { return op == kOpN || op == kOpT || op == kOpC; };
  if (!op_ok(transa) || !op_ok(transb) || m < 0 || n < 0 || k < 0 || !alpha || !beta) return kInvalidValue;
  const bool ta = transa != kOpN, tb = transb != kOpN;  // C (conjugate) is T for real types
  const auto at_least = [](int ld, int rows) { return ld >= (rows > 1 ? rows : 1); };
  if (!at_least(lda, ta ? k : m) || !at_least(ldb, tb ? n : k) || !at_least(ldc, m)) return kInvalidValue;
  GemmArgs args{};
  if (!element_of(a_type, &args.a_type) || !element_of(b_type, &args.b_type) || !element_of(c_type, &args.c_type))
    return kNotSupported;
  if (compute_type != kComputeF32 && compute_type != kLegacyComputeF32) return kNotSupported;
  if (m == 0 || n == 0) return kSuccess;
  args.trans_a = ta;
  args.trans_b = tb;
  args.m = m;
  args.n = n;
  args.k = k;
  args.alpha = *static_cast<const float*>(alpha);  // host pointer mode: read at the call
  args.beta = *static_cast<const float*>(beta);
  args.a = a;
  args.lda = lda;
  args.b = b;
  args.ldb = ldb;
  args.c = c;
  args.ldc = ldc;
  const cudaStream_t stream = static_cast<Handle*>(handle)->stream;
  if (capturing(stream)) {
    record_operation(stream, [args] { cpu_gemm(args); });
    return kSuccess;
  }
  cpu_gemm(args);
  return kSuccess;
}
