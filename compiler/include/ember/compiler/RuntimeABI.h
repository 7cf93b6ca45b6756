// MLIR's C interface for memrefs, as JIT-compiled and ahead-of-time code passes them to ember's
// runtime entry points (JitRuntime.cpp, WindowRuntime.cpp). Internal to ember_aot_runtime.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ember::compiler::abi {

template <int N>
struct MemRef {
  float* allocated;
  float* aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};

} // namespace ember::compiler::abi

// Sliding-window kernels (kernels/cpu/Conv.cpp) behind the C interface; the window geometry is
// kh, kw, sh, sw, pad top, pad left, dh, dw, oh, ow (WindowRuntime.cpp).
extern "C" void _mlir_ciface_ember_cpu_im2col_f32(ember::compiler::abi::MemRef<4>* image,
                                                  ember::compiler::abi::MemRef<2>* cols, int64_t kh,
                                                  int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                                  int64_t pl, int64_t dh, int64_t dw, int64_t oh,
                                                  int64_t ow, float fill);
extern "C" void _mlir_ciface_ember_cpu_col2im_f32(ember::compiler::abi::MemRef<2>* cols,
                                                  ember::compiler::abi::MemRef<4>* image, int64_t kh,
                                                  int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                                  int64_t pl, int64_t dh, int64_t dw, int64_t oh,
                                                  int64_t ow);

// memref.alloc / memref.dealloc of compiled code, over ember's caching host allocator
// (AllocRuntime.cpp; the pipeline's finalize-memref-to-llvm uses MLIR's generic functions).
extern "C" void* _mlir_memref_to_llvm_alloc(std::size_t size);
extern "C" void* _mlir_memref_to_llvm_aligned_alloc(std::size_t alignment, std::size_t size);
extern "C" void _mlir_memref_to_llvm_free(void* ptr);
