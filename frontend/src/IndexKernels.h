// Internal: attribute normalization, shape rules and eager kernels of the indexing primitives
// (Gather, ScatterAdd, Scatter, ArgSort, Unfold), called by the dispatcher in Ops.cpp.
#pragma once

#include "ember/Ops.h"

namespace ember::detail {

bool is_index_prim(Prim p);
Attrs index_prim_normalize(Prim p, const std::vector<Shape>& in, const Attrs& attrs);
Shape index_prim_shape(Prim p, const std::vector<Shape>& in, const Attrs& attrs);
Tensor index_prim_compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs,
                          const Shape& shape, DType dtype);

} // namespace ember::detail
