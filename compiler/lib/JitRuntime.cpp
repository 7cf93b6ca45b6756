// Functions JIT-compiled code calls: ember's CPU kernels behind MLIR's C interface for memrefs.
#include "ember/compiler/JitRuntime.h"

#include "ember/compiler/RuntimeABI.h"

#include "ember/kernels/Elementwise.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

using ember::compiler::abi::MemRef;

// The run status of the compiled call this thread is executing (RunStatusScope).
thread_local ember::compiler::RunStatus* currentStatus = nullptr;
ember::compiler::RunStatus processStatus;

// MLIR's unranked memref (memrefCopy's arguments).
struct UnrankedMemRef {
  int64_t rank;
  void* descriptor; // {T* allocated, T* aligned, int64 offset, int64 sizes[rank], int64 strides[rank]}
};

} // namespace

namespace {

// c[m,n] += a[m,k] @ b[k,n] (or c = a @ b: `overwrite`) for one slice, each operand given by
// its pointer and strides. ember's GEMM kernel reads A by any strides and B row-major or
// transposed (B^T row-major); it writes a row-major C. Other layouts take a plain loop.
void gemm(bool overwrite, const float* a, const int64_t* as, const float* b, const int64_t* bs,
          float* c, const int64_t* cs, int64_t m, int64_t k, int64_t n) {
  if (m == 0 || n == 0) return;
  // (The stride of a size-1 dimension never matters.)
  const bool cRowMajor = (cs[1] == 1 || n == 1) && (cs[0] == n || m == 1);
  const auto kernel = overwrite ? ember::kernels::matmul_f32_strided
                                : ember::kernels::matmul_acc_f32_strided;
  if (k > 0 && cRowMajor && (bs[1] == 1 || n == 1))
    return kernel(a, as[0], as[1], b, false, bs[0], c, m, k, n);
  if (k > 0 && cRowMajor && (bs[0] == 1 || k == 1))
    return kernel(a, as[0], as[1], b, true, bs[1], c, m, k, n);
  if (overwrite)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * cs[0] + j * cs[1]] = 0.0f;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[i * as[0] + p * as[1]];
      for (int64_t j = 0; j < n; ++j) c[i * cs[0] + j * cs[1]] += av * b[p * bs[0] + j * bs[1]];
    }
}

} // namespace

namespace {
void gemm2d(bool overwrite, MemRef<2>* a, MemRef<2>* b, MemRef<2>* c) {
  gemm(overwrite, a->aligned + a->offset, a->strides, b->aligned + b->offset, b->strides,
       c->aligned + c->offset, c->strides, a->sizes[0], a->sizes[1], b->sizes[1]);
}
// One GEMM per batch entry (each is threaded inside).
void gemm3d(bool overwrite, MemRef<3>* a, MemRef<3>* b, MemRef<3>* c) {
  const int64_t batch = a->sizes[0], m = a->sizes[1], k = a->sizes[2], n = b->sizes[2];
  for (int64_t i = 0; i < batch; ++i)
    gemm(overwrite, a->aligned + a->offset + i * a->strides[0], a->strides + 1,
         b->aligned + b->offset + i * b->strides[0], b->strides + 1,
         c->aligned + c->offset + i * c->strides[0], c->strides + 1, m, k, n);
}
} // namespace

// External linkage: ahead-of-time libraries (ember-compile) link these by name.
// linalg.matmul (C += A @ B) on f32 memrefs of any strided layout.
extern "C" void _mlir_ciface_ember_cpu_matmul_acc_f32(MemRef<2>* a, MemRef<2>* b, MemRef<2>* c) {
  gemm2d(false, a, b, c);
}
// C = A @ B: a matmul into a buffer that was zero-filled just for it (the fill is dropped).
extern "C" void _mlir_ciface_ember_cpu_matmul_f32(MemRef<2>* a, MemRef<2>* b, MemRef<2>* c) {
  gemm2d(true, a, b, c);
}

// linalg.batch_matmul (C[i] += A[i] @ B[i]) on f32 memrefs of any strided layout.
extern "C" void _mlir_ciface_ember_cpu_batch_matmul_acc_f32(MemRef<3>* a, MemRef<3>* b,
                                                            MemRef<3>* c) {
  gemm3d(false, a, b, c);
}
extern "C" void _mlir_ciface_ember_cpu_batch_matmul_f32(MemRef<3>* a, MemRef<3>* b, MemRef<3>* c) {
  gemm3d(true, a, b, c);
}

// MLIR's strided memref copy (lowered memref.copy of non-contiguous memrefs calls it).
extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef* src, UnrankedMemRef* dst) {
  const int64_t rank = src->rank;
  auto fields = [](UnrankedMemRef* m) { return reinterpret_cast<int64_t*>(m->descriptor); };
  int64_t* s = fields(src);
  int64_t* d = fields(dst);
  char* sp = reinterpret_cast<char*>(s[1]) + s[2] * elemSize;
  char* dp = reinterpret_cast<char*>(d[1]) + d[2] * elemSize;
  const int64_t* sizes = s + 3;
  const int64_t* sstr = s + 3 + rank;
  const int64_t* dstr = d + 3 + rank;
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i) total *= sizes[i];
  if (total == 0) return;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t so = 0, doff = 0;
    for (int64_t i = 0; i < rank; ++i) {
      so += idx[i] * sstr[i];
      doff += idx[i] * dstr[i];
    }
    std::memcpy(dp + doff * elemSize, sp + so * elemSize, elemSize);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < sizes[i]) break;
      idx[i] = 0;
    }
  }
}

