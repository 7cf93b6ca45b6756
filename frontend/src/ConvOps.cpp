// Im2Col and Col2Im: the two sliding-window primitives (each the other's VJP). Convolution,
// transposed convolution and pooling are composites of them and matmul (FunctionalConv.cpp).
#include "ConvOps.h"

#include "FusedNode.h"
#include "ember/Graph.h"
#include "ember/ShapeOps.h"
#include "ember/kernels/Conv.h"
#include "ember/runtime/Error.h"

#include <limits>

namespace ember {
namespace detail {
kernels::Window2d window2d(const Shape& a) {
  return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]};
}

Shape window_shape(Prim p, const Shape& in, const Attrs& attrs) {
  const std::string ctx = std::string("ember.") + prim_name(p);
  const Shape& a = attrs.ints;
  EMBER_CHECK(a.size() == 12 || (a.size() == 13 && (a[12] == 0 || a[12] == 1)), Value, ctx,
              "expects 12 window parameters and an optional fill flag, got ", shape_str(a));
  for (int i = 0; i < 12; ++i)
    EMBER_CHECK(a[i] >= (i == 4 || i == 5 || i == 10 || i == 11 ? 0 : 1), Value, ctx,
                "invalid window parameters ", shape_str(a));
  const int64_t kk = a[0] * a[1], len = a[8] * a[9];
  if (p == Prim::Im2Col) {
    EMBER_CHECK(in.size() == 4 && in[2] == a[10] && in[3] == a[11], Value, ctx, "expects an image "
                "[N, C, ", a[10], ", ", a[11], "], got ", shape_str(in));
    return {in[1] * kk, in[0] * len};
  }
  EMBER_CHECK(in.size() == 2 && in[0] % kk == 0 && in[1] % len == 0, Value, ctx, "expects columns "
              "[C*", kk, ", N*", len, "], got ", shape_str(in));
  return {in[1] / len, in[0] / kk, a[10], a[11]};
}

Tensor window_compute(Prim p, const Tensor& in, const Attrs& attrs, const Shape& shape,
                      DType out_dtype) {
  EMBER_CHECK(is_floating(out_dtype), Type, std::string("ember.") + prim_name(p),
              "expects a floating point tensor, got ", dtype_name(out_dtype));
  // 16-bit floats move through float32.
  const DType cd = out_dtype == DType::Float64 ? DType::Float64 : DType::Float32;
  Tensor x = in.to(cd).contiguous();
  Tensor out = empty(shape, cd);
  const kernels::Window2d g = window2d(attrs.ints);
  const Shape& image = p == Prim::Im2Col ? in.shape() : shape;
  if (x.numel() || out.numel()) {
    // Entry 12 (Im2Col only): 1 fills outside the image with -inf (max pooling), else zeros.
    const bool lowest = attrs.ints.size() == 13 && attrs.ints[12] == 1;
    const double fill = lowest ? -std::numeric_limits<double>::infinity() : 0.0;
    if (cd == DType::Float64) {
      if (p == Prim::Im2Col) kernels::im2col(x.data<double>(), out.data<double>(), image[0], image[1], g, fill);
      else kernels::col2im(x.data<double>(), out.data<double>(), image[0], image[1], g);
    } else {
      if (p == Prim::Im2Col) kernels::im2col(x.data<float>(), out.data<float>(), image[0], image[1], g, float(fill));
      else kernels::col2im(x.data<float>(), out.data<float>(), image[0], image[1], g);
    }
  }
  return out.to(out_dtype);
}

Tensor conv2d_fused(const Tensor& x, const Tensor& w, const Tensor& bias,
                    const kernels::Window2d& g, ConvComposite composite) {
  const int64_t n = x.shape()[0], c = x.shape()[1], o = w.shape()[0];
  Tensor xc = x.contiguous(), wc = w.contiguous(), bc = bias.defined() ? bias.contiguous() : bias;
  Tensor y = empty({n, o, g.oh, g.ow});
  kernels::conv2d_forward_f32(xc.data<float>(), wc.data<float>(), data_or_null(bc),
                              y.data<float>(), n, c, o, g);
  auto saved = std::make_shared<SavedTensors>(std::vector<Tensor>{x, w, bias}, 3);
  return record_fused(
      "ConvolutionBackward0", y, {x, w, bias}, saved,
      [saved, g, composite](const Tensor& dy, const Tensor&) -> std::vector<Tensor> {
        saved->check("ConvolutionBackward0");
        const std::vector<Tensor>& in = saved->tensors;
        if (grad_enabled()) return composite_grads(composite(in[0], in[1], in[2]), in, dy);
        const int64_t n = in[0].shape()[0], c = in[0].shape()[1], o = in[1].shape()[0];
        Tensor xc = in[0].contiguous(), wc = in[1].contiguous();
        Tensor gc = dy.to(DType::Float32).contiguous();
        std::vector<Tensor> grads(3);
        for (int i = 0; i < 3; ++i)
          if (wants_grad(in[i])) grads[i] = empty(in[i].shape());
        kernels::conv2d_backward_f32(xc.data<float>(), wc.data<float>(), gc.data<float>(),
                                     data_or_null(grads[0]), data_or_null(grads[1]),
                                     data_or_null(grads[2]), n, c, o, g);
        return grads;
      },
      /*keep_output=*/false); // the backward reads its inputs, not its output
}

std::pair<Tensor, Tensor> max_pool2d_fused(const Tensor& x, const kernels::Window2d& g) {
  const int64_t n = x.shape()[0], c = x.shape()[1];
  Tensor xc = x.contiguous();
  Tensor values = empty({n, c, g.oh, g.ow}), idx = empty({n, c, g.oh, g.ow}, DType::Int64);
  kernels::max_pool2d_f32(xc.data<float>(), values.data<float>(), idx.data<int64_t>(), n * c, g);
  const Shape shape = x.shape();
  Tensor out = record_fused(
      "MaxPool2DWithIndicesBackward0", values, {x}, nullptr,
      [idx, shape, g](const Tensor& dy, const Tensor&) -> std::vector<Tensor> {
        const int64_t planes = shape[0] * shape[1], len = g.oh * g.ow;
        if (grad_enabled()) // create_graph: the same scatter, recorded
          return {reshape(scatter_add(zeros({planes, shape[2] * shape[3]}, dy.dtype()), 1,
                                      reshape(idx, {planes, len}), reshape(dy, {planes, len})),
                          shape)};
        Tensor gc = dy.to(DType::Float32).contiguous(), dx = empty(shape);
        kernels::max_pool2d_backward_f32(gc.data<float>(), idx.data<int64_t>(),
                                         dx.data<float>(), planes, g);
        return {dx};
      },
      /*keep_output=*/false);
  return {out, idx};
}

} // namespace detail

Tensor im2col(const Tensor& image, const Shape& window) {
  return apply(Prim::Im2Col, {image}, {window});
}
Tensor col2im(const Tensor& cols, const Shape& window) {
  return apply(Prim::Col2Im, {cols}, {window});
}

} // namespace ember
