// Scans (the CumSum / CumProd primitives' eager kernel and VJP helper) and the reductions that
// are composites: var_mean, std_mean, vector_norm, count_nonzero.
#include "ember/ReductionOps.h"

#include "ember/Autocast.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/ThreadPool.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace ember {
namespace detail {

// Running sums or products along `dim`, accumulated like PyTorch's CPU kernels (double for
// float32/float64, float for 16-bit floats, int64 for integers and bool).
Tensor scan(Prim p, const Tensor& input, int64_t dim, bool reverse, DType out_dtype) {
  const Tensor a = input.contiguous();
  Tensor out = empty(a.shape(), out_dtype);
  if (a.numel() == 0) return out;
  int64_t outer = 1, n = 1, inner = 1;
  if (a.dim() > 0) {
    n = a.shape()[dim];
    for (int64_t i = 0; i < dim; ++i) outer *= a.shape()[i];
    for (int64_t i = dim + 1; i < a.dim(); ++i) inner *= a.shape()[i];
  }
  const bool is_sum = p == Prim::CumSum;
  EMBER_DISPATCH(a.dtype(), {
    using In = T;
    using C = compute_t<In>;
    using Acc = std::conditional_t<std::is_floating_point_v<C>,
                                   std::conditional_t<std::is_same_v<In, float> ||
                                                          std::is_same_v<In, double>,
                                                      double, float>,
                                   int64_t>;
    auto run = [&](auto* o) {
      using O = std::remove_pointer_t<decltype(o)>;
      const In* x = a.data<In>();
      parallel_for(outer * inner, 1024, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const int64_t base = (r / inner) * n * inner + r % inner;
          Acc acc = is_sum ? Acc(0) : Acc(1);
          for (int64_t k = 0; k < n; ++k) {
            const int64_t at = base + (reverse ? n - 1 - k : k) * inner;
            const Acc v = static_cast<Acc>(static_cast<C>(x[at]));
            acc = is_sum ? Acc(acc + v) : Acc(acc * v);
            o[at] = static_cast<O>(acc);
          }
        }
      });
    };
    if (out_dtype == DType::Int64) run(out.data<int64_t>());
    else if constexpr (std::is_floating_point_v<C>) run(out.data<In>());
  });
  return out;
}

} // namespace detail

Tensor reduction_input(const Tensor& a, std::optional<DType> dtype, const char* op) {
  if (!dtype || *dtype == a.dtype()) return a;
  EMBER_CHECK(!(grad_enabled() && a.requires_grad()), NotImplemented, op, "dtype=",
              dtype_name(*dtype), " on an input that requires grad: dtype casts do not record "
              "for autograd yet; convert with .to(...) under ember.no_grad() or drop dtype=");
  return a.to(*dtype);
}

Tensor cumsum(const Tensor& a, int64_t dim, std::optional<DType> dtype) {
  if (!dtype)
    if (autocast::Scope s{autocast::Op::CumSum, {a}}) return cumsum(s[0], dim, dtype);
  return apply(Prim::CumSum, {reduction_input(a, dtype, "ember.cumsum")}, {{dim, 0}});
}

Tensor cumprod(const Tensor& a, int64_t dim, std::optional<DType> dtype) {
  if (!dtype)
    if (autocast::Scope s{autocast::Op::CumProd, {a}}) return cumprod(s[0], dim, dtype);
  return apply(Prim::CumProd, {reduction_input(a, dtype, "ember.cumprod")}, {{dim}});
}

Tensor cumprod_backward(const Tensor& a, const Tensor& g, int64_t dim) {
  // d out_j / d a_i = prod_{l <= j, l != i} a_l. Before the first zero of a slice that is
  // out_j / a_i; at the first zero it is the running product with that zero replaced by 1;
  // after it, 0.
  auto rev_cumsum = [dim](const Tensor& t) { return apply(Prim::CumSum, {t}, {{dim, 1}}); };
  const Tensor zero = eq(a, scalar(0));
  const Tensor zeros_so_far = apply(Prim::CumSum, {zero}, {{dim, 0}});
  const Tensor before = eq(zeros_so_far, scalar(0));
  const Tensor first = logical_and(zero, eq(zeros_so_far, scalar(1)));
  const Tensor out = apply(Prim::CumProd, {a}, {{dim}});
  const Tensor part1 = where(before, div(rev_cumsum(mul(g, out)), where(before, a, scalar(1))),
                             scalar(0));
  const Tensor skipped = apply(Prim::CumProd, {where(first, scalar(1), a)}, {{dim}});
  return add(part1, where(first, rev_cumsum(mul(g, skipped)), scalar(0)));
}

std::pair<Tensor, Tensor> var_mean(const Tensor& a, const Shape& dims, double correction,
                                   bool keepdim) {
  return {var(a, dims, correction, keepdim), mean(a, dims, keepdim)};
}

std::pair<Tensor, Tensor> std_mean(const Tensor& a, const Shape& dims, double correction,
                                   bool keepdim) {
  return {ember::std(a, dims, correction, keepdim), mean(a, dims, keepdim)};
}

namespace {
// f(s) where s > 0, and 0 (with a zero gradient, as PyTorch's norm backward) where s == 0.
template <typename F>
Tensor safe_at_zero(const Tensor& s, F f) {
  const Tensor is_zero = eq(s, scalar(0));
  return where(is_zero, scalar(0), f(where(is_zero, scalar(1), s)));
}
} // namespace

Tensor vector_norm(const Tensor& input, double ord, const Shape& dims, bool keepdim,
                   std::optional<DType> dtype) {
  if (!dtype)
    if (autocast::Scope s{autocast::Op::VectorNorm, {input}})
      return vector_norm(s[0], ord, dims, keepdim, dtype);
  const char* ctx = "ember.linalg.vector_norm";
  EMBER_CHECK(is_floating(input.dtype()), NotImplemented, ctx,
              "expected a floating point tensor as input, got ", dtype_name(input.dtype()),
              "; convert with .to(ember.float32)");
  EMBER_CHECK(!dtype || is_floating(*dtype), Type, ctx, "dtype must be floating point, got ",
              dtype_name(*dtype));
  const Tensor a = reduction_input(input, dtype, ctx);
  if (std::isinf(ord)) {
    EMBER_CHECK(a.numel() > 0 || !dims.empty(), Runtime, ctx, "cannot compute the ",
                ord > 0 ? "inf" : "-inf", " norm of an empty tensor (shape ",
                shape_str(a.shape()), "): the operation has no identity");
    return ord > 0 ? amax(abs(a), dims, keepdim) : amin(abs(a), dims, keepdim);
  }
  // Counting nonzeros, with a zero gradient that still reaches a.
  if (ord == 0) return sum(where(ne(a, scalar(0)), scalar(1), mul(a, scalar(0))), dims, keepdim);
  if (ord == 1) return sum(abs(a), dims, keepdim);
  if (ord == 2)
    return safe_at_zero(sum(mul(a, a), dims, keepdim), [](const Tensor& s) { return sqrt(s); });
  return safe_at_zero(sum(pow(abs(a), scalar(ord)), dims, keepdim),
                      [ord](const Tensor& s) { return pow(s, scalar(1 / ord)); });
}

Tensor count_nonzero(const Tensor& a, const Shape& dims) { return sum(ne(a, scalar(0)), dims); }

} // namespace ember
