// Pointwise ops beyond the op records: composites of primitives (so autograd and, where their
// primitives lower, the compiler need nothing new).
#pragma once

#include "ember/Ops.h"

#include <optional>

namespace ember {

// a * a; bool gives int64 (torch.square).
Tensor square(const Tensor& a);
// a - trunc(a), floating point only (torch.frac).
Tensor frac(const Tensor& a);
// pow in float64 (torch.float_power); gradients need a differentiable cast, not there yet.
Tensor float_power(const Tensor& a, const Tensor& b);
Tensor isposinf(const Tensor& a);
Tensor isneginf(const Tensor& a);
// NaN, +inf and -inf replaced (defaults: 0 and the dtype's largest / lowest finite value).
Tensor nan_to_num(const Tensor& a, std::optional<double> nan = std::nullopt,
                  std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);
// a + weight * (end - a), in PyTorch's two-sided form (torch.lerp); weight a tensor or scalar().
Tensor lerp(const Tensor& a, const Tensor& end, const Tensor& weight);
// a + value * t1 * t2 and a + value * t1 / t2 (torch.addcmul, torch.addcdiv).
Tensor addcmul(const Tensor& a, const Tensor& t1, const Tensor& t2, double value = 1);
Tensor addcdiv(const Tensor& a, const Tensor& t1, const Tensor& t2, double value = 1);
// min(max(a, lo), hi) with tensor (or scalar()) bounds, either may be undefined (torch.clamp).
Tensor clamp(const Tensor& a, const Tensor& lo, const Tensor& hi);

} // namespace ember
