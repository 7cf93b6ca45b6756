// nn.functional's layers: convolution, pooling, normalization, padding, resizing, attention.
// All are composites of primitives (Im2Col/Col2Im + matmul for the sliding windows), so autograd
// needs no rule of its own here.
#include "ConvOps.h"
#include "FusedNode.h"
#include "TraceState.h"
#include "ember/Autocast.h"
#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <limits>

namespace ember::nn::functional {
namespace {

// An int64 tensor of these values.
Tensor int_tensor(const std::vector<int64_t>& v, const Shape& shape) {
  return copy_from(v.data(), DType::Int64, shape, contiguous_strides(shape));
}

// A floating tensor of these values in `dtype`.
Tensor float_tensor(const std::vector<double>& v, const Shape& shape, DType dtype) {
  return copy_from(v.data(), DType::Float64, shape, contiguous_strides(shape)).to(dtype);
}

// One value per spatial dim: a single entry stands for all of them.
Shape per_dim(const Shape& v, int64_t dims, const std::string& op, const char* what) {
  if (v.size() == 1) return Shape(dims, v[0]);
  EMBER_CHECK(int64_t(v.size()) == dims, Value, op, what, " must have 1 or ", dims,
              " entries, got ", shape_str(v));
  return v;
}

void check_floating(const Tensor& x, const std::string& op) {
  EMBER_CHECK(is_floating(x.dtype()), Type, op, "expects a floating point input, got ",
              dtype_name(x.dtype()));
}

// Adds the batch dim to an unbatched input ([C, *spatial]) of a `spatial`-d op.
Tensor batched(const Tensor& x, int64_t spatial, const std::string& op) {
  EMBER_CHECK(x.dim() == spatial + 1 || x.dim() == spatial + 2, Value, op, "expected a ",
              spatial + 1, "-D (unbatched) or ", spatial + 2, "-D (batched) input, got shape ",
              shape_str(x.shape()));
  return x.dim() == spatial + 1 ? unsqueeze(x, 0) : x;
}

Tensor unbatched_like(const Tensor& y, const Tensor& x, int64_t spatial) {
  return x.dim() == spatial + 1 ? squeeze(y, 0) : y;
}

// The window geometry Im2Col / Col2Im take.
Shape window(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh,
             int64_t dw, int64_t oh, int64_t ow, int64_t h, int64_t w) {
  return {kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, h, w};
}

// [C, N * h * w] (a GEMM's output over im2col's columns) as a contiguous [N, C, h, w], as
// PyTorch's results are (so .view() works on them): the reshape through [N, C*h*w] gathers.
Tensor nchw(const Tensor& cn, int64_t n, int64_t c, int64_t h, int64_t w) {
  Tensor t = permute(reshape(cn, {c, n, h * w}), {1, 0, 2});
  return reshape(reshape(t, {n, c * h * w}), {n, c, h, w});
}

// out[N, O, oh, ow] = weight[O, C/G, kh, kw] (*) x[N, C, H, W] with the padding given per side.
Tensor conv2d_impl(const Tensor& x4, const Tensor& w, const Tensor& bias, const Shape& s,
                   const Shape& pad_lo, const Shape& pad_hi, const Shape& d, int64_t groups,
                   const std::string& op) {
  check_floating(x4, op);
  EMBER_CHECK(w.dim() == 4, Value, op, "expected a 4-D weight [out_channels, in_channels / groups, "
              "kH, kW], got shape ", shape_str(w.shape()));
  EMBER_CHECK(x4.dtype() == w.dtype() && (!bias.defined() || bias.dtype() == w.dtype()), Runtime,
              op, "input (", dtype_name(x4.dtype()), "), weight (", dtype_name(w.dtype()), ")",
              bias.defined() ? std::string(" and bias (") + dtype_name(bias.dtype()) + ")" : "",
              " must have the same dtype");
  EMBER_CHECK(groups >= 1, Runtime, op, "non-positive groups is not supported, got ", groups);
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(s[i] >= 1, Runtime, op, "non-positive stride is not supported, got ", shape_str(s));
    EMBER_CHECK(d[i] >= 1, Runtime, op, "dilation should be greater than zero, got ", shape_str(d));
    EMBER_CHECK(pad_lo[i] >= 0 && pad_hi[i] >= 0, Runtime, op, "negative padding is not supported");
  }
  const int64_t n = x4.shape()[0], c = x4.shape()[1], h = x4.shape()[2], wd = x4.shape()[3];
  const int64_t o = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  EMBER_CHECK(o % groups == 0, Runtime, op, "expected weight of shape ", shape_str(w.shape()),
              " to have out_channels divisible by groups=", groups);
  EMBER_CHECK(cg * groups == c, Runtime, op, "Given groups=", groups, ", weight of size ",
              shape_str(w.shape()), ", expected input", shape_str(x4.shape()), " to have ",
              cg * groups, " channels, but got ", c, " channels instead");
  EMBER_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == o), Runtime, op,
              "expected bias of shape [", o, "], got ", shape_str(bias.shape()));
  const int64_t ph = h + pad_lo[0] + pad_hi[0], pw = wd + pad_lo[1] + pad_hi[1];
  const int64_t ekh = d[0] * (kh - 1) + 1, ekw = d[1] * (kw - 1) + 1;
  EMBER_CHECK(ph >= ekh && pw >= ekw, Runtime, op, "Calculated padded input size per channel: (",
              ph, " x ", pw, "). Kernel size: (", ekh, " x ", ekw,
              "). Kernel size can't be greater than actual input size");
  const int64_t oh = (ph - ekh) / s[0] + 1, ow = (pw - ekw) / s[1] + 1, len = n * oh * ow;
  const Shape geo = window(kh, kw, s[0], s[1], pad_lo[0], pad_lo[1], d[0], d[1], oh, ow, h, wd);
  // The convolution as primitives: Im2Col's columns for the whole batch times the weight.
  auto composite = [=](const Tensor& x, const Tensor& w, const Tensor& bias) {
    Tensor cols = im2col(x, geo);
    Tensor out;
    if (groups == 1) {
      out = mm(reshape(w, {o, cg * kh * kw}), cols);
    } else {
      out = reshape(bmm(reshape(w, {groups, o / groups, cg * kh * kw}),
                        reshape(cols, {groups, cg * kh * kw, len})),
                    {o, len});
    }
    // The bias goes on in NCHW: the compiler's conv ops produce NCHW, and the permutes
    // between their layout and the columns' then cancel (reshape/permute folds).
    Tensor y = nchw(out, n, o, oh, ow);
    return bias.defined() ? add(y, reshape(bias, {1, o, 1, 1})) : y;
  };
  // Concrete float32 CPU tensors take the fused per-image kernels (eager, with its own
  // gradient kernels); traced ones record the composite.
  if (groups == 1 && detail::fused_cpu_f32(x4, w, bias))
    return detail::conv2d_fused(x4, w, bias, detail::window2d(geo), composite);
  // Without autograd or tracing, batches whose columns would not fit in cache run in chunks of
  // images (each chunk's GEMM output is already NCHW; one cat gathers them), as long as the
  // chunk stays large next to the weight, which each chunk's GEMM reads again.
  const int64_t per_image = c * kh * kw * oh * ow;
  const int64_t chunk = std::max<int64_t>(1, std::max<int64_t>(1 << 20, 4 * w.numel()) / per_image);
  const bool recorded = x4.is_symbolic() || (grad_enabled() && (x4.requires_grad() ||
                        w.requires_grad() || (bias.defined() && bias.requires_grad())));
  if (!recorded && n > chunk) {
    std::vector<Tensor> parts;
    for (int64_t i = 0; i < n; i += chunk)
      parts.push_back(conv2d_impl(slice(x4, 0, i, std::min(n, i + chunk), 1), w, bias, s, pad_lo,
                                  pad_hi, d, groups, op));
    return cat(parts, 0);
  }
  return composite(x4, w, bias);
}

