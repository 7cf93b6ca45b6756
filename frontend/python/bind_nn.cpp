// Python bindings of nn.functional's layers (ember._C._nn); ember/nn/functional.py gives them
// PyTorch's signatures.
#include "ember/Functional.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace ember;
namespace F = ember::nn::functional;

namespace {
Tensor opt(nb::handle h) { return h.is_none() ? Tensor() : nb::cast<Tensor>(h); }
} // namespace

void bind_nn(nb::module_& m) {
  nb::module_ f = m.def_submodule("_nn", "nn.functional layers");
  f.def("conv", [](const Tensor& x, const Tensor& w, nb::handle b, const Shape& stride,
                   nb::handle padding, const Shape& dilation, int64_t groups, int64_t spatial) {
    if (nb::isinstance<nb::str>(padding)) {
      F::PaddingMode mode = F::padding_mode_from(nb::cast<std::string>(padding),
                                                 spatial == 2 ? "ember.conv2d" : "ember.conv1d");
      return spatial == 2 ? F::conv2d(x, w, opt(b), stride, mode, dilation, groups)
                          : F::conv1d(x, w, opt(b), stride, mode, dilation, groups);
    }
    Shape p = nb::cast<Shape>(padding);
    return spatial == 2 ? F::conv2d(x, w, opt(b), stride, p, dilation, groups)
                        : F::conv1d(x, w, opt(b), stride, p, dilation, groups);
  }, nb::arg("x"), nb::arg("w"), nb::arg("b").none(), nb::arg("stride"), nb::arg("padding"),
     nb::arg("dilation"), nb::arg("groups"), nb::arg("spatial"));
  f.def("conv_transpose", [](const Tensor& x, const Tensor& w, nb::handle b, const Shape& stride,
                             const Shape& padding, const Shape& output_padding, int64_t groups,
                             const Shape& dilation, int64_t spatial) {
    return spatial == 2
               ? F::conv_transpose2d(x, w, opt(b), stride, padding, output_padding, groups, dilation)
               : F::conv_transpose1d(x, w, opt(b), stride, padding, output_padding, groups, dilation);
  }, nb::arg("x"), nb::arg("w"), nb::arg("b").none(), nb::arg("stride"), nb::arg("padding"),
     nb::arg("output_padding"), nb::arg("groups"), nb::arg("dilation"), nb::arg("spatial"));
  f.def("max_pool", [](const Tensor& x, const Shape& k, const Shape& s, const Shape& p,
                       const Shape& d, bool ceil_mode, bool indices, int64_t spatial) -> nb::object {
    if (spatial == 1) {
      auto r = F::max_pool1d_with_indices(x, k, s, p, d, ceil_mode);
      return indices ? nb::cast(r) : nb::cast(r.first);
    }
    if (!indices) return nb::cast(F::max_pool2d(x, k, s, p, d, ceil_mode));
    return nb::cast(F::max_pool2d_with_indices(x, k, s, p, d, ceil_mode));
  });
  f.def("avg_pool", [](const Tensor& x, const Shape& k, const Shape& s, const Shape& p,
                       bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor,
                       int64_t spatial) {
    return spatial == 2 ? F::avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor)
                        : F::avg_pool1d(x, k, s, p, ceil_mode, count_include_pad);
  }, nb::arg("x"), nb::arg("k"), nb::arg("s"), nb::arg("p"), nb::arg("ceil_mode"),
     nb::arg("count_include_pad"), nb::arg("divisor").none(), nb::arg("spatial"));
  f.def("adaptive_avg_pool", [](const Tensor& x, const Shape& size, int64_t spatial) {
    return spatial == 2 ? F::adaptive_avg_pool2d(x, size) : F::adaptive_avg_pool1d(x, size);
  });
  f.def("batch_norm", [](const Tensor& x, nb::handle rm, nb::handle rv, nb::handle w, nb::handle b,
                         bool training, double momentum, double eps) {
    return F::batch_norm(x, opt(rm), opt(rv), opt(w), opt(b), training, momentum, eps);
  }, nb::arg("x"), nb::arg("rm").none(), nb::arg("rv").none(), nb::arg("w").none(),
     nb::arg("b").none(), nb::arg("training"), nb::arg("momentum"), nb::arg("eps"));
  f.def("group_norm", [](const Tensor& x, int64_t g, nb::handle w, nb::handle b, double eps) {
    return F::group_norm(x, g, opt(w), opt(b), eps);
  }, nb::arg("x"), nb::arg("g"), nb::arg("w").none(), nb::arg("b").none(), nb::arg("eps"));
  f.def("instance_norm", [](const Tensor& x, nb::handle w, nb::handle b, double eps) {
    return F::instance_norm(x, opt(w), opt(b), eps);
  }, nb::arg("x"), nb::arg("w").none(), nb::arg("b").none(), nb::arg("eps"));
  f.def("unfold", &F::unfold);
  f.def("fold", &F::fold);
  f.def("pad", &F::pad);
  f.def("interpolate", &F::interpolate);
  f.def("sdpa", [](const Tensor& q, const Tensor& k, const Tensor& v, nb::handle mask, double p,
                   bool causal, std::optional<double> scale) {
    return F::scaled_dot_product_attention(q, k, v, opt(mask), p, causal, scale);
  }, nb::arg("q"), nb::arg("k"), nb::arg("v"), nb::arg("mask").none(), nb::arg("p"),
     nb::arg("causal"), nb::arg("scale").none());
  f.def("embedding", [](const Tensor& i, const Tensor& w, std::optional<int64_t> padding_idx) {
    return F::embedding(i, w, padding_idx);
  }, nb::arg("i"), nb::arg("w"), nb::arg("padding_idx").none());
  f.def("binary_cross_entropy", [](const Tensor& a, const Tensor& t, nb::handle w, const std::string& r) {
    return F::binary_cross_entropy(a, t, F::reduction_from(r, "ember.binary_cross_entropy"), opt(w));
  }, nb::arg("a"), nb::arg("t"), nb::arg("w").none(), nb::arg("r"));
  f.def("binary_cross_entropy_with_logits", [](const Tensor& a, const Tensor& t, nb::handle w,
                                               const std::string& r, nb::handle pw) {
    return F::binary_cross_entropy_with_logits(
        a, t, F::reduction_from(r, "ember.binary_cross_entropy_with_logits"), opt(w), opt(pw));
  }, nb::arg("a"), nb::arg("t"), nb::arg("w").none(), nb::arg("r"), nb::arg("pw").none());
}
