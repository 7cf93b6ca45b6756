// Functions JIT-compiled code calls: ember's CPU kernels behind MLIR's C interface for memrefs.
#include "ember/compiler/JitRuntime.h"

#include "ember/kernels/Elementwise.h"

#include <cstdint>

namespace {

template <int N>
struct MemRef {
  float* allocated;
  float* aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};

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

} // namespace

namespace ember::compiler {

std::vector<std::pair<const char*, void*>> cpuRuntimeSymbols() {
  return {{"_mlir_ciface_ember_cpu_matmul_acc_f32",
           reinterpret_cast<void*>(&_mlir_ciface_ember_cpu_matmul_acc_f32)}};
}

} // namespace ember::compiler