// Runs fn(ctx, b, e) over chunks of [begin, end) on ember's thread pool (the loops that
// ember-outline-parallel-loops outlined). `work` is the element count of one iteration.
extern "C" void ember_parallel_for(void (*fn)(void*, int64_t, int64_t), void* ctx, int64_t begin,
                                   int64_t end, int64_t work) {
  constexpr int64_t kMinChunkWork = 16384;
  const int64_t grain = std::max<int64_t>(1, kMinChunkWork / std::max<int64_t>(1, work));
  ember::compiler::RunStatus* status = currentStatus;
  ember::parallel_for(end - begin, grain, [&](int64_t b, int64_t e) {
    ember::compiler::RunStatus* saved = currentStatus;
    currentStatus = status; // the caller's status on the pool's threads too
    fn(ctx, begin + b, begin + e);
    currentStatus = saved;
  });
}

// The thread count of the pool that compiled code (and an AOT library's GEMM and outlined
// loops) runs on: NAME_set_num_threads / NAME_get_num_threads of ember-compile's C API.
extern "C" void ember_aot_set_num_threads(int n) { ember::set_num_threads(n); }
extern "C" int ember_aot_get_num_threads(void) { return ember::get_num_threads(); }

extern "C" void ember_index_error(int64_t op, int64_t index, int64_t dim, int64_t size) {
  ember::compiler::RunStatus* s = currentStatus ? currentStatus : &processStatus;
  bool expected = false;
  if (!s->failed.compare_exchange_strong(expected, true)) return; // keep the first
  s->op = op;
  s->index = index;
  s->dim = dim;
  s->size = size;
}

namespace {
struct CStatus {
  ember::compiler::RunStatus status;
  ember::compiler::RunStatus* previous;
};
} // namespace

extern "C" void* ember_run_status_begin(void) {
  auto* s = new (std::nothrow) CStatus{};
  if (!s) return nullptr;
  s->previous = currentStatus;
  currentStatus = &s->status;
  return s;
}

extern "C" int ember_run_status_end(void* status, char* msg, std::size_t n) {
  if (!status) return 0;
  auto* s = static_cast<CStatus*>(status);
  currentStatus = s->previous;
  const bool failed = s->status.failed.load();
  if (msg && n) {
    const std::string text = s->status.message();
    std::snprintf(msg, n, "%s", text.c_str());
  }
  delete s;
  return failed ? 1 : 0;
}

namespace ember::compiler {

std::string RunStatus::message() const {
  if (!failed.load()) return "";
  static const char* const names[] = {"index_select", "index_add", "gather", "scatter",
                                      "scatter_add"};
  const char* name = op >= 0 && op < 5 ? names[op] : "indexing";
  return "ember." + std::string(name) + ": index " + std::to_string(index) +
         " is out of bounds for dimension " + std::to_string(dim) + " with size " +
         std::to_string(size) + " (in compiled code)";
}

RunStatusScope::RunStatusScope(RunStatus& status) : previous_(currentStatus) {
  currentStatus = &status;
}
RunStatusScope::~RunStatusScope() { currentStatus = previous_; }

std::vector<std::pair<const char*, void*>> cpuRuntimeSymbols() {
  return {{"_mlir_ciface_ember_cpu_matmul_acc_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_matmul_acc_f32)},
          {"_mlir_ciface_ember_cpu_batch_matmul_acc_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_batch_matmul_acc_f32)},
          {"_mlir_ciface_ember_cpu_matmul_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_matmul_f32)},
          {"_mlir_ciface_ember_cpu_batch_matmul_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_batch_matmul_f32)},
          {"_mlir_ciface_ember_cpu_im2col_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_im2col_f32)},
          {"_mlir_ciface_ember_cpu_col2im_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_col2im_f32)},
          {"_mlir_ciface_ember_cpu_conv2d_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_conv2d_f32)},
          {"_mlir_ciface_ember_cpu_conv2d_weight_grad_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_conv2d_weight_grad_f32)},
          {"_mlir_ciface_ember_cpu_conv2d_input_grad_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_conv2d_input_grad_f32)},
          {"_mlir_ciface_ember_cpu_max_pool2d_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_max_pool2d_f32)},
          {"_mlir_ciface_ember_cpu_max_pool2d_grad_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_max_pool2d_grad_f32)},
          {"_mlir_ciface_ember_cpu_argsort_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_argsort_f32)},
          {"_mlir_ciface_ember_cpu_argsort_i64",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_argsort_i64)},
          {"_mlir_ciface_ember_cpu_argsort_i32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_argsort_i32)},
          {"_mlir_ciface_ember_cpu_argsort_i1",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_argsort_i1)},
          {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void*>(&_mlir_memref_to_llvm_alloc)},
          {"_mlir_memref_to_llvm_aligned_alloc",
           reinterpret_cast<void*>(&_mlir_memref_to_llvm_aligned_alloc)},
          {"_mlir_memref_to_llvm_free", reinterpret_cast<void*>(&_mlir_memref_to_llvm_free)},
          {"memrefCopy", reinterpret_cast<void*>(&memrefCopy)},
          {"ember_parallel_for", reinterpret_cast<void*>(&ember_parallel_for)},
          {"ember_index_error", reinterpret_cast<void*>(&ember_index_error)}};
}

} // namespace ember::compiler
