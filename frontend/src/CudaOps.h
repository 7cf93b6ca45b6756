// The eager CUDA path of the dispatcher: the primitives that compute (views are shared with the
// CPU), run as NVRTC-compiled kernels generated from the op records (kernels/CudaSource.h) and
// cuBLAS GEMMs. Internal to frontend/src.
#pragma once

#include "ember/Ops.h"

namespace ember::detail {

// Computes primitive `p` on CUDA inputs (0-d CPU tensors are allowed as scalars).
Tensor cuda_compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs, const Shape& shape,
                    DType dtype, Device device);
// Writes `src` (broadcast to dst's shape, converted to dst's dtype) into the CUDA view `dst`.
// `src` is on dst's device or a 0-d CPU tensor.
void cuda_copy(const Tensor& dst, const Tensor& src);
// Sets every element of the CUDA view `dst` to `value`.
void cuda_fill(const Tensor& dst, double value);

// Fills the dense CUDA tensor `t` with the draw that reserved Philox blocks at `base` under
// `seed`: uniform in [a, b), or normal with mean a and std b; the same values as on the CPU.
void cuda_random(const Tensor& t, bool normal, double a, double b, uint64_t seed, uint64_t base);

} // namespace ember::detail
