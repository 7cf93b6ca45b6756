// The primitive table and the dispatcher. Elementwise primitives come from ops/Elementwise.def;
// the structural ones (matmul, sum, reshape, transpose, expand) are written out here.
#include "ember/Ops.h"

#include "ConvOps.h"
#include "CudaOps.h"
#include "TraceState.h"
#include "ElementwiseKernels.h"
#include "FusedNorm.h"
#include "IndexKernels.h"
#include "ember/Autocast.h"
#include "ember/Graph.h"
#include "ember/ShapeOps.h"
#include "ember/kernels/Elementwise.h"
#include "ember/ops/ScalarExpr.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>
#include <type_traits>

namespace ember {
namespace detail {
// Running sums/products along `dim` (ReductionOps.cpp).
Tensor scan(Prim p, const Tensor& a, int64_t dim, bool reverse, DType out_dtype);
} // namespace detail
namespace {

std::string op_context(Prim p) { return std::string("ember.") + prim_name(p); }

using detail::DTypeRule;

DTypeRule dtype_rule(Prim p) {
  switch (p) {
#define EMBER_ELEMENTWISE(Name, name, arity, rule, ...) \
  case Prim::Name:                                      \
    return DTypeRule::rule;
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  default: return DTypeRule::Same;
  }
}

// PyTorch's combine_categories: a lower-priority group's type only counts when it is of a
// higher category (float over integer over bool).
DType combine(std::optional<DType> higher, std::optional<DType> lower) {
  if (!higher) return lower.value_or(DType::Float32);
  if (is_floating(*higher)) return *higher;
  if (lower && (*higher == DType::Bool || is_floating(*lower))) return promote_types(*higher, *lower);
  return *higher;
}

} // namespace

// The dtype an elementwise primitive computes in.
DType compute_dtype(Prim p, const std::vector<Tensor>& in) {
  DType d = result_type(in);
  const DTypeRule rule = dtype_rule(p);
  if (rule == DTypeRule::Float && !is_floating(d)) d = DType::Float32;
  if (rule == DTypeRule::Integral || rule == DTypeRule::Integer)
    EMBER_CHECK(!is_floating(d) && (rule == DTypeRule::Integral || d != DType::Bool),
                NotImplemented, op_context(p), "is only implemented for integer",
                rule == DTypeRule::Integral ? " and bool" : "", " tensors, got ", dtype_name(d));
  return d;
}

namespace {

DType output_dtype(Prim p, const std::vector<Tensor>& in) {
  if (prim_is_elementwise(p))
    return dtype_rule(p) == DTypeRule::Bool ? DType::Bool : compute_dtype(p, in);
  switch (p) {
  case Prim::MatMul:
  case Prim::BatchMatMul:
  case Prim::Cat: return result_type(in);
  case Prim::Where: return result_type({in[1], in[2]});
  case Prim::IndexSelect:
  case Prim::IndexAdd: return in[0].dtype();
  case Prim::Sum:
  case Prim::Prod:
  case Prim::CumSum:
  case Prim::CumProd: return is_floating(in[0].dtype()) ? in[0].dtype() : DType::Int64;
  case Prim::ArgMax:
  case Prim::ArgMin:
  case Prim::ArgSort: return DType::Int64;
  default: return in[0].dtype();
  }
}


int64_t wrap_dim(int64_t d, int64_t rank, Prim p) {
  const int64_t r = std::max<int64_t>(rank, 1);
  EMBER_CHECK(d >= -r && d < r, Index, op_context(p), "dimension ", d,
              " is out of range for a tensor of rank ", rank, " (expected in [", -r, ", ",
              r - 1, "])");
  return d < 0 ? d + r : d;
}

// Reduced dims as a mask over `rank` dims (all when `dims` is empty).
std::vector<bool> reduce_mask(const Shape& dims, int64_t rank, Prim p) {
  std::vector<bool> mask(rank, dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, rank, p);
    EMBER_CHECK(rank == 0 || !mask[w], Value, op_context(p), "dimension ", d,
                " appears more than once in dims");
    if (rank) mask[w] = true;
  }
  return mask;
}

// A view of `t`'s storage with a new shape and strides.
Tensor view_of(const Tensor& t, const Shape& shape, const Shape& strides) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = t.storage_offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// Strides that show (old_shape, old_strides) memory as new_shape without copying, if any
// (PyTorch's computeStride: each run of new dimensions must fit inside one contiguous chunk).
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                  const Shape& new_shape) {
  // Empty, or 0-d (to [1], [1, 1], ...): any shape of as many elements views it.
  if (old_shape.empty() || numel_of(old_shape) == 0) return contiguous_strides(new_shape);
  Shape out(new_shape.size());
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t chunk = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk = old_strides[d - 1];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

// Writes `src` (converted, broadcast) into the strided view `dst`.
void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  if (dst.is_cuda()) {
    // copy_ moves data between devices (PyTorch allows any source device).
    detail::cuda_copy(dst, src.dim() == 0 || src.device() == dst.device() ? src : src.to(dst.device()));
    return;
  }
  Tensor s = src.to(Device()).to(dst.dtype());
  Shape ss = broadcast_strides(s, dst.shape());
  EMBER_DISPATCH(dst.dtype(), {
    // Walk dst's layout: gather src into a contiguous buffer, then scatter by dst's strides.
    Tensor tmp = empty(dst.shape(), dst.dtype());
    kernels::copy<T, T>({s.data<T>(), ss.data()}, tmp.data<T>(), dst.shape().data(), int(dst.dim()));
    const T* from = tmp.data<T>();
    T* to = dst.data<T>();
    Shape zero(dst.dim(), 0);
    kernels::for_each_row(dst.shape().data(), int(dst.dim()), dst.strides().data(), zero.data(),
                          [&](int64_t row, int64_t off, int64_t) {
      const int64_t inner = dst.dim() ? dst.shape().back() : 1;
      const int64_t st = dst.dim() ? dst.strides().back() : 1;
      for (int64_t i = 0; i < inner; ++i) to[off + i * st] = from[row * inner + i];
    });
  });
}

Tensor compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs, const Shape& shape,
               DType out_dtype);

// Records that divide: on integers a zero divisor is an error, as in PyTorch.
bool divides(Prim p) {
  return p == Prim::Fmod || p == Prim::Remainder || p == Prim::FloorDivide ||
         p == Prim::TruncDivide;
}

bool has_zero(const Tensor& t) {
  const Tensor c = t.contiguous();
  bool found = false;
  EMBER_DISPATCH(c.dtype(), {
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel() && !found; ++i) found = static_cast<compute_t<T>>(p[i]) == 0;
  });
  return found;
}

