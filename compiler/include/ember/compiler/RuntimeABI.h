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

// An unranked memref: the rank and a pointer to the ranked descriptor {allocated, aligned,
// offset, sizes[rank], strides[rank]}.
struct UnrankedMemRef {
  int64_t rank;
  void* descriptor;
};

// The indexing ops whose out-of-range indices compiled code reports (ember-lower-indexing).
enum class IndexOp : int64_t { IndexSelect = 0, IndexAdd = 1, Gather = 2, Scatter = 3, ScatterAdd = 4 };
inline constexpr const char* kIndexErrorSymbol = "ember_index_error";

} // namespace ember::compiler::abi

// Compiled code found `index` outside [0, size) (or [-size, size)) along `dim` in indexing op
// `op` (an abi::IndexOp): recorded in the calling thread's run status (JitRuntime.h) for the
// caller to raise after the call; the access itself read or wrote entry 0.
extern "C" void ember_index_error(int64_t op, int64_t index, int64_t dim, int64_t size);

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
// Max pooling for ember.max_pool2d: every [H, W] plane of x [N, C, H, W] into y [N, C, oh, ow].
extern "C" void _mlir_ciface_ember_cpu_max_pool2d_f32(ember::compiler::abi::MemRef<4>* x,
                                                      ember::compiler::abi::MemRef<4>* y, int64_t kh,
                                                      int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                                      int64_t pl, int64_t dh, int64_t dw,
                                                      int64_t oh, int64_t ow);

// The implicit-GEMM convolution (kernels/cpu/ConvGemm.cpp) for ember.conv2d (x, weight -> y),
// ember.conv2d_weight_grad (x, g -> dw) and ember.conv2d_input_grad (g, weight -> dx); weight
// is [O, C*kh*kw], images [N, C, H, W], g and y [N, O, oh, ow]; the same geometry scalars.
#define EMBER_CONV_RUNTIME(name, A, B, C)                                                      \
  extern "C" void name(ember::compiler::abi::MemRef<A>* lhs, ember::compiler::abi::MemRef<B>* rhs, \
                       ember::compiler::abi::MemRef<C>* out, int64_t kh, int64_t kw, int64_t sh, \
                       int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw, int64_t oh,   \
                       int64_t ow);
EMBER_CONV_RUNTIME(_mlir_ciface_ember_cpu_conv2d_f32, 4, 2, 4)
EMBER_CONV_RUNTIME(_mlir_ciface_ember_cpu_conv2d_weight_grad_f32, 4, 4, 2)
EMBER_CONV_RUNTIME(_mlir_ciface_ember_cpu_conv2d_input_grad_f32, 4, 2, 4)
// Max pooling's gradient (kernels/cpu/Conv.cpp) for ember.max_pool2d_grad: x and g
// [N, C, oh, ow] -> dx [N, C, H, W], each window's maximum found again in x.
EMBER_CONV_RUNTIME(_mlir_ciface_ember_cpu_max_pool2d_grad_f32, 4, 4, 4)
#undef EMBER_CONV_RUNTIME
// argsort along `dim` of any rank and layout (kernels/Sort.h; SortRuntime.cpp): the output is
// i64, as long as the input except that dim may be shorter (topk's first k).
#define EMBER_ARGSORT_ENTRY(t)                                                                     \
  extern "C" void _mlir_ciface_ember_cpu_argsort_##t(ember::compiler::abi::UnrankedMemRef* in,     \
                                                     ember::compiler::abi::UnrankedMemRef* out,    \
                                                     int64_t dim, int64_t descending);
EMBER_ARGSORT_ENTRY(f32)
EMBER_ARGSORT_ENTRY(i64)
EMBER_ARGSORT_ENTRY(i32)
EMBER_ARGSORT_ENTRY(i1)
#undef EMBER_ARGSORT_ENTRY

// memref.alloc / memref.dealloc of compiled code, over ember's caching host allocator
// (AllocRuntime.cpp; the pipeline's finalize-memref-to-llvm uses MLIR's generic functions).
extern "C" void* _mlir_memref_to_llvm_alloc(std::size_t size);
extern "C" void* _mlir_memref_to_llvm_aligned_alloc(std::size_t alignment, std::size_t size);
extern "C" void _mlir_memref_to_llvm_free(void* ptr);

// Run status for callers without C++ (the C API ember-compile generates): begin installs a fresh
// status on the calling thread and returns it; end restores the previous one, copies the error
// message (if any) into msg[0..n), frees the status and returns 1 when the call failed.
extern "C" void* ember_run_status_begin(void);
extern "C" int ember_run_status_end(void* status, char* msg, std::size_t n);