// PyTorch's 'same' padding: total d*(k-1) per dim, the odd one after.
void same_padding(const Tensor& w, const Shape& d, int64_t spatial, Shape& lo, Shape& hi) {
  lo.assign(spatial, 0);
  hi.assign(spatial, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    const int64_t total = d[i] * (w.shape()[2 + i] - 1);
    lo[i] = total / 2;
    hi[i] = total - lo[i];
  }
}

Tensor conv_nd(const Tensor& x, const Tensor& w, const Tensor& bias, const Shape& stride,
               const std::optional<Shape>& padding, PaddingMode pad_mode,
               const Shape& dilation, int64_t groups, int64_t spatial, const std::string& op) {
  Tensor xb = batched(x, spatial, op);
  EMBER_CHECK(w.dim() == spatial + 2, Value, op, "expected a ", spatial + 2, "-D weight, got shape ",
              shape_str(w.shape()));
  Shape s = per_dim(stride, spatial, op, "stride"), d = per_dim(dilation, spatial, op, "dilation");
  Shape lo, hi;
  if (padding) {
    lo = hi = per_dim(*padding, spatial, op, "padding");
  } else if (pad_mode == PaddingMode::Valid) {
    lo = hi = Shape(spatial, 0);
  } else {
    for (int64_t v : s)
      EMBER_CHECK(v == 1, Value, op, "padding='same' is not supported for strided convolutions");
    same_padding(w, d, spatial, lo, hi);
  }
  Tensor y;
  if (spatial == 2) {
    y = conv2d_impl(xb, w, bias, s, lo, hi, d, groups, op);
  } else {
    y = squeeze(conv2d_impl(unsqueeze(xb, 2), unsqueeze(w, 2), bias, {1, s[0]}, {0, lo[0]},
                            {0, hi[0]}, {1, d[0]}, groups, op), 2);
  }
  return unbatched_like(y, x, spatial);
}

// out = the adjoint of conv2d w.r.t. its input, weight [C_in, C_out / G, kh, kw].
Tensor conv_transpose2d_impl(const Tensor& x4, const Tensor& w, const Tensor& bias, const Shape& s,
                             const Shape& p, const Shape& op_, int64_t groups, const Shape& d,
                             const std::string& op) {
  check_floating(x4, op);
  EMBER_CHECK(w.dim() == 4, Value, op, "expected a 4-D weight [in_channels, out_channels / groups, "
              "kH, kW], got shape ", shape_str(w.shape()));
  EMBER_CHECK(x4.dtype() == w.dtype() && (!bias.defined() || bias.dtype() == w.dtype()), Runtime,
              op, "input (", dtype_name(x4.dtype()), ") and weight (", dtype_name(w.dtype()),
              ") must have the same dtype");
  EMBER_CHECK(groups >= 1, Runtime, op, "non-positive groups is not supported, got ", groups);
  const int64_t n = x4.shape()[0], c = x4.shape()[1], h = x4.shape()[2], wd = x4.shape()[3];
  const int64_t cog = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3], o = cog * groups;
  EMBER_CHECK(w.shape()[0] == c && c % groups == 0, Runtime, op, "Given transposed=1, weight of size ",
              shape_str(w.shape()), ", expected input", shape_str(x4.shape()), " to have ",
              w.shape()[0], " channels (divisible by groups=", groups, "), but got ", c,
              " channels instead");
  EMBER_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == o), Runtime, op,
              "expected bias of shape [", o, "], got ", shape_str(bias.shape()));
  Shape out(2);
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(s[i] >= 1 && d[i] >= 1 && p[i] >= 0 && op_[i] >= 0, Runtime, op,
                "stride and dilation must be positive, padding and output_padding non-negative");
    EMBER_CHECK(op_[i] < s[i] || op_[i] < d[i], Runtime, op, "output padding must be smaller "
                "than either stride or dilation, but got output_padding ", shape_str(op_),
                ", stride ", shape_str(s), ", dilation ", shape_str(d));
    out[i] = (x4.shape()[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (w.shape()[2 + i] - 1) + op_[i] + 1;
  }
  EMBER_CHECK(out[0] > 0 && out[1] > 0, Runtime, op, "input ", shape_str(x4.shape()),
              " gives an output of non-positive size (", out[0], " x ", out[1], ")");
  const int64_t len = n * h * wd, kk = kh * kw;
  Tensor xm = reshape(permute(x4, {1, 0, 2, 3}), {c, len});
  Tensor cols;
  if (groups == 1) {
    cols = mm(transpose(reshape(w, {c, o * kk}), 0, 1), xm);
  } else {
    cols = reshape(bmm(transpose(reshape(w, {groups, c / groups, cog * kk}), 1, 2),
                       reshape(xm, {groups, c / groups, len})),
                   {o * kk, len});
  }
  Tensor y = col2im(cols, window(kh, kw, s[0], s[1], p[0], p[1], d[0], d[1], h, wd, out[0], out[1]));
  return bias.defined() ? add(y, reshape(bias, {1, o, 1, 1})) : y;
}