// out ([batch,] m, n, dense) = a @ b in float32 for 2-D operands (batch == 1) or 3-D ones: the
// GEMM reads a row-major or transposed operand in place (x.t(), the VJPs' transposes), and
// copies only an operand that is neither.
void gemm_f32(Tensor a, Tensor b, Tensor& out, int64_t batch) {
  const int r = a.dim() == 3 ? 1 : 0;
  const int64_t m = a.shape()[r], k = a.shape()[r + 1], n = b.shape()[r + 1];
  float* o = out.data_ptr();
  if (m == 0 || n == 0 || k == 0) return std::fill(o, o + out.numel(), 0.0f);
  auto usable = [&](const Tensor& t, int64_t rows, int64_t cols) {
    const int64_t s0 = t.strides()[r], s1 = t.strides()[r + 1];
    return (s1 == 1 || cols == 1) || (s0 == 1 || rows == 1);
  };
  if (!usable(a, m, k)) a = a.contiguous();
  if (!usable(b, k, n)) b = b.contiguous();
  const int64_t as0 = a.strides()[r], as1 = a.strides()[r + 1];
  const int64_t bs0 = b.strides()[r], bs1 = b.strides()[r + 1];
  // A: any row/column strides. B: row-major (column stride 1) or transposed (row stride 1).
  const bool b_trans = !(bs1 == 1 || n == 1);
  const int64_t ldb = b_trans ? bs1 : (k == 1 ? std::max<int64_t>(bs0, n) : bs0);
  const int64_t a_batch = r ? a.strides()[0] : 0, b_batch = r ? b.strides()[0] : 0;
  auto one = [&](int64_t i) {
    kernels::matmul_f32_strided(a.data_ptr() + i * a_batch, as0, as1, b.data_ptr() + i * b_batch,
                                b_trans, ldb, o + i * m * n, m, k, n);
  };
  // At least one product per thread: threads take whole products (each then runs serially;
  // attention's [128, 64] x [64, 128] products are too small to split their columns).
  if (batch > 1 && batch >= get_num_threads()) {
    parallel_for(batch, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) one(i);
    });
    return;
  }
  for (int64_t i = 0; i < batch; ++i) one(i);
}

// The eager CPU computation of each primitive on concrete inputs.
Tensor compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs, const Shape& shape,
               DType out_dtype) {
  if (detail::is_index_prim(p)) return detail::index_prim_compute(p, in, attrs, shape, out_dtype);
  switch (p) {
#define EMBER_ELEMENTWISE(Name, ...) case Prim::Name:
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  {
    const DType cd = compute_dtype(p, in);
    Tensor out = empty(shape, out_dtype);
    if (out.numel() == 0) return out;
    const Tensor x = in[0].to(cd), y = in[prim_arity(p) - 1].to(cd);
    if (!is_floating(cd) && divides(p))
      EMBER_CHECK(!has_zero(y), Runtime, op_context(p), "ZeroDivisionError: integer division "
                  "or remainder by zero (the divisor has a zero element)");
    // An operand of the output's shape is read with its own strides (no copy of them).
    Shape xb, yb;
    const Shape& xs = x.shape() == shape ? x.strides() : (xb = broadcast_strides(x, shape));
    const Shape& ys = y.shape() == shape ? y.strides() : (yb = broadcast_strides(y, shape));
    detail::elementwise_kernel(p, x, y, xs, ys, out);
    return out;
  }
  case Prim::MatMul: {
    if (out_dtype == DType::Float32) {
      Tensor out = empty(shape, out_dtype);
      gemm_f32(in[0].to(out_dtype), in[1].to(out_dtype), out, 1);
      return out;
    }
    Tensor a = in[0].to(out_dtype).contiguous(), b = in[1].to(out_dtype).contiguous();
    Tensor out = empty(shape, out_dtype);
    const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
    {
      EMBER_DISPATCH(out_dtype, {
        using Acc = std::conditional_t<std::is_floating_point_v<compute_t<T>>, compute_t<T>, int64_t>;
        kernels::matmul_generic<T, Acc>(a.data<T>(), b.data<T>(), out.data<T>(), m, k, n);
      });
    }
    return out;
  }
  case Prim::Sum:
  case Prim::Prod:
  case Prim::Amax:
  case Prim::Amin: {
    Tensor a = in[0].contiguous();
    std::vector<bool> mask = reduce_mask(attrs.ints, a.dim(), p);
    std::unique_ptr<bool[]> m(new bool[mask.size() + 1]);
    std::copy(mask.begin(), mask.end(), m.get());
    Tensor out = empty(shape, out_dtype);
    if (a.numel() == 0 && (p == Prim::Amax || p == Prim::Amin))
      EMBER_CHECK(out.numel() == 0, Value, op_context(p), "cannot reduce a tensor with no elements "
                  "(shape ", shape_str(a.shape()), "): the operation has no identity");
    const DType in_dtype = a.dtype();
    const int nd = static_cast<int>(a.dim());
    EMBER_DISPATCH(in_dtype, {
      using In = T;
      using Acc = std::conditional_t<std::is_floating_point_v<compute_t<In>>,
                                     std::conditional_t<std::is_same_v<In, double>, double, float>,
                                     int64_t>;
      auto run = [&](auto* o, Acc init, auto combine) {
        kernels::reduce(a.data<In>(), a.shape().data(), nd, m.get(), o, init, combine);
      };
      if (p == Prim::Sum || p == Prim::Prod) {
        const Acc init = p == Prim::Sum ? Acc(0) : Acc(1);
        auto combine = [p](Acc x, Acc y) { return p == Prim::Sum ? Acc(x + y) : Acc(x * y); };
        if (out_dtype == DType::Int64) run(out.data<int64_t>(), init, combine);
        else run(out.data<In>(), init, combine);
      } else {
        const bool is_max = p == Prim::Amax;
        const Acc init = is_max ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
        run(out.data<In>(), init, [is_max](Acc x, Acc y) {
          if (y != y) return y; // NaN wins
          return (is_max ? y > x : y < x) ? y : x;
        });
      }
    });
    return out;
  }
  case Prim::ArgMax:
  case Prim::ArgMin: {
    Tensor a = in[0].contiguous();
    EMBER_CHECK(a.numel() > 0, Value, op_context(p), "cannot take ", prim_name(p),
                " of a tensor with no elements (shape ", shape_str(a.shape()), ")");
    int64_t outer = 1, n = a.numel(), inner = 1;
    if (!attrs.ints.empty()) {
      const int64_t d = attrs.ints[0];
      n = a.dim() ? a.shape()[d] : 1;
      for (int64_t i = 0; i < d; ++i) outer *= a.shape()[i];
      for (int64_t i = d + 1; i < a.dim(); ++i) inner *= a.shape()[i];
    }
    Tensor out = empty(shape, DType::Int64);
    const bool is_max = p == Prim::ArgMax;
    EMBER_DISPATCH(a.dtype(), {
      using C = compute_t<T>;
      kernels::arg_reduce<T>(a.data<T>(), outer, n, inner, out.data<int64_t>(), [is_max](T x, T y) {
        C cx = x, cy = y;
        if (cy != cy) return false; // the best is already NaN
        if (cx != cx) return true;
        return is_max ? cx > cy : cx < cy;
      });
    });
    return out;
  }
  case Prim::Reshape: {
    // A view whenever the layout allows it (PyTorch's rule), else a copy.
    if (auto strides = view_strides(in[0].shape(), in[0].strides(), shape))
      return view_of(in[0], shape, *strides);
    Tensor a = in[0].contiguous();
    return view_of(a, shape, contiguous_strides(shape));
  }
  case Prim::Transpose: {
    const Tensor& a = in[0];
    Shape strides = a.strides();
    if (a.dim() > 0) std::swap(strides[attrs.ints[0]], strides[attrs.ints[1]]);
    return view_of(a, shape, strides);
  }
  case Prim::Expand: {
    const Tensor& a = in[0];
    return view_of(a, shape, broadcast_strides(a, shape));
  }
  case Prim::Permute: {
    const Tensor& a = in[0];
    Shape strides;
    for (int64_t d : attrs.ints) strides.push_back(a.strides()[d]);
    return view_of(a, shape, strides);
  }
  case Prim::Slice: {
    const Tensor& a = in[0];
    const int64_t d = attrs.ints[0];
    Shape strides = a.strides();
    Tensor out = view_of(a, shape, strides);
    out.unsafe_impl()->strides[d] *= attrs.ints[3];
    if (shape[d] > 0) out.unsafe_impl()->offset += attrs.ints[1] * a.strides()[d];
    return out;
  }
  case Prim::SliceBackward: {
    Tensor out = zeros(shape, out_dtype);
    Tensor window = compute(Prim::Slice, {out}, {{attrs.ints[0], attrs.ints[1], attrs.ints[2],
                                                  attrs.ints[3]}}, in[0].shape(), out_dtype);
    copy_into(window, in[0]);
    return out;
  }
  case Prim::Cat: {
    Tensor out = empty(shape, out_dtype);
    const int64_t d = attrs.ints[0];
    int64_t at = 0;
    for (const Tensor& t : in) {
      const int64_t n = t.shape()[d];
      Shape part = shape;
      part[d] = n;
      copy_into(compute(Prim::Slice, {out}, {{d, at, at + n, 1}}, part, out_dtype), t);
      at += n;
    }
    return out;
  }
  case Prim::Where: {
    Tensor c = in[0].to(DType::Bool), x = in[1].to(out_dtype), y = in[2].to(out_dtype);
    Tensor out = empty(shape, out_dtype);
    if (out.numel() == 0) return out;
    if (c.numel() == 1) { // one condition for all (autograd's rules): a copy of one side
      const Tensor& pick = *c.data<bool>() ? x : y;
      return copy_from(pick.raw_data(), out_dtype, shape, broadcast_strides(pick, shape));
    }
    // Broadcast views, then a flat loop over the three.
    c = view_of(c, shape, broadcast_strides(c, shape)).contiguous();
    x = view_of(x, shape, broadcast_strides(x, shape)).contiguous();
    y = view_of(y, shape, broadcast_strides(y, shape)).contiguous();
    EMBER_DISPATCH(out_dtype, {
      const bool* pc = c.data<bool>();
      const T *px = x.data<T>(), *py = y.data<T>();
      T* po = out.data<T>();
      parallel_for(out.numel(), kernels::kParallelGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = pc[i] ? px[i] : py[i];
      });
    });
    return out;
  }
  case Prim::IndexSelect:
  case Prim::IndexAdd: {
    const Tensor a = in[0].contiguous(), idx = in[1].to(DType::Int64).contiguous();
    const int64_t d = attrs.ints[0], src_size = a.shape()[d], dst_size = shape[d];
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= shape[i];
    for (int64_t i = d + 1; i < int64_t(shape.size()); ++i) inner *= shape[i];
    const int64_t* ix = idx.data<int64_t>();
    const int64_t bound = p == Prim::IndexSelect ? src_size : dst_size;
    for (int64_t i = 0; i < idx.numel(); ++i)
      EMBER_CHECK(ix[i] >= -bound && ix[i] < bound, Index, op_context(p), "index ", ix[i],
                  " is out of bounds for dimension ", d, " with size ", bound);
    Tensor out = p == Prim::IndexSelect ? empty(shape, out_dtype) : zeros(shape, out_dtype);
    EMBER_DISPATCH(out_dtype, {
      const T* src = a.data<T>();
      T* dst = out.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < idx.numel(); ++i) {
          const int64_t j = ix[i] < 0 ? ix[i] + bound : ix[i];
          if (p == Prim::IndexSelect) {
            std::copy(src + (o * src_size + j) * inner, src + (o * src_size + j + 1) * inner,
                      dst + (o * dst_size + i) * inner);
          } else {
            const T* from = src + (o * src_size + i) * inner;
            T* to = dst + (o * dst_size + j) * inner;
            for (int64_t k = 0; k < inner; ++k)
              to[k] = static_cast<T>(static_cast<compute_t<T>>(to[k]) + static_cast<compute_t<T>>(from[k]));
          }
        }
    });
    return out;
  }
  case Prim::CumSum:
  case Prim::CumProd:
    return detail::scan(p, in[0], attrs.ints[0], p == Prim::CumSum && attrs.ints[1], out_dtype);
  case Prim::BatchMatMul: {
    if (out_dtype == DType::Float32) {
      Tensor out = empty(shape, out_dtype);
      gemm_f32(in[0].to(out_dtype), in[1].to(out_dtype), out, shape[0]);
      return out;
    }
    Tensor a = in[0].to(out_dtype).contiguous(), b = in[1].to(out_dtype).contiguous();
    Tensor out = empty(shape, out_dtype);
    const int64_t batch = shape[0], m = shape[1], k = a.shape()[2], n = shape[2];
    for (int64_t i = 0; i < batch; ++i) {
      {
        EMBER_DISPATCH(out_dtype, {
          using Acc = std::conditional_t<std::is_floating_point_v<compute_t<T>>, compute_t<T>, int64_t>;
          kernels::matmul_generic<T, Acc>(a.data<T>() + i * m * k, b.data<T>() + i * k * n,
                                          out.data<T>() + i * m * n, m, k, n);
        });
      }
    }
    return out;
  }
  case Prim::Cast: {
    Tensor out = empty(shape, out_dtype);
    copy_into(out, in[0]);
    return out;
  }
  case Prim::Im2Col:
  case Prim::Col2Im: return detail::window_compute(p, in[0], attrs, shape, out_dtype);
  }
  fail(ErrorKind::Runtime, "ember.apply", "unknown primitive");
}

