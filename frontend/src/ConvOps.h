// Internal: the shape rule and eager computation of Im2Col and Col2Im (ConvOps.cpp), called
// from the dispatcher in Ops.cpp, and the fused eager convolution FunctionalNN.cpp uses.
#pragma once

#include "ember/Ops.h"
#include "ember/kernels/Conv.h"

#include <functional>

namespace ember::detail {

// Im2Col's window attribute {kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, H, W} as the kernels take it.
kernels::Window2d window2d(const Shape& window);
Shape window_shape(Prim p, const Shape& in, const Attrs& attrs);
Tensor window_compute(Prim p, const Tensor& in, const Attrs& attrs, const Shape& shape,
                      DType out_dtype);

// The same convolution as a composite of primitives (what tracing records): y [N, O, oh, ow]
// from x [N, C, H, W], w [O, C, kh, kw] and bias (undefined: none).
using ConvComposite = std::function<Tensor(const Tensor& x, const Tensor& w, const Tensor& bias)>;
// conv2d (groups 1) through the fused per-image kernels. When autograd records, the output's
// node (ConvolutionBackward0) runs the fused gradient kernels; under create_graph it
// differentiates `composite` instead, so higher derivatives come from the primitives' rules.
Tensor conv2d_fused(const Tensor& x, const Tensor& w, const Tensor& bias,
                    const kernels::Window2d& g, ConvComposite composite);
// max_pool2d of a float32 CPU x [N, C, H, W] through the fused kernel: values and the int64
// flat H*W index of each maximum (PyTorch's). The values' node (MaxPool2DWithIndicesBackward0)
// scatters the gradient to those indices: the fused kernel, or scatter_add under create_graph.
std::pair<Tensor, Tensor> max_pool2d_fused(const Tensor& x, const kernels::Window2d& g);

} // namespace ember::detail