Tensor conv_transpose_nd(const Tensor& x, const Tensor& w, const Tensor& bias, const Shape& stride,
                         const Shape& padding, const Shape& output_padding, int64_t groups,
                         const Shape& dilation, int64_t spatial, const std::string& op) {
  Tensor xb = batched(x, spatial, op);
  EMBER_CHECK(w.dim() == spatial + 2, Value, op, "expected a ", spatial + 2, "-D weight, got shape ",
              shape_str(w.shape()));
  Shape s = per_dim(stride, spatial, op, "stride"), p = per_dim(padding, spatial, op, "padding");
  Shape o = per_dim(output_padding, spatial, op, "output_padding");
  Shape d = per_dim(dilation, spatial, op, "dilation");
  Tensor y = spatial == 2
                 ? conv_transpose2d_impl(xb, w, bias, s, p, o, groups, d, op)
                 : squeeze(conv_transpose2d_impl(unsqueeze(xb, 2), unsqueeze(w, 2), bias,
                                                 {1, s[0]}, {0, p[0]}, {0, o[0]}, groups,
                                                 {1, d[0]}, op), 2);
  return unbatched_like(y, x, spatial);
}

// PyTorch's pooling output size (pooling_output_shape).
int64_t pool_out(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t d, bool ceil_mode) {
  const int64_t num = in + 2 * pad - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad) --out;
  return out;
}

struct Pool2d {
  Shape k, s, p, d;
  int64_t oh, ow;
};

Pool2d pool_geometry(const Tensor& x4, const Shape& kernel_size, const Shape& stride,
                     const Shape& padding, const Shape& dilation, bool ceil_mode,
                     const std::string& op) {
  Pool2d g;
  g.k = per_dim(kernel_size, 2, op, "kernel_size");
  g.s = stride.empty() ? g.k : per_dim(stride, 2, op, "stride");
  g.p = per_dim(padding, 2, op, "padding");
  g.d = per_dim(dilation, 2, op, "dilation");
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(g.k[i] > 0, Runtime, op, "kernel_size must be greater than zero, got ",
                shape_str(kernel_size));
    EMBER_CHECK(g.s[i] > 0, Runtime, op, "stride must be greater than zero, got ", shape_str(stride));
    EMBER_CHECK(g.d[i] > 0, Runtime, op, "dilation must be greater than zero, got ",
                shape_str(dilation));
    EMBER_CHECK(g.p[i] >= 0 && g.p[i] <= (g.d[i] * (g.k[i] - 1) + 1) / 2, Runtime, op,
                "pad should be at most half of effective kernel size, but got pad=", g.p[i],
                ", kernel_size=", g.k[i], " and dilation=", g.d[i]);
  }
  g.oh = pool_out(x4.shape()[2], g.k[0], g.p[0], g.s[0], g.d[0], ceil_mode);
  g.ow = pool_out(x4.shape()[3], g.k[1], g.p[1], g.s[1], g.d[1], ceil_mode);
  EMBER_CHECK(g.oh >= 1 && g.ow >= 1, Runtime, op, "Given input size: (", x4.shape()[1], "x",
              x4.shape()[2], "x", x4.shape()[3], "). Calculated output size: (", x4.shape()[1], "x",
              g.oh, "x", g.ow, "). Output size is too small");
  return g;
}

std::pair<Tensor, Tensor> max_pool2d_impl(const Tensor& x4, const Pool2d& g, bool want_indices) {
  const int64_t n = x4.shape()[0], c = x4.shape()[1], h = x4.shape()[2], w = x4.shape()[3];
  const int64_t kk = g.k[0] * g.k[1];
  // Outside the image (padding, ceil_mode's last windows) reads -inf, so it never wins.
  Shape geo = window(g.k[0], g.k[1], g.s[0], g.s[1], g.p[0], g.p[1], g.d[0], g.d[1], g.oh, g.ow, h, w);
  // Concrete float32 CPU tensors take the fused kernel; traced ones record the composite.
  if (detail::fused_cpu_f32(x4))
    return detail::max_pool2d_fused(x4, detail::window2d(geo));
  geo.push_back(1);
  Tensor cols = im2col(reshape(x4, {n * c, 1, h, w}), geo);
  Tensor values = reshape(amax(cols, {0}), {n, c, g.oh, g.ow});
  if (!want_indices) return {values, Tensor()};
  // The flat input position of each window entry, then the one argmax picks.
  const int64_t len = g.oh * g.ow;
  std::vector<int64_t> pos(kk * len);
  for (int64_t i = 0; i < g.k[0]; ++i)
    for (int64_t j = 0; j < g.k[1]; ++j)
      for (int64_t y = 0; y < g.oh; ++y)
        for (int64_t xx = 0; xx < g.ow; ++xx)
          pos[((i * g.k[1] + j) * g.oh + y) * g.ow + xx] =
              (y * g.s[0] - g.p[0] + i * g.d[0]) * w + (xx * g.s[1] - g.p[1] + j * g.d[1]);
  Tensor arg = argmax(cols.detach(), 0); // [n*c*len]: the window entry
  Tensor at = add(mul(arg, wrapped_scalar(double(len), DType::Int64)),
                  reshape(expand(arange(0, double(len), 1, DType::Int64).to(arg.device()),
                                 {n * c, len}), {-1}));
  Tensor idx = index_select(int_tensor(pos, {kk * len}).to(arg.device()), 0, at);
  return {values, reshape(idx, {n, c, g.oh, g.ow})};
}