// Normalizes attributes (negative dims wrapped) so equal ops compare equal in graphs.
Attrs normalize(Prim p, const std::vector<Shape>& in, const Attrs& attrs) {
  if (detail::is_index_prim(p)) return detail::index_prim_normalize(p, in, attrs);
  Attrs out = attrs;
  const int64_t rank = in.empty() ? 0 : static_cast<int64_t>(in[0].size());
  if (p == Prim::Sum || p == Prim::Amax || p == Prim::Amin || p == Prim::Prod) {
    out.ints.clear();
    std::vector<bool> mask = reduce_mask(attrs.ints, rank, p);
    if (!attrs.ints.empty())
      for (int64_t d = 0; d < rank; ++d)
        if (mask[d]) out.ints.push_back(d);
  } else if (p == Prim::Permute) {
    EMBER_CHECK(int64_t(attrs.ints.size()) == rank, Value, op_context(p), "got ",
                attrs.ints.size(), " dimensions for a tensor of rank ", rank);
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < out.ints.size(); ++i) {
      out.ints[i] = wrap_dim(attrs.ints[i], rank, p);
      EMBER_CHECK(!seen[out.ints[i]], Value, op_context(p), "dimension ", attrs.ints[i],
                  " repeats in ", shape_str(attrs.ints));
      seen[out.ints[i]] = true;
    }
  } else if (p == Prim::Slice) {
    EMBER_CHECK(rank > 0, Index, op_context(p), "cannot slice a 0-d tensor");
    const int64_t d = wrap_dim(attrs.ints[0], rank, p), size = in[0][d];
    EMBER_CHECK(attrs.ints[3] > 0, Value, op_context(p), "step must be positive, got ",
                attrs.ints[3]);
    auto clamp = [size](int64_t i) {
      if (i < 0) i += size;
      return std::min(std::max<int64_t>(i, 0), size);
    };
    int64_t start = clamp(attrs.ints[1]), end = clamp(attrs.ints[2]);
    out.ints = {d, start, std::max(start, end), attrs.ints[3]};
  } else if (p == Prim::IndexSelect || p == Prim::IndexAdd) {
    out.ints[0] = wrap_dim(attrs.ints[0], rank, p);
  } else if (p == Prim::Cat) {
    EMBER_CHECK(!in.empty(), Value, op_context(p), "expected a non-empty list of tensors");
    out.ints = {wrap_dim(attrs.ints[0], rank, p)};
  } else if (p == Prim::CumSum || p == Prim::CumProd) {
    EMBER_CHECK(!attrs.ints.empty(), Value, op_context(p), "needs a dim");
    const int64_t d = wrap_dim(attrs.ints[0], rank, p);
    const int64_t reverse = attrs.ints.size() > 1 && attrs.ints[1] != 0;
    out.ints = p == Prim::CumSum ? Shape{d, reverse} : Shape{d};
  } else if (p == Prim::ArgMax || p == Prim::ArgMin) {
    if (!attrs.ints.empty()) out.ints = {wrap_dim(attrs.ints[0], rank, p)};
  } else if (p == Prim::Transpose) {
    EMBER_CHECK(attrs.ints.size() == 2, Value, op_context(p), "takes two dimensions");
    out.ints = {wrap_dim(attrs.ints[0], rank, p), wrap_dim(attrs.ints[1], rank, p)};
  }
  return out;
}

} // namespace

