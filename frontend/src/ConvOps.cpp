// Im2Col and Col2Im: the two sliding-window primitives (each the other's VJP). Convolution,
// transposed convolution and pooling are composites of them and matmul (FunctionalConv.cpp).
#include "ConvOps.h"

#include "ember/kernels/Conv.h"
#include "ember/runtime/Error.h"

#include <limits>

namespace ember {
namespace detail {
namespace {

kernels::Window2d geometry(const Shape& a) {
  return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]};
}

} // namespace

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
  const kernels::Window2d g = geometry(attrs.ints);
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

} // namespace detail

Tensor im2col(const Tensor& image, const Shape& window) {
  return apply(Prim::Im2Col, {image}, {window});
}
Tensor col2im(const Tensor& cols, const Shape& window) {
  return apply(Prim::Col2Im, {cols}, {window});
}

} // namespace ember