// Row-averaging matrix [out, in] of adaptive average pooling.
Tensor adaptive_matrix(int64_t in, int64_t out, DType dtype, Device device) {
  std::vector<double> m(out * in, 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t a = (i * in) / out, b = ((i + 1) * in + out - 1) / out;
    for (int64_t j = a; j < b; ++j) m[i * in + j] = 1.0 / double(b - a);
  }
  return float_tensor(m, {out, in}, dtype).to(device);
}

// Index of each output entry along one dim for reflect / replicate / circular padding.
std::vector<int64_t> pad_index(int64_t size, int64_t before, int64_t after, const std::string& mode) {
  std::vector<int64_t> idx;
  for (int64_t i = -before; i < size + after; ++i) {
    int64_t j = i;
    if (mode == "reflect") {
      const int64_t period = 2 * (size - 1);
      j = period ? ((i % period) + period) % period : 0;
      if (j >= size) j = period - j;
    } else if (mode == "replicate") {
      j = std::clamp<int64_t>(i, 0, size - 1);
    } else {
      j = ((i % size) + size) % size;
    }
    idx.push_back(j);
  }
  return idx;
}

// Linear interpolation matrix [out, in] (PyTorch's source index rule).
Tensor linear_matrix(int64_t in, int64_t out, std::optional<double> scale, bool align_corners,
                     DType dtype, Device device) {
  std::vector<double> m(out * in, 0.0);
  const double ratio = align_corners ? (out > 1 ? double(in - 1) / double(out - 1) : 0.0)
                                     : (scale ? 1.0 / *scale : double(in) / double(out));
  for (int64_t i = 0; i < out; ++i) {
    double src = align_corners ? i * ratio : std::max((i + 0.5) * ratio - 0.5, 0.0);
    int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
    const int64_t i1 = std::min<int64_t>(i0 + 1, in - 1);
    const double l1 = std::min(std::max(src - double(i0), 0.0), 1.0);
    m[i * in + i0] += 1 - l1;
    m[i * in + i1] += l1;
  }
  return float_tensor(m, {out, in}, dtype).to(device);
}

// Nearest source index per output entry (PyTorch's "nearest" and "nearest-exact").
Tensor nearest_index(int64_t in, int64_t out, std::optional<double> scale, bool exact) {
  const double ratio = scale ? 1.0 / *scale : double(in) / double(out);
  std::vector<int64_t> idx(out);
  for (int64_t i = 0; i < out; ++i) {
    const double src = exact ? (i + 0.5) * ratio : i * ratio;
    idx[i] = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
  }
  return int_tensor(idx, {out});
}

} // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              const Shape& padding, const Shape& dilation, int64_t groups) {
  if (autocast::Scope s{autocast::Op::Conv, {x, weight, bias}})
    return conv2d(s[0], s[1], s[2], stride, padding, dilation, groups);
  return conv_nd(x, weight, bias, stride, padding, PaddingMode::Valid, dilation, groups, 2,
                 "ember.conv2d");
}
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              const Shape& padding, const Shape& dilation, int64_t groups) {
  if (autocast::Scope s{autocast::Op::Conv, {x, weight, bias}})
    return conv1d(s[0], s[1], s[2], stride, padding, dilation, groups);
  return conv_nd(x, weight, bias, stride, padding, PaddingMode::Valid, dilation, groups, 1,
                 "ember.conv1d");
}
PaddingMode padding_mode_from(const std::string& name, const char* op) {
  if (name == "same") return PaddingMode::Same;
  if (name == "valid") return PaddingMode::Valid;
  fail(ErrorKind::Value, op, "Invalid padding string '", name, "'; use 'same', 'valid' or numbers");
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              PaddingMode padding, const Shape& dilation, int64_t groups) {
  if (autocast::Scope s{autocast::Op::Conv, {x, weight, bias}})
    return conv2d(s[0], s[1], s[2], stride, padding, dilation, groups);
  return conv_nd(x, weight, bias, stride, std::nullopt, padding, dilation, groups, 2, "ember.conv2d");
}
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              PaddingMode padding, const Shape& dilation, int64_t groups) {
  if (autocast::Scope s{autocast::Op::Conv, {x, weight, bias}})
    return conv1d(s[0], s[1], s[2], stride, padding, dilation, groups);
  return conv_nd(x, weight, bias, stride, std::nullopt, padding, dilation, groups, 1, "ember.conv1d");
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Shape& stride, const Shape& padding, const Shape& output_padding,
                        int64_t groups, const Shape& dilation) {
  if (autocast::Scope s{autocast::Op::ConvTranspose, {x, weight, bias}})
    return conv_transpose2d(s[0], s[1], s[2], stride, padding, output_padding, groups, dilation);
  return conv_transpose_nd(x, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "ember.conv_transpose2d");
}
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Shape& stride, const Shape& padding, const Shape& output_padding,
                        int64_t groups, const Shape& dilation) {
  if (autocast::Scope s{autocast::Op::ConvTranspose, {x, weight, bias}})
    return conv_transpose1d(s[0], s[1], s[2], stride, padding, output_padding, groups, dilation);
  return conv_transpose_nd(x, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "ember.conv_transpose1d");
}

