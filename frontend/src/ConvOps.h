// Internal: the shape rule and eager computation of Im2Col and Col2Im (ConvOps.cpp), called
// from the dispatcher in Ops.cpp.
#pragma once

#include "ember/Ops.h"

namespace ember::detail {

Shape window_shape(Prim p, const Shape& in, const Attrs& attrs);
Tensor window_compute(Prim p, const Tensor& in, const Attrs& attrs, const Shape& shape,
                      DType out_dtype);

} // namespace ember::detail
