// The indexing primitives' attribute normalization, shape rules and eager CPU kernels: Gather,
// ScatterAdd, Scatter (one strided walk over the index), ArgSort (stable, NaN largest) and
// Unfold (a view).
#include "IndexKernels.h"

#include "ember/kernels/Elementwise.h"
#include "ember/kernels/Sort.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ember::detail {
namespace {

std::string ctx_of(Prim p) { return std::string("ember.") + prim_name(p); }

int64_t wrap(int64_t d, int64_t rank, Prim p) {
  const int64_t r = std::max<int64_t>(rank, 1);
  EMBER_CHECK(d >= -r && d < r, Index, ctx_of(p), "dimension ", d,
              " is out of range for a tensor of rank ", rank, " (expected in [", -r, ", ", r - 1, "])");
  return d < 0 ? d + r : d;
}

// Size of dim d, treating a 0-d tensor as one element.
int64_t size_at(const Shape& s, int64_t d) { return s.empty() ? 1 : s[d]; }

// Gather / scatter shape checks (PyTorch's messages).
void check_index_shapes(Prim p, const Shape& self, const Shape& index, const Shape* src, int64_t dim) {
  const std::string ctx = ctx_of(p);
  EMBER_CHECK(std::max<size_t>(index.size(), 1) == std::max<size_t>(self.size(), 1) ||
                  numel_of(index) == 0, Runtime, ctx,
              "index tensor must have the same number of dimensions as the input tensor (index ",
              shape_str(index), ", input ", shape_str(self), ")");
  if (src)
    EMBER_CHECK(std::max<size_t>(index.size(), 1) == std::max<size_t>(src->size(), 1) ||
                    numel_of(index) == 0, Runtime, ctx,
                "index tensor must have the same number of dimensions as the src tensor (index ",
                shape_str(index), ", src ", shape_str(*src), ")");
  if (numel_of(index) == 0) return;
  for (size_t d = 0; d < index.size(); ++d) {
    EMBER_CHECK(int64_t(d) == dim || index[d] <= size_at(self, d), Runtime, ctx,
                "size does not match at dimension ", d, ": expected index ", shape_str(index),
                " to be no larger than self ", shape_str(self), " apart from dimension ", dim);
    if (src)
      EMBER_CHECK(index[d] <= size_at(*src, d), Runtime, ctx, "size does not match at dimension ",
                  d, ": expected index ", shape_str(index), " to be no larger than src ",
                  shape_str(*src));
  }
}

// Strides of t for the walk over the index: one per index dimension (at least one), with the
// indexed dimension zeroed (the index supplies it).
Shape walk_strides(const Tensor& t, size_t rank, int64_t zero_dim) {
  Shape s(std::max<size_t>(rank, 1), 0);
  for (size_t d = 0; d < t.strides().size() && d < s.size(); ++d) s[d] = t.strides()[d];
  if (zero_dim >= 0) s[zero_dim] = 0;
  return s;
}

// The index as contiguous int64, every entry checked against [0, bound).
Tensor checked_index(Prim p, const Tensor& index, int64_t dim, int64_t bound) {
  Tensor idx = index.to(DType::Int64).contiguous();
  const int64_t* ix = idx.data<int64_t>();
  for (int64_t i = 0, n = idx.numel(); i < n; ++i)
    EMBER_CHECK(ix[i] >= 0 && ix[i] < bound, Runtime, ctx_of(p), "index ", ix[i],
                " is out of bounds for dimension ", dim, " with size ", bound);
  return idx;
}

} // namespace

bool is_index_prim(Prim p) {
  return p == Prim::Gather || p == Prim::ScatterAdd || p == Prim::Scatter || p == Prim::ArgSort ||
         p == Prim::Unfold;
}

Attrs index_prim_normalize(Prim p, const std::vector<Shape>& in, const Attrs& attrs) {
  Attrs out = attrs;
  EMBER_CHECK(!attrs.ints.empty(), Runtime, ctx_of(p), "missing the dimension attribute");
  out.ints[0] = wrap(attrs.ints[0], in.empty() ? 0 : int64_t(in[0].size()), p);
  return out;
}

Shape index_prim_shape(Prim p, const std::vector<Shape>& in, const Attrs& attrs) {
  const std::string ctx = ctx_of(p);
  const int64_t dim = attrs.ints[0];
  switch (p) {
  case Prim::Gather:
    check_index_shapes(p, in[0], in[1], nullptr, dim);
    return in[1];
  case Prim::ScatterAdd:
  case Prim::Scatter:
    check_index_shapes(p, in[0], in[1], &in[2], dim);
    return in[0];
  case Prim::ArgSort: {
    Shape out = in[0];
    const int64_t k = attrs.ints.size() > 2 ? attrs.ints[2] : -1, n = size_at(in[0], dim);
    EMBER_CHECK(k <= n, Runtime, ctx, "selected index k out of range (k = ", k, ", dimension ",
                dim, " has size ", n, ")");
    if (k >= 0 && !out.empty()) out[dim] = k;
    return out;
  }
  case Prim::Unfold: {
    const int64_t size = attrs.ints[1], step = attrs.ints[2], n = size_at(in[0], dim);
    EMBER_CHECK(step > 0, Runtime, ctx, "step is ", step, " but must be > 0");
    EMBER_CHECK(size >= 0 && size <= n, Runtime, ctx, "maximum size for tensor at dimension ",
                dim, " is ", n, " but size is ", size);
    Shape out = in[0];
    if (!out.empty()) out[dim] = (n - size) / step + 1;
    out.push_back(size);
    return out;
  }
  default: break;
  }
  fail(ErrorKind::Runtime, ctx, "no shape rule");
}

