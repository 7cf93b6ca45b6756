#include "ember/runtime/Cublas.h"

#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <atomic>
#include <dlfcn.h>
#include <mutex>
#include <string>
#ifdef EMBER_HAVE_CUDA_HEADERS
#include <cublas_api.h>
#endif

namespace ember::cuda {
namespace {

std::atomic<bool> g_allow_tf32{false};

#ifdef EMBER_HAVE_CUDA_HEADERS
struct Cublas {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasSetStream_v2) setStream = nullptr;
  using GemmFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                   int, const void*, const void*, cudaDataType, int, long long,
                                   const void*, cudaDataType, int, long long, const void*, void*,
                                   cudaDataType, int, long long, int, cublasComputeType_t,
                                   cublasGemmAlgo_t);
  GemmFn gemm = nullptr;
  std::string reason;
};

const Cublas& cublas() {
  static Cublas lib;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = nullptr;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
                             "/usr/local/cuda/lib64/libcublas.so.13",
                             "/usr/local/cuda/lib64/libcublas.so"})
      if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!h) {
      lib.reason = "cuBLAS (libcublas.so) could not be loaded; install the CUDA toolkit's cuBLAS";
      return;
    }
    lib.create = reinterpret_cast<decltype(lib.create)>(dlsym(h, "cublasCreate_v2"));
    lib.gemm = reinterpret_cast<decltype(lib.gemm)>(dlsym(h, "cublasGemmStridedBatchedEx"));
    lib.setStream = reinterpret_cast<decltype(lib.setStream)>(dlsym(h, "cublasSetStream_v2"));
    if (!lib.create || !lib.gemm || !lib.setStream)
      lib.reason = "cuBLAS lacks cublasGemmStridedBatchedEx or cublasSetStream";
  });
  return lib;
}

cublasHandle_t handle(int device) {
  static std::mutex mu;
  static cublasHandle_t handles[64] = {};
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device]) {
    cublasStatus_t s = cublas().create(&handles[device]);
    EMBER_CHECK(s == CUBLAS_STATUS_SUCCESS, Runtime, "cuda.cublas", "cublasCreate failed (status ",
                int(s), ")");
  }
  return handles[device];
}
#endif

} // namespace

void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

void gemm(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const void* a,
          int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb, void* c, int64_t ldc,
          int64_t sc, int64_t batch) {
#ifdef EMBER_HAVE_CUDA_HEADERS
  const Cublas& lib = cublas();
  EMBER_CHECK(lib.reason.empty(), Runtime, "cuda.matmul", lib.reason);
  const int device = current_device();
  set_device(device);
  cudaDataType type;
  cublasComputeType_t compute;
  switch (dtype) {
  case DType::Float32: type = CUDA_R_32F;
    compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; break;
  case DType::Float64: type = CUDA_R_64F; compute = CUBLAS_COMPUTE_64F; break;
  case DType::Float16: type = CUDA_R_16F; compute = CUBLAS_COMPUTE_32F; break;
  case DType::BFloat16: type = CUDA_R_16BF; compute = CUBLAS_COMPUTE_32F; break;
  default:
    fail(ErrorKind::NotImplemented, "ember.matmul", "matmul on CUDA supports float32, float64, "
         "float16 and bfloat16, not ", dtype_name(dtype), " (as PyTorch); convert with .float()");
  }
  const int64_t limit = INT32_MAX;
  EMBER_CHECK(m <= limit && n <= limit && k <= limit && batch <= limit, Value, "ember.matmul",
              "matrix sizes (", m, ", ", n, ", ", k, ") exceed cuBLAS's 32-bit limits");
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const void* alpha = dtype == DType::Float64 ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = dtype == DType::Float64 ? static_cast<const void*>(&zero_d) : &zero_f;
  // On the thread's current stream, like ember's kernels.
  cublasHandle_t h = handle(device);
  lib.setStream(h, reinterpret_cast<cudaStream_t>(current_stream()));
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  cublasStatus_t s = lib.gemm(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k), alpha,
                              b, type, int(ldb), sb, a, type, int(lda), sa, beta, c, type, int(ldc),
                              sc, int(batch), compute, CUBLAS_GEMM_DEFAULT);
  EMBER_CHECK(s == CUBLAS_STATUS_SUCCESS, Runtime, "ember.matmul", "cublasGemmStridedBatchedEx "
              "failed (status ", int(s), ") for m=", m, " n=", n, " k=", k, " batch=", batch);
#else
  (void)dtype, (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)lda,
      (void)sa, (void)b, (void)ldb, (void)sb, (void)c, (void)ldc, (void)sc, (void)batch;
  require("ember.matmul");
#endif
}

} // namespace ember::cuda
