// The compiler's CUDA backend: ember IR becomes a CUDA plan (runtime/CudaPlan.h) of generated
// kernels (each ember.fusion and lone elementwise op from the op records' expressions, and the
// structural ops) and cuBLAS GEMMs, which a PlanRunner launches.
#pragma once

#include "ember/runtime/CudaPlan.h"

#include <string>
#include <vector>

namespace ember::compiler {

struct CudaKernel {
  std::string name;   // names the ops it came from, e.g. ember_add_relu_0
  std::string source; // a complete CUDA C translation unit
  // perThread: indices per thread (1 or 4), or -32 for a warp per index; launch blocks of 256
  // threads with arguments (inputs..., output, numel).
  long long numel;
  int numInputs;
  int perThread = 1;
  bool checked = false; // takes the plan's status word (an integer result's range check)
};

// The kernels of func.func @main's plan (buildCudaPlan below), in launch order, with their
// launch sizes: what a plan's generated code looks like, for tests and inspection.
std::vector<CudaKernel> generateCudaKernels(const std::string& source);

// The CUDA plan of func.func `function` in ember IR: canonicalization and fusion, then one
// kernel per fusion / lone elementwise op, reduction, copy (transpose, permute, expand, slice,
// slice_backward, cat) and window op (im2col, col2im), a cuBLAS GEMM per matmul / bmm (reading
// transposed operands in place), and reshapes as aliases. With `compilePtx`, every kernel is
// compiled to PTX (compute_80) now, so running the plan needs no NVRTC. Throws ember::Error
// (NotImplemented) naming the first op or dtype the CUDA backend does not compile.
cuda::Plan buildCudaPlan(const std::string& source, const std::string& function = "main",
                         bool compilePtx = false);

} // namespace ember::compiler
