// Internal: eager fast paths of softmax, log_softmax and layer_norm on float32 CPU tensors
// (row-wise kernels in kernels/Norm.h), recorded as one custom node each whose backward runs the
// matching gradient kernel, or, under create_graph, differentiates the composite (`composite`,
// the primitives tracing records), so higher derivatives come from the primitives' rules.
// Each returns an undefined tensor where the fast path does not apply.
#pragma once

#include "ember/Ops.h"

#include <functional>

namespace ember::detail {

using UnaryComposite = std::function<Tensor(const Tensor&)>;
Tensor softmax_fused(const Tensor& a, int64_t dim, bool log, UnaryComposite composite);

using NormComposite = std::function<Tensor(const Tensor& x, const Tensor& w, const Tensor& b)>;
Tensor layer_norm_fused(const Tensor& x, int64_t n, const Tensor& w, const Tensor& b, double eps,
                        NormComposite composite);

} // namespace ember::detail