Tensor unfold(const Tensor& x, const Shape& kernel_size, const Shape& dilation,
              const Shape& padding, const Shape& stride) {
  const std::string op = "ember.unfold";
  check_floating(x, op);
  Tensor xb = batched(x, 2, op);
  Shape k = per_dim(kernel_size, 2, op, "kernel_size"), d = per_dim(dilation, 2, op, "dilation");
  Shape p = per_dim(padding, 2, op, "padding"), s = per_dim(stride, 2, op, "stride");
  const int64_t n = xb.shape()[0], c = xb.shape()[1], h = xb.shape()[2], w = xb.shape()[3];
  int64_t o[2];
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(k[i] > 0 && d[i] > 0 && s[i] > 0 && p[i] >= 0, Runtime, op, "kernel_size, "
                "dilation and stride must be positive and padding non-negative");
    o[i] = (xb.shape()[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
    EMBER_CHECK(xb.shape()[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1 >= 0, Runtime, op,
                "Given input with spatial size (", h, ", ", w, "), kernel_size ", shape_str(k),
                ", dilation ", shape_str(d), ", padding ", shape_str(p),
                ", calculated shape of the array of sliding blocks is non-positive");
  }
  Tensor cols = im2col(xb, window(k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], o[0], o[1], h, w));
  const int64_t rows = c * k[0] * k[1], len = o[0] * o[1];
  Tensor y = reshape(nchw(cols, n, rows, 1, len), {n, rows, len});
  return unbatched_like(y, x, 2);
}

Tensor fold(const Tensor& cols, const Shape& output_size, const Shape& kernel_size,
            const Shape& dilation, const Shape& padding, const Shape& stride) {
  const std::string op = "ember.fold";
  check_floating(cols, op);
  Tensor cb = batched(cols, 1, op);
  Shape out = per_dim(output_size, 2, op, "output_size");
  Shape k = per_dim(kernel_size, 2, op, "kernel_size"), d = per_dim(dilation, 2, op, "dilation");
  Shape p = per_dim(padding, 2, op, "padding"), s = per_dim(stride, 2, op, "stride");
  int64_t o[2];
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(k[i] > 0 && d[i] > 0 && s[i] > 0 && p[i] >= 0, Runtime, op, "kernel_size, "
                "dilation and stride must be positive and padding non-negative");
    o[i] = (out[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
  }
  const int64_t n = cb.shape()[0], rows = cb.shape()[1], len = cb.shape()[2], kk = k[0] * k[1];
  EMBER_CHECK(rows % kk == 0, Runtime, op, "Expected size of input's dimension 1 to be divisible "
              "by the product of kernel_size, but got input.size(1)=", rows, " and kernel_size=",
              shape_str(k));
  EMBER_CHECK(o[0] > 0 && o[1] > 0 && len == o[0] * o[1], Runtime, op, "Given output_size=",
              shape_str(out), ", kernel_size=", shape_str(k), ", dilation=", shape_str(d),
              ", padding=", shape_str(p), ", stride=", shape_str(s), ", expected size of input's "
              "dimension 2 to match the calculated number of sliding blocks ", o[0], " * ", o[1],
              " = ", o[0] * o[1], ", but got input.size(2)=", len);
  Tensor c = reshape(permute(cb, {1, 0, 2}), {rows, n * len});
  Tensor y = col2im(c, window(k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], o[0], o[1], out[0], out[1]));
  return cols.dim() == 2 ? squeeze(y, 0) : y;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride, const Shape& padding,
                                                  const Shape& dilation, bool ceil_mode) {
  const std::string op = "ember.max_pool2d";
  check_floating(x, op);
  Tensor xb = batched(x, 2, op);
  Pool2d g = pool_geometry(xb, kernel_size, stride, padding, dilation, ceil_mode, op);
  auto [v, i] = max_pool2d_impl(xb, g, true);
  return {unbatched_like(v, x, 2), unbatched_like(i, x, 2)};
}

Tensor max_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride,
                  const Shape& padding, const Shape& dilation, bool ceil_mode) {
  const std::string op = "ember.max_pool2d";
  check_floating(x, op);
  Tensor xb = batched(x, 2, op);
  Pool2d g = pool_geometry(xb, kernel_size, stride, padding, dilation, ceil_mode, op);
  return unbatched_like(max_pool2d_impl(xb, g, false).first, x, 2);
}

std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride, const Shape& padding,
                                                  const Shape& dilation, bool ceil_mode) {
  const std::string op = "ember.max_pool1d";
  check_floating(x, op);
  Tensor xb = unsqueeze(batched(x, 1, op), 2);
  auto one = [&](const Shape& v, const char* what) { return Shape{1, per_dim(v, 1, op, what)[0]}; };
  Pool2d g = pool_geometry(xb, one(kernel_size, "kernel_size"),
                           stride.empty() ? Shape{} : one(stride, "stride"),
                           {0, per_dim(padding, 1, op, "padding")[0]}, one(dilation, "dilation"),
                           ceil_mode, op);
  auto [v, i] = max_pool2d_impl(xb, g, true);
  return {unbatched_like(squeeze(v, 2), x, 1), unbatched_like(squeeze(i, 2), x, 1)};
}

Tensor avg_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride,
                  const Shape& padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  const std::string op = "ember.avg_pool2d";
  check_floating(x, op);
  EMBER_CHECK(!divisor_override || *divisor_override != 0, Runtime, op, "divisor must be not zero");
  Tensor xb = batched(x, 2, op);
  Pool2d g = pool_geometry(xb, kernel_size, stride, padding, {1}, ceil_mode, op);
  const int64_t n = xb.shape()[0], c = xb.shape()[1], h = xb.shape()[2], w = xb.shape()[3];
  Tensor cols = im2col(reshape(xb, {n * c, 1, h, w}),
                       window(g.k[0], g.k[1], g.s[0], g.s[1], g.p[0], g.p[1], 1, 1, g.oh, g.ow, h, w));
  Tensor sums = reshape(sum(cols, {0}), {n, c, g.oh, g.ow});
  // PyTorch's divisor per window: the padded window clipped to the padded input (or to the
  // input without count_include_pad).
  std::vector<double> div_(g.oh * g.ow);
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t xx = 0; xx < g.ow; ++xx) {
      int64_t hs = y * g.s[0] - g.p[0], ws = xx * g.s[1] - g.p[1];
      int64_t he = std::min(hs + g.k[0], h + g.p[0]), we = std::min(ws + g.k[1], w + g.p[1]);
      const int64_t pool = (he - hs) * (we - ws);
      hs = std::max<int64_t>(hs, 0), ws = std::max<int64_t>(ws, 0);
      he = std::min(he, h), we = std::min(we, w);
      div_[y * g.ow + xx] = divisor_override ? double(*divisor_override)
                            : count_include_pad ? double(pool)
                                                : double((he - hs) * (we - ws));
    }
  Tensor y = div(sums, float_tensor(div_, {g.oh, g.ow}, x.dtype()).to(x.device()));
  return unbatched_like(y, x, 2);
}