const char* prim_name(Prim p) {
  switch (p) {
#define EMBER_ELEMENTWISE(Name, name, ...) \
  case Prim::Name:                         \
    return #name;
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  case Prim::MatMul: return "matmul";
  case Prim::Sum: return "sum";
  case Prim::Amax: return "amax";
  case Prim::Amin: return "amin";
  case Prim::Prod: return "prod";
  case Prim::ArgMax: return "argmax";
  case Prim::ArgMin: return "argmin";
  case Prim::Reshape: return "reshape";
  case Prim::Transpose: return "transpose";
  case Prim::Expand: return "expand";
  case Prim::Permute: return "permute";
  case Prim::Slice: return "slice";
  case Prim::SliceBackward: return "slice_backward";
  case Prim::Cat: return "cat";
  case Prim::Where: return "where";
  case Prim::BatchMatMul: return "bmm";
  case Prim::IndexSelect: return "index_select";
  case Prim::IndexAdd: return "index_add";
  case Prim::Im2Col: return "im2col";
  case Prim::Col2Im: return "col2im";
  case Prim::CumSum: return "cumsum";
  case Prim::CumProd: return "cumprod";
  case Prim::Gather: return "gather";
  case Prim::ScatterAdd: return "scatter_add";
  case Prim::Scatter: return "scatter";
  case Prim::ArgSort: return "argsort";
  case Prim::Unfold: return "unfold";
  case Prim::Cast: return "cast";
  }
  return "?";
}

int prim_arity(Prim p) {
  switch (p) {
#define EMBER_ELEMENTWISE(Name, name, arity, ...) \
  case Prim::Name:                                \
    return arity;
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  case Prim::MatMul:
  case Prim::BatchMatMul:
  case Prim::IndexSelect:
  case Prim::IndexAdd:
  case Prim::Gather: return 2;
  case Prim::Where:
  case Prim::ScatterAdd:
  case Prim::Scatter: return 3;
  case Prim::Cat: return -1;
  default: return 1;
  }
}

bool prim_is_elementwise(Prim p) { return prim_expr(p)[0] != '\0'; }
// Views only rearrange metadata: the same code serves every device.
bool prim_is_view(Prim p) {
  return p == Prim::Reshape || p == Prim::Transpose || p == Prim::Expand || p == Prim::Permute ||
         p == Prim::Slice || p == Prim::Unfold;
}

const char* prim_expr(Prim p) {
  switch (p) {
#define EMBER_ELEMENTWISE(Name, name, arity, rule, expr, ...) \
  case Prim::Name:                                            \
    return #expr;
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  default: return "";
  }
}

Shape infer_shape(Prim p, const std::vector<Shape>& in, const Attrs& attrs) {
  const std::string ctx = op_context(p);
  EMBER_CHECK(prim_arity(p) < 0 || static_cast<int>(in.size()) == prim_arity(p), Value, ctx,
              "takes ", prim_arity(p), " tensor inputs, got ", in.size());
  if (prim_is_elementwise(p))
    return in.size() == 2 ? broadcast_shapes(in[0], in[1], ctx.c_str()) : in[0];
  if (detail::is_index_prim(p)) return detail::index_prim_shape(p, in, attrs);
  switch (p) {
  case Prim::Cast: return in[0];
  case Prim::MatMul: {
    const Shape &a = in[0], &b = in[1];
    EMBER_CHECK(a.size() == 2 && b.size() == 2, NotImplemented, ctx,
                "only 2-D @ 2-D is supported so far, got ", shape_str(a), " @ ", shape_str(b));
    EMBER_CHECK(a[1] == b[0], Value, ctx, "shapes ", shape_str(a), " and ", shape_str(b),
                " cannot be multiplied (", a[0], "x", a[1], " and ", b[0], "x", b[1],
                "): the inner dimensions must match");
    return {a[0], b[1]};
  }
  case Prim::ArgMax:
  case Prim::ArgMin:
    if (attrs.ints.empty()) return attrs.keepdim ? Shape(in[0].size(), 1) : Shape{};
    [[fallthrough]];
  case Prim::Sum:
  case Prim::Amax:
  case Prim::Amin:
  case Prim::Prod: {
    std::vector<bool> mask = reduce_mask(attrs.ints, in[0].size(), p);
    Shape out;
    for (size_t d = 0; d < in[0].size(); ++d)
      if (!mask[d]) out.push_back(in[0][d]);
      else if (attrs.keepdim) out.push_back(1);
    return out;
  }
  case Prim::Reshape: {
    Shape out = attrs.ints;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == -1) {
        EMBER_CHECK(infer < 0, Value, ctx, "only one dimension can be -1, got ", shape_str(out));
        infer = static_cast<int64_t>(i);
      } else {
        EMBER_CHECK(out[i] >= 0, Value, ctx, "invalid size ", out[i], " in ", shape_str(out));
        known *= out[i];
      }
    }
    const int64_t n = numel_of(in[0]);
    if (infer >= 0 && known != 0 && n % known == 0) out[infer] = n / known;
    EMBER_CHECK(numel_of(out) == n && (infer < 0 || known != 0), Value, ctx, "shape ",
                shape_str(attrs.ints), " is invalid for input of size ", n, " (shape ",
                shape_str(in[0]), ")");
    return out;
  }
  case Prim::Transpose: {
    Shape out = in[0];
    if (!out.empty()) std::swap(out[attrs.ints[0]], out[attrs.ints[1]]);
    return out;
  }
  case Prim::Permute: {
    Shape out;
    for (int64_t d : attrs.ints) out.push_back(in[0][d]);
    return out;
  }
  case Prim::Slice: {
    Shape out = in[0];
    const int64_t start = attrs.ints[1], end = attrs.ints[2], step = attrs.ints[3];
    out[attrs.ints[0]] = end > start ? (end - start + step - 1) / step : 0;
    return out;
  }
  case Prim::SliceBackward: {
    Shape out = in[0];
    out[attrs.ints[0]] = attrs.ints[4];
    return out;
  }
  case Prim::Cat: {
    EMBER_CHECK(!in.empty(), Value, ctx, "expected a non-empty list of tensors");
    Shape out = in[0];
    const int64_t d = attrs.ints[0];
    out[d] = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      EMBER_CHECK(in[i].size() == in[0].size(), Value, ctx, "tensor ", i, " has ", in[i].size(),
                  " dimensions but tensor 0 has ", in[0].size());
      for (size_t k = 0; k < in[0].size(); ++k)
        EMBER_CHECK(int64_t(k) == d || in[i][k] == in[0][k], Value, ctx, "sizes of tensors must "
                    "match except in dimension ", d, ": tensor ", i, " has shape ",
                    shape_str(in[i]), ", tensor 0 has ", shape_str(in[0]));
      out[d] += in[i][d];
    }
    return out;
  }
  case Prim::Where:
    return broadcast_shapes(broadcast_shapes(in[0], in[1], ctx.c_str()), in[2], ctx.c_str());
  case Prim::CumSum:
  case Prim::CumProd: return in[0];
  case Prim::IndexSelect:
  case Prim::IndexAdd: {
    EMBER_CHECK(in[1].size() <= 1, Value, ctx, "index must be 1-D, got shape ", shape_str(in[1]));
    Shape out = in[0];
    EMBER_CHECK(!out.empty(), Index, ctx, "cannot index a 0-d tensor");
    out[attrs.ints[0]] = p == Prim::IndexSelect ? numel_of(in[1]) : attrs.ints[1];
    return out;
  }
  case Prim::BatchMatMul: {
    const Shape &a = in[0], &b = in[1];
    EMBER_CHECK(a.size() == 3 && b.size() == 3, Value, ctx, "expects 3-D tensors, got ",
                shape_str(a), " and ", shape_str(b));
    EMBER_CHECK(a[0] == b[0] && a[2] == b[1], Value, ctx, "shapes ", shape_str(a), " and ",
                shape_str(b), " cannot be multiplied: batch sizes must match and a's last "
                "dimension must equal b's middle one");
    return {a[0], a[1], b[2]};
  }
  case Prim::Expand: {
    const Shape &a = in[0], &target = attrs.ints;
    EMBER_CHECK(target.size() >= a.size(), Value, ctx, "cannot expand ", shape_str(a), " to ",
                shape_str(target), ": the target has fewer dimensions");
    const size_t lead = target.size() - a.size();
    for (size_t i = 0; i < a.size(); ++i)
      EMBER_CHECK(a[i] == target[lead + i] || a[i] == 1, Value, ctx, "cannot expand ",
                  shape_str(a), " to ", shape_str(target), ": dimension ", i,
                  " must be 1 or equal to the target size");
    return target;
  }
  case Prim::Im2Col:
  case Prim::Col2Im: return detail::window_shape(p, in[0], attrs);
  default: break;
  }
  fail(ErrorKind::Runtime, ctx, "no shape rule");
}

