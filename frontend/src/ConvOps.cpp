// Im2Col and Col2Im: the two sliding-window primitives (each the other's VJP). Convolution,
// transposed convolution and pooling are composites of them and matmul (FunctionalConv.cpp).
#include "ConvOps.h"

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

bool conv2d_fusable(const Tensor& x, const Tensor& w, const Tensor& bias) {
  for (const Tensor* t : {&x, &w, &bias})
    if (t->defined() && (t->is_symbolic() || t->is_cuda() || t->dtype() != DType::Float32))
      return false;
  return true;
}

namespace {
// What the convolution's node keeps for its backward (dropped when the graph is released).
struct ConvSaved {
  Tensor x, w, bias;
  uint64_t versions[3] = {0, 0, 0};
};

const float* data_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
} // namespace

Tensor conv2d_fused(const Tensor& x, const Tensor& w, const Tensor& bias,
                    const kernels::Window2d& g, ConvComposite composite) {
  const int64_t n = x.shape()[0], c = x.shape()[1], o = w.shape()[0];
  Tensor xc = x.contiguous(), wc = w.contiguous(), bc = bias.defined() ? bias.contiguous() : bias;
  Tensor y = empty({n, o, g.oh, g.ow});
  kernels::conv2d_forward_f32(xc.data<float>(), wc.data<float>(), data_or_null(bc),
                              y.data<float>(), n, c, o, g);
  const bool needs = grad_enabled() && (x.requires_grad() || w.requires_grad() ||
                                        (bias.defined() && bias.requires_grad()));
  if (!needs) return y;
  auto saved = std::make_shared<ConvSaved>();
  saved->x = x;
  saved->w = w;
  saved->bias = bias;
  for (int i = 0; i < 3; ++i) {
    const Tensor& t = i == 0 ? x : i == 1 ? w : bias;
    if (t.defined()) saved->versions[i] = t.version();
  }
  auto fn = std::make_shared<CustomBackward>();
  fn->name = "ConvolutionBackward0";
  fn->release = [saved] { saved->x = saved->w = saved->bias = Tensor(); };
  fn->backward = [saved, g, composite](const Tensor& dy, const Tensor&) -> std::vector<Tensor> {
    const Tensor ins[3] = {saved->x, saved->w, saved->bias};
    for (int i = 0; i < 3; ++i)
      EMBER_CHECK(!ins[i].defined() || ins[i].version() == saved->versions[i], Runtime,
                  "autograd", "one of the variables needed for gradient computation has been "
                  "modified by an inplace operation: [", dtype_name(ins[i].dtype()), " ",
                  shape_str(ins[i].shape()), "], input ", i, " of ConvolutionBackward0, is at "
                  "version ", ins[i].version(), "; expected version ", saved->versions[i],
                  " instead. Hint: use the out-of-place form of the operation (or clone() the "
                  "tensor before modifying it)");
    std::vector<Tensor> grads(3);
    if (grad_enabled()) { // create_graph: the gradients of the composite, themselves recorded
      std::vector<Tensor> wanted;
      for (const Tensor& t : ins)
        if (t.defined() && t.requires_grad()) wanted.push_back(t);
      std::vector<Tensor> got = autograd::grad({composite(ins[0], ins[1], ins[2])}, wanted, {dy},
                                               /*create_graph=*/true, /*allow_unused=*/true);
      for (int i = 0, k = 0; i < 3; ++i)
        if (ins[i].defined() && ins[i].requires_grad()) grads[i] = got[k++];
      return grads;
    }
    const Tensor& x = ins[0];
    const Tensor& w = ins[1];
    const int64_t n = x.shape()[0], c = x.shape()[1], o = w.shape()[0];
    Tensor xc = x.contiguous(), wc = w.contiguous(), gc = dy.to(DType::Float32).contiguous();
    if (x.requires_grad()) grads[0] = empty(x.shape());
    if (w.requires_grad()) grads[1] = empty(w.shape());
    if (ins[2].defined() && ins[2].requires_grad()) grads[2] = empty(ins[2].shape());
    auto out = [](Tensor& t) { return t.defined() ? t.data<float>() : nullptr; };
    kernels::conv2d_backward_f32(xc.data<float>(), wc.data<float>(), gc.data<float>(),
                                 out(grads[0]), out(grads[1]), out(grads[2]), n, c, o, g);
    return grads;
  };
  std::shared_ptr<CustomBackward> keep = fn;
  Tensor out = autograd::record_custom(y, {x, w, bias}, std::move(fn));
  keep->output = Tensor(); // the backward reads its inputs, not its output
  return out;
}

std::pair<Tensor, Tensor> max_pool2d_fused(const Tensor& x, const kernels::Window2d& g) {
  const int64_t n = x.shape()[0], c = x.shape()[1];
  Tensor xc = x.contiguous();
  Tensor values = empty({n, c, g.oh, g.ow}), idx = empty({n, c, g.oh, g.ow}, DType::Int64);
  kernels::max_pool2d_f32(xc.data<float>(), values.data<float>(), idx.data<int64_t>(), n * c, g);
  if (!(grad_enabled() && x.requires_grad())) return {values, idx};
  auto fn = std::make_shared<CustomBackward>();
  fn->name = "MaxPool2DWithIndicesBackward0";
  const Shape shape = x.shape();
  fn->backward = [idx, shape, g](const Tensor& dy, const Tensor&) -> std::vector<Tensor> {
    const int64_t planes = shape[0] * shape[1], len = g.oh * g.ow;
    if (grad_enabled()) // create_graph: the same scatter, recorded
      return {reshape(scatter_add(zeros({planes, shape[2] * shape[3]}, dy.dtype()), 1,
                                  reshape(idx, {planes, len}), reshape(dy, {planes, len})),
                      shape)};
    Tensor gc = dy.to(DType::Float32).contiguous(), dx = empty(shape);
    kernels::max_pool2d_backward_f32(gc.data<float>(), idx.data<int64_t>(), dx.data<float>(),
                                     planes, g);
    return {dx};
  };
  std::shared_ptr<CustomBackward> keep = fn;
  Tensor out = autograd::record_custom(values, {x}, std::move(fn));
  keep->output = Tensor();
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