Tensor avg_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride,
                  const Shape& padding, bool ceil_mode, bool count_include_pad) {
  const std::string op = "ember.avg_pool1d";
  Tensor xb = unsqueeze(batched(x, 1, op), 2);
  Shape s = stride.empty() ? Shape{} : Shape{1, per_dim(stride, 1, op, "stride")[0]};
  Tensor y = avg_pool2d(xb, {1, per_dim(kernel_size, 1, op, "kernel_size")[0]}, s,
                        {0, per_dim(padding, 1, op, "padding")[0]}, ceil_mode, count_include_pad);
  return unbatched_like(squeeze(y, 2), x, 1);
}

Tensor adaptive_avg_pool2d(const Tensor& x, const Shape& output_size) {
  const std::string op = "ember.adaptive_avg_pool2d";
  check_floating(x, op);
  autocast::Exclude no_autocast; // one op in PyTorch, on no autocast list: no casts inside
  Tensor xb = batched(x, 2, op);
  Shape o = per_dim(output_size, 2, op, "output_size");
  for (int i = 0; i < 2; ++i) {
    if (o[i] < 0) o[i] = xb.shape()[2 + i];
    EMBER_CHECK(o[i] > 0 && xb.shape()[2 + i] > 0, Runtime, op, "expected a non-empty input and "
                "output size, got input ", shape_str(x.shape()), " and output_size ", shape_str(o));
  }
  // Average pooling over adaptive windows is separable: P_h @ x @ P_w^T, computed as
  // ((x @ P_w^T)^T @ P_h^T)^T so that each constant is a 2-D right operand (a constant left
  // operand broadcast over the batch is a batch-sized constant, which dynamic=True refuses),
  // and the transposes move the narrowed x @ P_w^T.
  Tensor pw = transpose(adaptive_matrix(xb.shape()[3], o[1], x.dtype(), x.device()), 0, 1);
  Tensor ph = transpose(adaptive_matrix(xb.shape()[2], o[0], x.dtype(), x.device()), 0, 1);
  Tensor y = transpose(matmul(transpose(matmul(xb, pw), 2, 3), ph), 2, 3);
  return unbatched_like(y, x, 2);
}

Tensor adaptive_avg_pool1d(const Tensor& x, const Shape& output_size) {
  const std::string op = "ember.adaptive_avg_pool1d";
  check_floating(x, op);
  autocast::Exclude no_autocast;
  Tensor xb = batched(x, 1, op);
  int64_t o = per_dim(output_size, 1, op, "output_size")[0];
  if (o < 0) o = xb.shape()[2];
  EMBER_CHECK(o > 0 && xb.shape()[2] > 0, Runtime, op, "expected a non-empty input and output "
              "size, got input ", shape_str(x.shape()), " and output_size ", o);
  Tensor y = matmul(xb, transpose(adaptive_matrix(xb.shape()[2], o, x.dtype(), x.device()), 0, 1));
  return unbatched_like(y, x, 1);
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (autocast::mixed_norm(x, {running_mean, running_var, weight, bias}))
    return cast(batch_norm(cast(x, DType::Float32), running_mean, running_var, weight, bias,
                           training, momentum, eps), x.dtype());
  const std::string op = "ember.batch_norm";
  check_floating(x, op);
  EMBER_CHECK(x.dim() >= 2, Value, op, "expected an input [N, C, ...], got shape ",
              shape_str(x.shape()));
  const int64_t c = x.shape()[1];
  Shape pshape(x.dim(), 1), dims{0};
  pshape[1] = c;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  for (const Tensor* t : {&running_mean, &running_var, &weight, &bias})
    EMBER_CHECK(!t->defined() || t->shape() == Shape{c}, Runtime, op, "running stats, weight and "
                "bias must have shape [", c, "] for input of shape ", shape_str(x.shape()),
                ", got ", shape_str(t->shape()));
  Tensor y;
  if (training) {
    const int64_t count = x.numel() / std::max<int64_t>(c, 1);
    EMBER_CHECK(count > 1, Value, op, "Expected more than 1 value per channel when training, got "
                "input size ", shape_str(x.shape()));
    // Traced, the running stats must be the compiled function's state (a module's buffers),
    // whose in-place updates ember.compile writes back after each call.
    auto is_state = [](const Tensor& t) {
      return !t.defined() || detail::traced_state(t).unsafe_impl() != t.unsafe_impl();
    };
    EMBER_CHECK(!x.is_symbolic() || (is_state(running_mean) && is_state(running_var)),
                NotImplemented, op, "updating running_mean / running_var in place can be "
                "traced only for a module's buffers (ember.compile of the module or a function "
                "that uses it); pass None for the running stats, or compile the evaluation-mode call");
    Tensor m = mean(x, dims, true), centered = sub(x, m);
    Tensor v = mean(mul(centered, centered), dims, true);
    // The weight folds into the per-channel factor: one pass over x fewer.
    Tensor factor = rsqrt(add(v, scalar(eps)));
    if (weight.defined()) factor = mul(factor, reshape(weight, pshape));
    y = mul(centered, factor);
    GradModeGuard no_grad(false);
    if (running_mean.defined()) {
      Tensor rm = running_mean;
      copy_(rm, add(mul(running_mean, scalar(1 - momentum)),
                    mul(reshape(m.detach(), {c}), scalar(momentum))));
    }
    if (running_var.defined()) {
      Tensor rv = running_var;
      Tensor unbiased = mul(reshape(v.detach(), {c}), scalar(double(count) / double(count - 1)));
      copy_(rv, add(mul(running_var, scalar(1 - momentum)), mul(unbiased, scalar(momentum))));
    }
  } else {
    EMBER_CHECK(running_mean.defined() && running_var.defined(), Runtime, op,
                "running_mean and running_var must be defined in evaluation mode");
    // y = x * scale + shift with per-channel scale and shift: two passes over x.
    Tensor scale = rsqrt(add(reshape(running_var, pshape), scalar(eps)));
    if (weight.defined()) scale = mul(scale, reshape(weight, pshape));
    Tensor shift = neg(mul(reshape(running_mean, pshape), scale));
    if (bias.defined()) shift = add(shift, reshape(bias, pshape));
    return add(mul(x, scale), shift);
  }
  return bias.defined() ? add(y, reshape(bias, pshape)) : y;
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  if (autocast::Scope s{autocast::Op::GroupNorm, {x, weight, bias}})
    return group_norm(s[0], num_groups, s[1], s[2], eps);
  if (autocast::mixed_norm(x, {weight, bias}))
    return cast(group_norm(cast(x, DType::Float32), num_groups, weight, bias, eps), x.dtype());
  const std::string op = "ember.group_norm";
  check_floating(x, op);
  EMBER_CHECK(x.dim() >= 2, Value, op, "expected an input [N, C, ...], got shape ",
              shape_str(x.shape()));
  const int64_t n = x.shape()[0], c = x.shape()[1];
  EMBER_CHECK(num_groups > 0 && c % num_groups == 0, Value, op, "Expected number of channels in "
              "input to be divisible by num_groups, but got input of shape ", shape_str(x.shape()),
              " and num_groups=", num_groups);
  for (const Tensor* t : {&weight, &bias})
    EMBER_CHECK(!t->defined() || t->shape() == Shape{c}, Runtime, op, "weight and bias must have "
                "shape [", c, "], got ", shape_str(t->shape()));
  Tensor g = reshape(x, {n, num_groups, -1});
  Tensor centered = sub(g, mean(g, {2}, true));
  Tensor v = mean(mul(centered, centered), {2}, true);
  Tensor y = reshape(mul(centered, rsqrt(add(v, scalar(eps)))), x.shape());
  Shape pshape(x.dim(), 1);
  pshape[1] = c;
  if (weight.defined()) y = mul(y, reshape(weight, pshape));
  return bias.defined() ? add(y, reshape(bias, pshape)) : y;
}

Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  EMBER_CHECK(x.dim() >= 3, Value, "ember.instance_norm", "expected an input [N, C, *spatial], got "
              "shape ", shape_str(x.shape()));
  return group_norm(x, x.shape()[1], weight, bias, eps);
}

