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

// Fused row kernels along the last dimension of dense CUDA tensors (float32, float16, bfloat16;
// kernels/CudaSource.h): softmax or log_softmax, its gradient from the output y and cotangent g,
// layer_norm over rows of n (w, b undefined or n elements; returns y, mean, rstd, float32
// statistics), and its gradient: dx (where want_dx) and g * xhat as float32 rows (where
// want_gxhat; they sum over rows to w's gradient).
Tensor cuda_softmax_rows(const Tensor& x, bool log);
Tensor cuda_softmax_rows_backward(const Tensor& y, const Tensor& g, bool log);
std::vector<Tensor> cuda_layer_norm_rows(const Tensor& x, int64_t n, const Tensor& w,
                                         const Tensor& b, double eps);
std::vector<Tensor> cuda_layer_norm_rows_backward(const Tensor& x, int64_t n, const Tensor& w,
                                                  const Tensor& mean, const Tensor& rstd,
                                                  const Tensor& g, bool want_dx, bool want_gxhat);

// The fused optimizer update `kind` ("sgd", "adam", "rmsprop", "adagrad"; kernels/CudaSource.h's
// optimizer_kernel) over dense CUDA tensors of param's device and dtype (undefined states
// allowed where the update does not read them): h and flags as that kernel reads them.
void cuda_optimizer_step(const char* kind, const Tensor& param, const Tensor& grad,
                         const Tensor& s0, const Tensor& s1, const Tensor& s2,
                         const double (&h)[8], int flags);

} // namespace ember::detail