namespace {

// The device `p` runs on: CUDA when any input is there. The other inputs must be on that
// device too, except 0-d CPU tensors, which act as scalars (as in PyTorch).
Device common_device(Prim p, const std::vector<Tensor>& inputs) {
  Device dev;
  for (const Tensor& t : inputs)
    if (t.device().is_cuda()) {
      dev = t.device();
      break;
    }
  if (dev.is_cpu()) return dev;
  for (const Tensor& t : inputs)
    EMBER_CHECK(t.device() == dev || (t.device().is_cpu() && t.dim() == 0), Runtime,
                op_context(p), "Expected all tensors to be on the same device, but found at least "
                "two devices, ", dev.str(), " and ", t.device().str(), "! Move them with .to(",
                "device) first");
  return dev;
}

// Positions of a view's elements in its base (defined with the in-place protocol below).
Tensor view_positions(const Tensor& view, const Tensor& base);

// A view whose base got a new grad_fn since the view's was made (an in-place op on the base or
// through a sibling view) takes its elements from the base's new value, so gradients see the
// write (PyTorch regenerates the view's grad_fn likewise).
void refresh_view(const Tensor& v) {
  TensorImpl* impl = v.unsafe_impl();
  TensorImpl* b = impl->view_base.get();
  if (b->grad_fn.get() == impl->view_base_fn || impl->symbolic || !b->storage) return;
  if (!grad_enabled()) return; // nothing records now; refreshed when it is used with grad
  impl->view_base_fn = b->grad_fn.get();
  if (!b->requires_grad) {
    impl->grad_fn = nullptr;
    impl->requires_grad = false;
    return;
  }
  Tensor base(impl->view_base);
  Tensor fresh = reshape(index_select(reshape(base, {base.numel()}), 0,
                                      view_positions(v, base).to(base.device())),
                         v.shape());
  impl->grad_fn = fresh.grad_fn();
  impl->requires_grad = true;
}

} // namespace

namespace {
// EMBER_PROFILE_OPS=1: the eager time each primitive took (its kernel, not the dispatch around
// it), summed per primitive and printed to stderr at exit, largest first. Single-threaded
// callers only (a diagnostic, like torch.profiler's op table).
struct OpProfile {
  std::vector<std::pair<double, int64_t>> per_prim;
  void add(Prim p, std::chrono::steady_clock::duration d) {
    const size_t i = static_cast<size_t>(p);
    if (per_prim.size() <= i) per_prim.resize(i + 1);
    per_prim[i].first += std::chrono::duration<double>(d).count();
    ++per_prim[i].second;
  }
  void print() const {
    std::vector<size_t> order;
    double total = 0;
    for (size_t i = 0; i < per_prim.size(); ++i)
      if (per_prim[i].second) {
        order.push_back(i);
        total += per_prim[i].first;
      }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return per_prim[a].first > per_prim[b].first; });
    std::fprintf(stderr, "EMBER_PROFILE_OPS: %.3f s in eager kernels\n", total);
    for (size_t i : order)
      std::fprintf(stderr, "  %-16s %9.3f ms %8lld calls %5.1f%%\n", prim_name(static_cast<Prim>(i)),
                   per_prim[i].first * 1e3, static_cast<long long>(per_prim[i].second),
                   100 * per_prim[i].first / total);
  }
};
OpProfile* const g_op_profile = []() -> OpProfile* {
  const char* v = std::getenv("EMBER_PROFILE_OPS");
  if (!v || !*v || std::string(v) == "0") return nullptr;
  std::atexit([] { g_op_profile->print(); });
  return new OpProfile(); // never freed: printed at exit
}();
} // namespace

