// Functions JIT-compiled code calls: ember's CPU kernels behind MLIR's C interface for memrefs.
#include "ember/compiler/JitRuntime.h"

#include "ember/compiler/RuntimeABI.h"

#include "ember/kernels/Elementwise.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

using ember::compiler::abi::MemRef;

// MLIR's unranked memref (memrefCopy's arguments).
struct UnrankedMemRef {
  int64_t rank;
  void* descriptor; // {T* allocated, T* aligned, int64 offset, int64 sizes[rank], int64 strides[rank]}
};

} // namespace

// External linkage: ahead-of-time libraries (ember-compile) link these by name.
extern "C" void _mlir_ciface_ember_cpu_matmul_acc_f32(MemRef<2>* a, MemRef<2>* b, MemRef<2>* c) {
  const int64_t m = a->sizes[0], k = a->sizes[1], n = b->sizes[1];
  const float* pa = a->aligned + a->offset;
  const float* pb = b->aligned + b->offset;
  float* pc = c->aligned + c->offset;
  const bool rowMajor = a->strides[1] == 1 && a->strides[0] == k && b->strides[1] == 1 &&
                        b->strides[0] == n && c->strides[1] == 1 && c->strides[0] == n;
  if (rowMajor) return ember::kernels::matmul_acc_f32(pa, pb, pc, m, k, n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const float av = pa[i * a->strides[0] + p * a->strides[1]];
      for (int64_t j = 0; j < n; ++j)
        pc[i * c->strides[0] + j * c->strides[1]] += av * pb[p * b->strides[0] + j * b->strides[1]];
    }
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
  ember::parallel_for(end - begin, grain,
                      [&](int64_t b, int64_t e) { fn(ctx, begin + b, begin + e); });
}

namespace ember::compiler {

std::vector<std::pair<const char*, void*>> cpuRuntimeSymbols() {
  return {{"_mlir_ciface_ember_cpu_matmul_acc_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_matmul_acc_f32)},
          {"_mlir_ciface_ember_cpu_im2col_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_im2col_f32)},
          {"_mlir_ciface_ember_cpu_col2im_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_col2im_f32)},
          {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void*>(&_mlir_memref_to_llvm_alloc)},
          {"_mlir_memref_to_llvm_aligned_alloc",
           reinterpret_cast<void*>(&_mlir_memref_to_llvm_aligned_alloc)},
          {"_mlir_memref_to_llvm_free", reinterpret_cast<void*>(&_mlir_memref_to_llvm_free)},
          {"memrefCopy", reinterpret_cast<void*>(&memrefCopy)},
          {"ember_parallel_for", reinterpret_cast<void*>(&ember_parallel_for)}};
}

} // namespace ember::compiler