Tensor index_prim_compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs,
                          const Shape& shape, DType dtype) {
  const int64_t dim = attrs.ints[0];
  switch (p) {
  case Prim::Gather: {
    const Tensor& a = in[0];
    Tensor out = empty(shape, dtype);
    if (out.numel() == 0) return out;
    Tensor idx = checked_index(p, in[1], dim, size_at(a.shape(), dim));
    const int64_t* ix = idx.data<int64_t>();
    Shape ws = shape.empty() ? Shape{1} : shape;
    Shape as = walk_strides(a, shape.size(), dim);
    const int64_t dstride = a.dim() ? a.strides()[dim] : 0;
    EMBER_DISPATCH(dtype, {
      const T* src = a.data<T>();
      T* dst = out.data<T>();
      const int64_t ai = as.back();
      parallel_for(out.numel(), kernels::kParallelGrain, [&](int64_t b, int64_t e) {
        kernels::for_each_span(ws.data(), int(ws.size()), as.data(), as.data(), b, e,
                               [&](int64_t o, int64_t ao, int64_t, int64_t i0, int64_t i1) {
          for (int64_t i = i0; i < i1; ++i)
            dst[o + i] = src[ao + i * ai + ix[o + i] * dstride];
        });
      });
    });
    return out;
  }
  case Prim::ScatterAdd:
  case Prim::Scatter: {
    Tensor out = in[0].to(dtype).contiguous();
    if (out.storage() == in[0].storage()) // never write into the input's memory
      out = copy_from(out.raw_data(), dtype, out.shape(), out.strides());
    const Tensor& index = in[1];
    if (index.numel() == 0) return out;
    const Tensor src = in[2].to(dtype);
    Tensor idx = checked_index(p, index, dim, size_at(out.shape(), dim));
    const int64_t* ix = idx.data<int64_t>();
    Shape ws = index.shape().empty() ? Shape{1} : index.shape();
    Shape os = walk_strides(out, index.dim(), dim), ss = walk_strides(src, index.dim(), -1);
    const int64_t dstride = out.dim() ? out.strides()[dim] : 0;
    const bool add = p == Prim::ScatterAdd;
    EMBER_DISPATCH(dtype, {
      const T* from = src.data<T>();
      T* to = out.data<T>();
      const int64_t oi = os.back(), si = ss.back();
      kernels::for_each_span(ws.data(), int(ws.size()), os.data(), ss.data(), 0, idx.numel(),
                             [&](int64_t o, int64_t oo, int64_t so, int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          T& t = to[oo + i * oi + ix[o + i] * dstride];
          const T v = from[so + i * si];
          if (add) t = static_cast<T>(static_cast<compute_t<T>>(t) + static_cast<compute_t<T>>(v));
          else t = v;
        }
      });
    });
    return out;
  }
  case Prim::ArgSort: {
    const Tensor a = in[0].contiguous();
    Tensor out = empty(shape, DType::Int64);
    if (out.numel() == 0) return out;
    const int64_t n = size_at(a.shape(), dim);
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < dim; ++i) outer *= a.shape()[i];
    for (int64_t i = dim + 1; i < a.dim(); ++i) inner *= a.shape()[i];
    const bool descending = attrs.ints.size() > 1 && attrs.ints[1];
    const int64_t k = a.dim() ? shape[dim] : 1; // the first k of the order (topk)
    EMBER_DISPATCH(a.dtype(), {
      using C = compute_t<T>;
      const T* src = a.data<T>();
      kernels::argsort_lines<C>(
          {outer * inner, n, inner}, k, descending, inner,
          [src](int64_t at) { return static_cast<C>(src[at]); },
          [n, inner](int64_t r) { return (r / inner) * n * inner + r % inner; },
          [k, inner](int64_t r) { return (r / inner) * k * inner + r % inner; },
          out.data<int64_t>());
    });
    return out;
  }
  case Prim::Unfold: {
    const Tensor& a = in[0];
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = a.storage();
    impl->offset = a.storage_offset();
    impl->dtype = a.dtype();
    impl->shape = shape;
    impl->strides = a.strides();
    const int64_t st = a.dim() ? a.strides()[dim] : 1;
    if (a.dim()) impl->strides[dim] = st * attrs.ints[2];
    impl->strides.push_back(st);
    return Tensor(std::move(impl));
  }
  default: break;
  }
  fail(ErrorKind::Runtime, ctx_of(p), "no kernel");
}

} // namespace ember::detail