namespace {
// The input shapes of an apply() call, in a per-thread list per nesting level (a kernel may
// apply ops itself) whose vectors keep their capacity: copying the shapes allocates nothing
// once a level has seen shapes that long.
struct ScratchShapes {
  std::vector<Shape>& shapes;
  ScratchShapes() : shapes(acquire()) {}
  ~ScratchShapes() { --depth(); }
  ScratchShapes(const ScratchShapes&) = delete;
  ScratchShapes& operator=(const ScratchShapes&) = delete;

private:
  static size_t& depth() {
    thread_local size_t d = 0;
    return d;
  }
  static std::vector<Shape>& acquire() {
    thread_local std::deque<std::vector<Shape>> levels; // a deque: references stay valid
    size_t& d = depth();
    if (levels.size() <= d) levels.emplace_back();
    return levels[d++];
  }
};

// apply(): `movable` is inputs_in itself when the caller gave it up (an rvalue).
Tensor apply_to(Prim p, const std::vector<Tensor>& inputs_in, std::vector<Tensor>* movable,
                const Attrs& raw_attrs) {
  // Under a trace with state, state tensors read as their placeholders (TraceState.h).
  std::vector<Tensor> substituted;
  if (detail::tracing_state()) {
    substituted.reserve(inputs_in.size());
    for (const Tensor& t : inputs_in) substituted.push_back(detail::traced_state(t));
  }
  const std::vector<Tensor>& inputs = detail::tracing_state() ? substituted : inputs_in;
  ScratchShapes scratch;
  std::vector<Shape>& shapes = scratch.shapes;
  shapes.resize(inputs.size());
  bool any_symbolic = false, needs_grad = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    EMBER_CHECK(t.defined(), Value, op_context(p), "got an undefined tensor as input");
    if (t.unsafe_impl()->view_base) refresh_view(t);
    shapes[i] = t.shape();
    any_symbolic |= t.is_symbolic();
    needs_grad |= t.requires_grad();
  }
  needs_grad &= grad_enabled();
  Attrs attrs = normalize(p, shapes, raw_attrs);
  Shape shape = infer_shape(p, shapes, attrs);
  const DType dtype = p == Prim::Cast ? static_cast<DType>(attrs.ints.at(0)) : output_dtype(p, inputs);
  needs_grad &= is_floating(dtype);
  Tensor out;
  if (any_symbolic) {
    out = symbolic(shape, dtype);
  } else {
    const Device dev = common_device(p, inputs);
    const auto t0 = g_op_profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    out = dev.is_cuda() && !prim_is_view(p) ? detail::cuda_compute(p, inputs, attrs, shape, dtype, dev)
                                       : compute(p, inputs, attrs, shape, dtype);
    if (g_op_profile) g_op_profile->add(p, std::chrono::steady_clock::now() - t0);
  }
  auto* impl = out.unsafe_impl();
  // A view remembers the tensor owning its memory, so in-place writes through it update that
  // tensor's place in the graph too.
  if (!any_symbolic && prim_is_view(p) && impl->storage == inputs[0].storage()) {
    const auto& in = inputs[0].shared_impl();
    impl->view_base = in->view_base ? in->view_base : in;
    impl->view_base_fn = impl->view_base->grad_fn.get();
  }
  // Traces record every node; eager mode records only what autograd needs.
  if (any_symbolic || needs_grad) {
    std::vector<Tensor> saved = detail::tracing_state() ? std::move(substituted)
                                : movable                 ? std::move(*movable)
                                                          : inputs;
    auto node = std::make_shared<Node>(
        Node{p, std::move(attrs), std::move(saved), std::move(shape), dtype});
    if (needs_grad) record_edges(*node);
    impl->grad_fn = std::move(node);
    impl->requires_grad = needs_grad;
  }
  return out;
}

} // namespace

Tensor apply(Prim p, const std::vector<Tensor>& inputs, const Attrs& attrs) {
  return apply_to(p, inputs, nullptr, attrs);
}

Tensor apply(Prim p, std::vector<Tensor>&& inputs, const Attrs& attrs) {
  return apply_to(p, inputs, &inputs, attrs);
}

#define EMBER_DEF_1(Name, name) \
  Tensor name(const Tensor& a) { return apply(Prim::Name, {a}); }
#define EMBER_DEF_2(Name, name) \
  Tensor name(const Tensor& a, const Tensor& b) { return apply(Prim::Name, {a, b}); }
#define EMBER_ELEMENTWISE(Name, name, arity, ...) EMBER_DEF_##arity(Name, name)
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
#undef EMBER_DEF_1
#undef EMBER_DEF_2

Tensor mm(const Tensor& a, const Tensor& b) {
  if (autocast::Scope s{autocast::Op::MM, {a, b}}) return mm(s[0], s[1]);
  return apply(Prim::MatMul, {a, b});
}
Tensor sum(const Tensor& a, const Shape& dims, bool keepdim) {
  return apply(Prim::Sum, {a}, {dims, keepdim});
}
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim) {
  return apply(Prim::Amax, {a}, {dims, keepdim});
}
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim) {
  return apply(Prim::Amin, {a}, {dims, keepdim});
}
Tensor prod(const Tensor& a, const Shape& dims, bool keepdim) {
  if (autocast::Scope s{autocast::Op::Prod, {a}}) return prod(s[0], dims, keepdim);
  return apply(Prim::Prod, {a}, {dims, keepdim});
}
Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  return apply(Prim::ArgMax, {a}, {dim ? Shape{*dim} : Shape{}, keepdim});
}
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  return apply(Prim::ArgMin, {a}, {dim ? Shape{*dim} : Shape{}, keepdim});
}

namespace {
// Elements per output of a reduction over `dims` (all when empty).
int64_t reduced_count(const Tensor& a, const Shape& dims) {
  if (dims.empty()) return a.numel();
  int64_t n = 1;
  for (int64_t d : dims) n *= a.dim() ? a.shape()[wrap_dim(d, a.dim(), Prim::Sum)] : 1;
  return n;
}
} // namespace

Tensor mean(const Tensor& a, const Shape& dims, bool keepdim) {
  EMBER_CHECK(is_floating(a.dtype()), Type, "ember.mean", "mean needs a floating point input, got ",
              dtype_name(a.dtype()), "; convert with .to(ember.float32)");
  return div(sum(a, dims, keepdim), scalar(double(reduced_count(a, dims))));
}

Tensor var(const Tensor& a, const Shape& dims, double correction, bool keepdim) {
  Tensor centered = sub(a, mean(a, dims, /*keepdim=*/true));
  const double n = double(reduced_count(a, dims)) - correction;
  return div(sum(mul(centered, centered), dims, keepdim), scalar(n > 0 ? n : 0));
}

Tensor std(const Tensor& a, const Shape& dims, double correction, bool keepdim) {
  return sqrt(var(a, dims, correction, keepdim));
}

Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim) {
  if (autocast::Scope s{autocast::Op::LogSumExp, {a}}) return logsumexp(s[0], dims, keepdim);
  if (a.numel() == 0) // log of an empty sum: -inf (amax of nothing has no value)
    return add(sum(a, dims, keepdim), scalar(-std::numeric_limits<double>::infinity()));
  // Any constant shift is exact; the max keeps exp in range. It carries no gradient. An
  // infinite max shifts by 0 instead (PyTorch's rule): inf - inf would make [inf, 1] NaN.
  Tensor m = amax(a, dims, /*keepdim=*/true).detach();
  m = where(isinf(m), zeros_like(m), m);
  Tensor s = log(sum(exp(sub(a, m)), dims, keepdim));
  return add(s, keepdim ? m : reshape(m, s.shape()));
}

// Eagerly, float32 CPU tensors take the fused row kernels along the last dim (FusedNorm.h);
// the composites below are what tracing records (and what create_graph differentiates).
Tensor softmax(const Tensor& a, int64_t dim) {
  if (autocast::Scope s{autocast::Op::Softmax, {a}}) return softmax(s[0], dim);
  auto composite = [dim](const Tensor& x) {
    Tensor e = exp(sub(x, amax(x, {dim}, true).detach()));
    return div(e, sum(e, {dim}, true));
  };
  Tensor y = detail::softmax_fused(a, dim, false, composite);
  return y.defined() ? y : composite(a);
}

