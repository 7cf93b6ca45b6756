// Pointwise composites: written with the op records, so they have gradients and compile where
// their records do.
#include "ember/PointwiseOps.h"

#include "ember/Autocast.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <limits>

namespace ember {
namespace {

void require_floating(const Tensor& a, const char* op) {
  EMBER_CHECK(is_floating(a.dtype()), NotImplemented, op, "is only implemented for floating "
              "point tensors, got ", dtype_name(a.dtype()), "; convert with .to(ember.float32)");
}

double largest(DType d) {
  switch (d) {
  case DType::Float16: return 65504.0;
  case DType::BFloat16: return 3.3895313892515355e38;
  case DType::Float32: return std::numeric_limits<float>::max();
  default: return std::numeric_limits<double>::max();
  }
}

} // namespace

Tensor square(const Tensor& a) {
  if (a.dtype() == DType::Bool) return mul(a.to(DType::Int64), a.to(DType::Int64));
  return mul(a, a);
}

Tensor frac(const Tensor& a) {
  require_floating(a, "ember.frac");
  return sub(a, trunc(a));
}

Tensor float_power(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(!(grad_enabled() && (a.requires_grad() || b.requires_grad())), NotImplemented,
              "ember.float_power", "gradients of float_power need a differentiable float64 "
              "cast, which ember does not have yet; use pow on float64 tensors instead");
  return pow(a.to(DType::Float64), b.to(DType::Float64));
}

Tensor isposinf(const Tensor& a) { return eq(a, scalar(std::numeric_limits<double>::infinity())); }
Tensor isneginf(const Tensor& a) { return eq(a, scalar(-std::numeric_limits<double>::infinity())); }

Tensor nan_to_num(const Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  if (!is_floating(a.dtype())) return copy_from(a.raw_data(), a.dtype(), a.shape(), a.strides());
  const double big = largest(a.dtype());
  Tensor out = where(isneginf(a), scalar(neginf.value_or(-big)), a);
  out = where(isposinf(a), scalar(posinf.value_or(big)), out);
  return where(isnan(a), scalar(nan.value_or(0)), out);
}

Tensor lerp(const Tensor& a, const Tensor& end, const Tensor& weight) {
  const char* ctx = "ember.lerp";
  require_floating(a, ctx);
  EMBER_CHECK(end.dtype() == a.dtype(), Runtime, ctx, "expected dtype ", dtype_name(a.dtype()),
              " for `end` but got dtype ", dtype_name(end.dtype()));
  EMBER_CHECK(weight.dim() == 0 || weight.dtype() == a.dtype(), Runtime, ctx,
              "expected dtype ", dtype_name(a.dtype()), " for `weight` but got dtype ",
              dtype_name(weight.dtype()));
  // PyTorch's form: exact at both ends, from whichever end the weight is closer to.
  const Tensor diff = sub(end, a);
  const Tensor from_a = add(a, mul(weight, diff));
  const Tensor from_end = sub(end, mul(diff, sub(scalar(1), weight)));
  if (weight.is_wrapped_number() && !weight.is_symbolic())
    return std::abs(weight.item()) < 0.5 ? from_a : from_end;
  return where(lt(abs(weight), scalar(0.5)), from_a, from_end);
}

namespace {
// `value` as PyTorch passes it to addcmul/addcdiv: truncated for integer results.
Tensor scale_value(double value, const std::vector<Tensor>& in) {
  const DType d = result_type(in);
  if (is_floating(d)) return scalar(value);
  return wrapped_scalar(std::trunc(value), d == DType::Bool ? DType::Bool : DType::Int64);
}
} // namespace

Tensor addcmul(const Tensor& a, const Tensor& t1, const Tensor& t2, double value) {
  if (autocast::Scope s{autocast::Op::AddCMul, {a, t1, t2}}) return addcmul(s[0], s[1], s[2], value);
  return add(a, mul(mul(scale_value(value, {a, t1, t2}), t1), t2));
}

Tensor addcdiv(const Tensor& a, const Tensor& t1, const Tensor& t2, double value) {
  if (autocast::Scope s{autocast::Op::AddCDiv, {a, t1, t2}}) return addcdiv(s[0], s[1], s[2], value);
  EMBER_CHECK(is_floating(t1.dtype()) || is_floating(t2.dtype()), Runtime, "ember.addcdiv",
              "integer division with addcdiv is not supported (tensor1 is ",
              dtype_name(t1.dtype()), ", tensor2 is ", dtype_name(t2.dtype()),
              "); convert one of them to a floating point dtype");
  return add(a, div(mul(scalar(value), t1), t2));
}

Tensor clamp(const Tensor& a, const Tensor& lo, const Tensor& hi) {
  EMBER_CHECK(lo.defined() || hi.defined(), Runtime, "ember.clamp",
              "at least one of 'min' or 'max' must not be None");
  // Number bounds (PyTorch's clamp with Python numbers): a value at the bound takes it and gets
  // no gradient; tensor bounds: maximum/minimum (ties split the gradient), as in PyTorch.
  // (The same values either way: the where form only where a gradient will be taken; a NaN
  // stays NaN and, as in PyTorch, gets no gradient.)
  const bool grad = a.requires_grad() && grad_enabled();
  auto bound = [grad](const Tensor& x, const Tensor& b, bool lower) {
    if (!grad || !b.is_wrapped_number()) return lower ? maximum(x, b) : minimum(x, b);
    return where(lower ? le(x, b) : ge(x, b), b, where(isnan(x), x.detach(), x));
  };
  const Tensor low = lo.defined() ? bound(a, lo, true) : a;
  return hi.defined() ? bound(low, hi, false) : low;
}

} // namespace ember
