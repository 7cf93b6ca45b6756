// Internal: the eager kernels of the elementwise op records, instantiated for every dtype in
// ElementwiseKernels.inc. The records are split across kElementwiseParts translation units
// (by Prim value) so the instantiations compile in parallel.
#pragma once

#include "ember/Ops.h"

namespace ember::detail {

// Integral: integer and bool dtypes only (bitwise ops); Integer: integer dtypes only (shifts).
enum class DTypeRule { Same, Float, Bool, Integral, Integer };

constexpr int kElementwiseParts = 4;

// out = record p applied to x, y (already in the compute dtype; xs, ys their broadcast
// strides for out's shape). `out` is allocated with the result shape and dtype.
using ElementwiseKernel = void (*)(Prim p, const Tensor& x, const Tensor& y, const Shape& xs,
                                   const Shape& ys, Tensor& out);
void elementwise_part0(Prim, const Tensor&, const Tensor&, const Shape&, const Shape&, Tensor&);
void elementwise_part1(Prim, const Tensor&, const Tensor&, const Shape&, const Shape&, Tensor&);
void elementwise_part2(Prim, const Tensor&, const Tensor&, const Shape&, const Shape&, Tensor&);
void elementwise_part3(Prim, const Tensor&, const Tensor&, const Shape&, const Shape&, Tensor&);

// The vectorized float32 kernels (FastElementwise.cpp): false when p, the dtypes or the layout
// have none, having written nothing.
bool fast_elementwise(Prim p, const Tensor& x, const Tensor& y, const Shape& xs, const Shape& ys,
                      Tensor& out);

inline void elementwise_kernel(Prim p, const Tensor& x, const Tensor& y, const Shape& xs,
                               const Shape& ys, Tensor& out) {
  if (fast_elementwise(p, x, y, xs, ys, out)) return;
  static constexpr ElementwiseKernel parts[kElementwiseParts] = {
      elementwise_part0, elementwise_part1, elementwise_part2, elementwise_part3};
  parts[static_cast<int>(p) % kElementwiseParts](p, x, y, xs, ys, out);
}

} // namespace ember::detail