Tensor pad(const Tensor& x, const Shape& p, const std::string& mode, double value) {
  if (mode == "reflect" || mode == "replicate")
    if (autocast::Scope s{autocast::Op::PadReflectReplicate, {x}}) return pad(s[0], p, mode, value);
  const std::string op = "ember.pad";
  EMBER_CHECK(p.size() % 2 == 0 && int64_t(p.size()) / 2 <= x.dim(), Value, op, "Padding length "
              "must be divisible by 2 and at most twice the input's rank, got ", p.size(),
              " entries for input of shape ", shape_str(x.shape()));
  const int64_t k = int64_t(p.size()) / 2;
  Tensor y = x;
  if (mode == "constant") {
    for (int64_t i = 0; i < k; ++i) {
      const int64_t d = x.dim() - 1 - i;
      int64_t before = p[2 * i], after = p[2 * i + 1];
      const int64_t size = y.shape()[d];
      EMBER_CHECK(size + before + after >= 0, Value, op, "the padding ", shape_str(p),
                  " makes dimension ", d, " of ", shape_str(x.shape()), " negative");
      // Negative entries crop.
      if (before < 0 || after < 0) {
        const int64_t start = std::max<int64_t>(0, -before), stop = size - std::max<int64_t>(0, -after);
        y = slice(y, d, start, std::max(start, stop), 1);
        before = std::max<int64_t>(before, 0), after = std::max<int64_t>(after, 0);
      }
      std::vector<Tensor> parts;
      Shape side = y.shape();
      if (before) {
        side[d] = before;
        parts.push_back(full(side, value, x.dtype(), x.device()));
      }
      parts.push_back(y);
      if (after) {
        side[d] = after;
        parts.push_back(full(side, value, x.dtype(), x.device()));
      }
      if (parts.size() > 1) y = cat(parts, d);
    }
    return y;
  }
  EMBER_CHECK(mode == "reflect" || mode == "replicate" || mode == "circular", NotImplemented, op,
              "padding mode '", mode, "' is not supported; use 'constant', 'reflect', "
              "'replicate' or 'circular'");
  EMBER_CHECK(k <= x.dim() - 1 && k >= 1, NotImplemented, op, "only the last ", x.dim() - 1,
              " dimensions can be padded in ", mode, " mode (input ", shape_str(x.shape()),
              ", pad ", shape_str(p), ")");
  for (int64_t i = 0; i < k; ++i) {
    const int64_t d = x.dim() - 1 - i, size = x.shape()[d], before = p[2 * i], after = p[2 * i + 1];
    if (mode == "reflect")
      EMBER_CHECK(before < size && after < size && before >= 0 && after >= 0, Runtime, op,
                  "Padding size should be less than the corresponding input dimension, but got: "
                  "padding (", before, ", ", after, ") at dimension ", d, " of input ",
                  shape_str(x.shape()));
    else if (mode == "circular")
      EMBER_CHECK(before <= size && after <= size && before >= 0 && after >= 0, Runtime, op,
                  "Padding value causes wrapping around more than once (padding (", before, ", ",
                  after, ") at dimension ", d, " of input ", shape_str(x.shape()), ")");
    else
      EMBER_CHECK(size > 0 && before >= 0 && after >= 0, Runtime, op, "cannot replicate-pad "
                  "dimension ", d, " of input ", shape_str(x.shape()), " by (", before, ", ", after, ")");
    // Gather only the borders; cat copies the bulk.
    std::vector<int64_t> idx = pad_index(size, before, after, mode);
    std::vector<int64_t> lo(idx.begin(), idx.begin() + before), hi(idx.end() - after, idx.end());
    std::vector<Tensor> parts;
    if (before) parts.push_back(index_select(y, d, int_tensor(lo, {before})));
    parts.push_back(y);
    if (after) parts.push_back(index_select(y, d, int_tensor(hi, {after})));
    if (parts.size() > 1) y = cat(parts, d);
  }
  return y;
}

