// Scans (cumsum, cumprod) and reductions beyond Ops.h: norms, counts, statistics pairs. The
// scans are primitives; the rest are composites of primitives.
#pragma once

#include "ember/Ops.h"

#include <optional>
#include <utility>

namespace ember {

// Running sum / product along dim (torch.cumsum, torch.cumprod): integer and bool inputs give
// int64, as in PyTorch; `dtype` converts the input first.
Tensor cumsum(const Tensor& a, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumprod(const Tensor& a, int64_t dim, std::optional<DType> dtype = std::nullopt);
// The VJP of cumprod, exact where `a` has zeros (PyTorch's cumprod_backward), in ember ops.
Tensor cumprod_backward(const Tensor& a, const Tensor& g, int64_t dim);

// (var, mean) and (std, mean) in one call (torch.var_mean, torch.std_mean).
std::pair<Tensor, Tensor> var_mean(const Tensor& a, const Shape& dims = {}, double correction = 1,
                                   bool keepdim = false);
std::pair<Tensor, Tensor> std_mean(const Tensor& a, const Shape& dims = {}, double correction = 1,
                                   bool keepdim = false);
// torch.linalg.vector_norm: ord 2, 1, inf, -inf, 0 or any other p over dims (all when empty).
Tensor vector_norm(const Tensor& a, double ord = 2, const Shape& dims = {}, bool keepdim = false,
                   std::optional<DType> dtype = std::nullopt);
// Number of nonzero elements over dims (all when empty), int64 (torch.count_nonzero).
Tensor count_nonzero(const Tensor& a, const Shape& dims = {});
// The input converted to `dtype` for a reduction's dtype= argument; an error where that cast
// would cut a gradient (dtype casts do not record for autograd yet).
Tensor reduction_input(const Tensor& a, std::optional<DType> dtype, const char* op);

} // namespace ember
