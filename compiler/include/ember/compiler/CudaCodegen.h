// CUDA C generation for ember's kernel-level IR: each ember.fusion (and each lone elementwise
// op) becomes one CUDA kernel built from the op records' expressions. NVRTC compiles the
// source (runtime/Nvrtc.h); launching comes with the GPU runtime.
#pragma once

#include "ember/runtime/CudaPlan.h"

#include <string>
#include <vector>

namespace ember::compiler {

struct CudaKernel {
  std::string name;   // names the ops it came from, e.g. ember_add_relu_0
  std::string source; // a complete CUDA C translation unit
  // One thread per output element: launch ceil(numel / 256) blocks of 256 threads with
  // arguments (inputs..., output, numel).
  long long numel;
  int numInputs;
};

// Parses ember IR, runs canonicalization and fusion, and generates a kernel for every
// elementwise computation left (fusions and lone elementwise ops).
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