Tensor interpolate(const Tensor& x, const Shape& size, const std::vector<double>& scale_factor,
                   const std::string& mode, bool align_corners) {
  if (autocast::Scope s{autocast::Op::Interpolate, {x}})
    return interpolate(s[0], size, scale_factor, mode, align_corners);
  autocast::Exclude no_autocast; // the CPU's upsampling is on no list: its matmuls stay uncast
  const std::string op = "ember.interpolate";
  check_floating(x, op);
  const int64_t spatial = x.dim() - 2;
  EMBER_CHECK(spatial >= 1 && spatial <= 2, NotImplemented, op, "expects a 3-D or 4-D input "
              "[N, C, *spatial], got shape ", shape_str(x.shape()));
  EMBER_CHECK(size.empty() != scale_factor.empty(), Value, op,
              "only one of size or scale_factor should be defined");
  Shape out(spatial);
  std::vector<std::optional<double>> scales(spatial);
  for (int64_t i = 0; i < spatial; ++i) {
    const int64_t in = x.shape()[2 + i];
    if (!size.empty()) {
      out[i] = per_dim(size, spatial, op, "size")[i];
    } else {
      const double f = scale_factor.size() == 1 ? scale_factor[0] : scale_factor.at(i);
      EMBER_CHECK(int64_t(scale_factor.size()) == 1 || int64_t(scale_factor.size()) == spatial,
                  Value, op, "scale_factor must have 1 or ", spatial, " entries");
      EMBER_CHECK(f > 0, Value, op, "scale_factor must be positive, got ", f);
      out[i] = int64_t(std::floor(double(in) * f));
      scales[i] = f;
    }
    EMBER_CHECK(out[i] > 0 && in > 0, Value, op, "input and output sizes should be greater than "
                "0, but got input ", shape_str(x.shape()), " and output size ", shape_str(out));
  }
  const bool linear = mode == "linear" || mode == "bilinear";
  if (linear) {
    EMBER_CHECK((mode == "linear") == (spatial == 1), NotImplemented, op, "mode '", mode,
                "' expects a ", mode == "linear" ? "3-D" : "4-D", " input, got shape ",
                shape_str(x.shape()));
    Tensor y = x;
    // Separable: A_h @ x @ A_w^T.
    const int64_t last = x.dim() - 1;
    y = matmul(y, transpose(linear_matrix(x.shape()[last], out[spatial - 1], scales[spatial - 1],
                                          align_corners, x.dtype(), x.device()), 0, 1));
    if (spatial == 2)
      y = matmul(linear_matrix(x.shape()[2], out[0], scales[0], align_corners, x.dtype(), x.device()), y);
    return y;
  }
  EMBER_CHECK(mode == "nearest" || mode == "nearest-exact", NotImplemented, op, "mode '", mode,
              "' is not supported; use 'nearest', 'nearest-exact', 'linear' or 'bilinear'");
  Tensor y = x;
  for (int64_t i = 0; i < spatial; ++i)
    y = index_select(y, 2 + i, nearest_index(x.shape()[2 + i], out[i], scales[i],
                                             mode == "nearest-exact"));
  return y;
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  if (autocast::Scope s{autocast::Op::ScaledDotProductAttention, {q, k, v, attn_mask}})
    return scaled_dot_product_attention(s[0], s[1], s[2], s[3], dropout_p, is_causal, scale);
  const std::string op = "ember.scaled_dot_product_attention";
  EMBER_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, Value, op, "expects query, key and "
              "value with at least 2 dims, got ", shape_str(q.shape()), ", ", shape_str(k.shape()),
              ", ", shape_str(v.shape()));
  EMBER_CHECK(q.shape().back() == k.shape().back() && k.shape()[k.dim() - 2] == v.shape()[v.dim() - 2],
              Runtime, op, "query ", shape_str(q.shape()), ", key ", shape_str(k.shape()),
              " and value ", shape_str(v.shape()), " disagree: query and key need the same "
              "embedding size, key and value the same sequence length");
  EMBER_CHECK(!(is_causal && attn_mask.defined()), Runtime, op,
              "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True");
  const int64_t l = q.shape()[q.dim() - 2], s = k.shape()[k.dim() - 2];
  const double sc = scale ? *scale : 1.0 / std::sqrt(double(q.shape().back()));
  Tensor scores = mul(matmul(q, transpose(k, -2, -1)), scalar(sc));
  const Tensor ninf = scalar(-std::numeric_limits<double>::infinity());
  if (is_causal) {
    Tensor mask = ge(unsqueeze(arange(0, double(l), 1, DType::Int64), 1),
                     unsqueeze(arange(0, double(s), 1, DType::Int64), 0)).to(q.device());
    scores = where(mask, scores, ninf);
  } else if (attn_mask.defined()) {
    scores = attn_mask.dtype() == DType::Bool ? where(attn_mask, scores, ninf) : add(scores, attn_mask);
  }
  Tensor attn = softmax(scores, -1);
  if (dropout_p > 0) attn = dropout(attn, dropout_p, true);
  return matmul(attn, v);
}

} // namespace ember::nn::functional