Tensor log_softmax(const Tensor& a, int64_t dim) {
  if (autocast::Scope s{autocast::Op::LogSoftmax, {a}}) return log_softmax(s[0], dim);
  auto composite = [dim](const Tensor& x) {
    Tensor shifted = sub(x, amax(x, {dim}, true).detach());
    return sub(shifted, log(sum(exp(shifted), {dim}, true)));
  };
  Tensor y = detail::softmax_fused(a, dim, true, composite);
  return y.defined() ? y : composite(a);
}

Tensor all(const Tensor& a, const Shape& dims, bool keepdim) {
  return eq(sum(eq(a, scalar(0)), dims, keepdim), scalar(0));
}

Tensor any(const Tensor& a, const Shape& dims, bool keepdim) {
  return gt(sum(ne(a, scalar(0)), dims, keepdim), scalar(0));
}

Tensor reshape(const Tensor& a, const Shape& shape) { return apply(Prim::Reshape, {a}, {shape}); }
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  return apply(Prim::Transpose, {a}, {{d0, d1}});
}
Tensor expand(const Tensor& a, const Shape& shape) {
  return shape == a.shape() ? a : apply(Prim::Expand, {a}, {shape});
}

Tensor permute(const Tensor& a, const Shape& dims) { return apply(Prim::Permute, {a}, {dims}); }

Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return apply(Prim::Slice, {a}, {{dim, start, end, step}});
}

Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = wrap_dim(dim, a.dim(), Prim::Slice), size = a.shape()[d];
  if (start < 0) start += size;
  EMBER_CHECK(start >= 0 && length >= 0 && start + length <= size, Index, "ember.narrow",
              "start ", start, " and length ", length, " are out of range for dimension ", d,
              " of size ", size);
  return slice(a, d, start, start + length, 1);
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  EMBER_CHECK(a.dim() > 0, Index, "ember.select", "cannot select from a 0-d tensor");
  const int64_t d = wrap_dim(dim, a.dim(), Prim::Slice), size = a.shape()[d];
  EMBER_CHECK(index >= -size && index < size, Index, "ember.select", "index ", index,
              " is out of bounds for dimension ", d, " with size ", size);
  if (index < 0) index += size;
  Shape out = a.shape();
  out.erase(out.begin() + d);
  return reshape(slice(a, d, index, index + 1, 1), out);
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  const int64_t d = wrap_dim(dim, a.dim() + 1, Prim::Reshape);
  Shape out = a.shape();
  out.insert(out.begin() + d, 1);
  return reshape(a, out);
}

Tensor squeeze(const Tensor& a, std::optional<int64_t> dim) {
  Shape out;
  const int64_t only = dim && a.dim() ? wrap_dim(*dim, a.dim(), Prim::Reshape) : -1;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (a.shape()[d] != 1 || (dim && d != only)) out.push_back(a.shape()[d]);
  return out == a.shape() ? a : reshape(a, out);
}

Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  if (a.dim() == 0) return reshape(a, {1});
  const int64_t s = wrap_dim(start_dim, a.dim(), Prim::Reshape);
  const int64_t e = wrap_dim(end_dim, a.dim(), Prim::Reshape);
  EMBER_CHECK(s <= e, Value, "ember.flatten", "start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape out(a.shape().begin(), a.shape().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= a.shape()[d];
  out.push_back(n);
  out.insert(out.end(), a.shape().begin() + e + 1, a.shape().end());
  return reshape(a, out);
}

Tensor view(const Tensor& a, const Shape& shape) {
  Shape target = infer_shape(Prim::Reshape, {a.shape()}, {shape});
  EMBER_CHECK(a.is_symbolic() || view_strides(a.shape(), a.strides(), target), Runtime,
              "ember.view", "view size is not "
              "compatible with the input's strides (shape ", shape_str(a.shape()), ", strides ",
              shape_str(a.strides()), "); use .reshape(...) instead");
  return reshape(a, shape);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  return apply(Prim::Cat, tensors, {{dim}});
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), Value, "ember.stack", "expected a non-empty list of tensors");
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) {
    EMBER_CHECK(t.shape() == tensors[0].shape(), Value, "ember.stack", "stack expects each "
                "tensor to be equal size, got ", shape_str(tensors[0].shape()), " and ",
                shape_str(t.shape()));
    parts.push_back(unsqueeze(t, dim));
  }
  return cat(parts, dim);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  EMBER_CHECK(cond.dtype() == DType::Bool, Type, "ember.where", "the condition must be bool, got ",
              dtype_name(cond.dtype()));
  return apply(Prim::Where, {cond, a, b});
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  if (autocast::Scope s{autocast::Op::BMM, {a, b}}) return bmm(s[0], s[1]);
  return apply(Prim::BatchMatMul, {a, b});
}

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  EMBER_CHECK(is_integral(index.dtype()), Type, "ember.index_select", "index must be an integer "
              "tensor, got ", dtype_name(index.dtype()));
  return apply(Prim::IndexSelect, {a, index}, {{dim}});
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (autocast::Scope s{autocast::Op::Dot, {a, b}}) return dot(s[0], s[1]);
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1 && a.shape() == b.shape(), Value, "ember.dot",
              "expects two 1-D tensors of the same size, got ", shape_str(a.shape()), " and ",
              shape_str(b.shape()));
  return sum(mul(a, b));
}

Tensor outer(const Tensor& a, const Tensor& b) { return mul(unsqueeze(a, 1), unsqueeze(b, 0)); }

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (autocast::Scope s{autocast::Op::MatMul, {a, b}}) return matmul(s[0], s[1]);
  const char* ctx = "ember.matmul";
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1, Value, ctx, "both arguments need at least one "
              "dimension, got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  // Batched: broadcast the batch dimensions, fold them into one, bmm, unfold.
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ab, bb, ctx);
  const int64_t m = a.shape()[a.dim() - 2], k = a.shape().back(), n = b.shape().back();
  EMBER_CHECK(b.shape()[b.dim() - 2] == k, Value, ctx, "shapes ", shape_str(a.shape()), " and ",
              shape_str(b.shape()), " cannot be multiplied (", m, "x", k, " and ",
              b.shape()[b.dim() - 2], "x", n, ")");
  if (b.dim() == 2) {
    // [..., m, k] @ [k, n]: the batch folds into the rows and one GEMM does it all (as in
    // PyTorch): the weight is never expanded per batch entry, eager or traced, and its
    // gradient is one GEMM too.
    int64_t rows = 1;
    for (int64_t d = 0; d + 1 < a.dim(); ++d) rows *= a.shape()[d];
    Shape os(a.shape().begin(), a.shape().end() - 1);
    os.push_back(n);
    return reshape(mm(reshape(a, {rows, k}), b), os);
  }
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {m, k});
  eb.insert(eb.end(), {k, n});
  const int64_t nb = numel_of(batch);
  Tensor out = bmm(reshape(expand(a, ea), {nb, m, k}), reshape(expand(b, eb), {nb, k, n}));
  Shape os = batch;
  os.insert(os.end(), {m, n});
  return reshape(out, os);
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const size_t lead = a.shape().size() - shape.size();
  Shape dims;
  for (size_t i = 0; i < a.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && a.shape()[i] != 1))
      dims.push_back(static_cast<int64_t>(i));
  Tensor s = dims.empty() ? a : sum(a, dims, /*keepdim=*/true);
  return s.shape() == shape ? s : reshape(s, shape);
}

namespace {
bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::Bool && to == DType::Bool) return false;
  return true;
}

void check_writable(const Tensor& self, const char* op) {
  EMBER_CHECK(!self.is_symbolic(), NotImplemented, op, "in-place operations cannot be traced yet "
              "on values computed inside a compiled function or on views of its parameters and "
              "buffers (whole parameters, buffers and closed-over tensors can be written); use "
              "the out-of-place form inside compiled functions");
}

// Storage positions of a view's elements (row-major) as linear indices into its base.
Tensor view_positions(const Tensor& view, const Tensor& base) {
  std::vector<int64_t> linear_of(size_t(base.storage()->nbytes() / itemsize(base.dtype())) + 1, -1);
  auto walk = [](const Tensor& t, auto&& visit) {
    const int64_t n = t.numel(), nd = t.dim();
    Shape idx(size_t(nd), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t at = t.storage_offset();
      for (int64_t d = 0; d < nd; ++d) at += idx[d] * t.strides()[d];
      visit(i, at);
      for (int64_t d = nd - 1; d >= 0 && ++idx[d] == t.shape()[d]; --d) idx[d] = 0;
    }
  };
  walk(base, [&](int64_t i, int64_t at) { linear_of[size_t(at)] = i; });
  Tensor pos = empty({view.numel()}, DType::Int64);
  int64_t* p = pos.data<int64_t>();
  walk(view, [&](int64_t i, int64_t at) { p[i] = linear_of[size_t(at)]; });
  return pos;
}
} // namespace

void autograd::commit_inplace(Tensor& self, const Tensor& result_in, const char* op) {
  if (detail::write_state(self, result_in, op)) return; // compiled: written back after the call
  check_writable(self, op);
  TensorImpl* s = self.unsafe_impl();
  std::shared_ptr<TensorImpl> base = s->view_base;
  const bool grad_mode = grad_enabled();
  if (grad_mode) {
    EMBER_CHECK(!(s->requires_grad && !s->grad_fn), Runtime, op,
                "a leaf Variable that requires grad is being used in an in-place operation; "
                "run it under ember.no_grad() (e.g. a parameter update) or use the out-of-place "
                "form");
    EMBER_CHECK(!(base && base->requires_grad && !base->grad_fn), Runtime, op,
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation; run it under ember.no_grad() or clone the leaf first");
  }
  Tensor result = result_in;
  const bool track = grad_mode && (result.requires_grad() || s->requires_grad ||
                                   (base && base->requires_grad));
  Tensor new_base;
  if (track) {
    if (result.requires_grad() && (result.shape() != self.shape() || !result.grad_fn()))
      result = apply(Prim::Expand, {result}, {self.shape()});
    // The result's node may read self's current data, about to be overwritten: save a copy.
    if (result.grad_fn())
      autograd::protect_saved(*result.grad_fn(), self, [&] {
        Tensor c = empty(self.shape(), self.dtype(), self.device());
        copy_into(c, self);
        return c;
      });
    if (base && (result.requires_grad() || base->requires_grad)) {
      // The base with the view's elements replaced: scatter into its flattened form.
      Tensor b(base);
      Tensor v = result.requires_grad() ? result : result.to(b.dtype());
      if (v.shape() != self.shape()) v = expand(v, self.shape());
      Tensor flat = reshape(v, {self.numel()});
      new_base = reshape(scatter(reshape(b, {b.numel()}), 0,
                                 view_positions(self, b).to(b.device()), flat),
                         b.shape());
    }
  }
  copy_into(self, result);
  if (s->storage) s->storage->bump_version();
  if (!track) return;
  if (result.requires_grad()) {
    s->grad_fn = result.grad_fn();
    s->requires_grad = true;
  } else { // the new value does not depend on anything that requires grad
    s->grad_fn = nullptr;
    s->requires_grad = false;
  }
  if (new_base.defined()) {
    base->grad_fn = new_base.grad_fn();
    base->requires_grad = new_base.requires_grad();
  }
  if (base) s->view_base_fn = base->grad_fn.get();
}

Tensor& copy_(Tensor& self, const Tensor& src) {
  check_writable(self, "ember.Tensor.copy_");
  EMBER_CHECK(broadcast_shapes(src.shape(), self.shape(), "ember.Tensor.copy_") == self.shape(),
              Value, "ember.Tensor.copy_", "source of shape ", shape_str(src.shape()),
              " does not broadcast to ", shape_str(self.shape()));
  EMBER_CHECK(!(grad_enabled() && src.requires_grad() && src.dtype() != self.dtype()),
              NotImplemented, "ember.Tensor.copy_", "copying a ", dtype_name(src.dtype()),
              " tensor that requires grad into a ", dtype_name(self.dtype()),
              " tensor is not supported; convert the source first or copy src.detach()");
  autograd::commit_inplace(self, src, "ember.Tensor.copy_");
  return self;
}

Tensor& assign_(Tensor& self, const Tensor& result, const char* op) {
  check_writable(self, op);
  EMBER_CHECK(can_cast(result.dtype(), self.dtype()), Type, op, "result type ",
              dtype_name(result.dtype()), " can't be cast to the desired output type ",
              dtype_name(self.dtype()));
  EMBER_CHECK(broadcast_shapes(result.shape(), self.shape(), op) == self.shape(), Value, op,
              "output with shape ", shape_str(self.shape()), " doesn't match the broadcast shape ",
              shape_str(result.shape()));
  EMBER_CHECK(!(grad_enabled() && result.requires_grad() && result.dtype() != self.dtype()),
              NotImplemented, op, "the result is ", dtype_name(result.dtype()), " but self is ",
              dtype_name(self.dtype()), "; an in-place op that changes the dtype of a tensor "
              "that requires grad is not supported (use the out-of-place form)");
  autograd::commit_inplace(self, result, op);
  return self;
}

Tensor cast(const Tensor& a, DType dtype) {
  return apply(Prim::Cast, {a}, {{static_cast<int64_t>(dtype)}});
}
Tensor clone(const Tensor& a) { return cast(a, a.dtype()); }
Tensor contiguous(const Tensor& a) { return a.is_contiguous() ? a : clone(a); }

Tensor zeros_like(const Tensor& a) { return zeros(a.shape(), a.dtype(), a.device()); }
Tensor scalar(double value) { return wrapped_scalar(value, DType::Float64); }
Tensor ones_like(const Tensor& a) { return ones(a.shape(), a.dtype(), a.device()); }

DType result_type(const std::vector<Tensor>& tensors) {
  std::optional<DType> dims, zero_dim, wrapped;
  auto fold = [](std::optional<DType>& acc, DType d) { acc = acc ? promote_types(*acc, d) : d; };
  for (const Tensor& t : tensors) {
    if (t.is_wrapped_number())
      fold(wrapped, is_floating(t.dtype()) ? DType::Float32 : t.dtype());
    else if (t.dim() > 0)
      fold(dims, t.dtype());
    else
      fold(zero_dim, t.dtype());
  }
  if (!zero_dim && !wrapped) return dims.value_or(DType::Float32);
  return combine(dims, combine(zero_dim, wrapped));
}

Tensor Tensor::operator+(const Tensor& other) const { return add(*this, other); }
Tensor Tensor::operator*(const Tensor& other) const { return mul(*this, other); }

} // namespace ember
