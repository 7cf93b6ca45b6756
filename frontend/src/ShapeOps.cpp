// Shape and indexing ops (ember/ShapeOps.h): composites of primitives where that is fast enough,
// the indexing primitives (Gather, Scatter, ScatterAdd, ArgSort, Unfold) behind PyTorch's checks,
// and the eager-only ops whose output shape depends on the data (nonzero, unique).
#include "ember/ShapeOps.h"

#include "ember/Autocast.h"
#include "ember/Creation.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <numeric>

namespace ember {
namespace {

int64_t wrap(int64_t d, int64_t rank, const char* op) {
  const int64_t r = std::max<int64_t>(rank, 1);
  EMBER_CHECK(d >= -r && d < r, Index, op, "dimension ", d, " is out of range for a tensor of rank ",
              rank, " (expected in [", -r, ", ", r - 1, "])");
  return d < 0 ? d + r : d;
}

Tensor int_scalar(int64_t v) { return wrapped_scalar(double(v), DType::Int64); }

void check_index_dtype(const Tensor& index, const char* op) {
  EMBER_CHECK(is_integral(index.dtype()), Runtime, op, "expected an integer (int64) index tensor, "
              "got ", dtype_name(index.dtype()));
}

void check_eager(const Tensor& a, const char* op) {
  EMBER_CHECK(!a.is_symbolic(), NotImplemented, op, "the output shape depends on the data, so it "
              "cannot be traced; run it eagerly, outside ember.compile");
}

std::optional<Shape> try_broadcast(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// The source of index_add / index_copy must match self except along dim, where it has one
// entry per index.
void check_index_source(const Tensor& a, int64_t d, const Tensor& index, const Tensor& source,
                        const char* op) {
  check_index_dtype(index, op);
  EMBER_CHECK(index.dim() <= 1, Runtime, op, "index must be 0-D or 1-D, got shape ",
              shape_str(index.shape()));
  EMBER_CHECK(source.dtype() == a.dtype(), Runtime, op, "self (", dtype_name(a.dtype()),
              ") and source (", dtype_name(source.dtype()), ") must have the same scalar type");
  Shape want = a.shape();
  if (!want.empty()) want[d] = index.numel();
  EMBER_CHECK(source.shape() == want || (a.dim() == 0 && source.numel() == index.numel()), Runtime,
              op, "source of shape ", shape_str(source.shape()), " does not match self of shape ",
              shape_str(a.shape()), " with ", index.numel(), " indices along dimension ", d);
}

} // namespace

std::vector<Tensor> split(const Tensor& a, int64_t split_size, int64_t dim) {
  const char* op = "ember.split";
  EMBER_CHECK(a.dim() > 0, Runtime, op, "split expects at least a 1-dimensional tensor");
  EMBER_CHECK(split_size >= 0, Runtime, op, "split expects split_size be non-negative, but got "
              "split_size=", split_size);
  const int64_t d = wrap(dim, a.dim(), op), size = a.shape()[d];
  EMBER_CHECK(split_size > 0 || size == 0, Runtime, op, "split_size can only be 0 if dimension "
              "size is 0, but got dimension size of ", size);
  std::vector<Tensor> out;
  if (size == 0) return {a};
  for (int64_t at = 0; at < size; at += split_size)
    out.push_back(narrow(a, d, at, std::min(split_size, size - at)));
  return out;
}

std::vector<Tensor> split_with_sizes(const Tensor& a, const Shape& sizes, int64_t dim) {
  const char* op = "ember.split_with_sizes";
  EMBER_CHECK(a.dim() > 0, Runtime, op, "split expects at least a 1-dimensional tensor");
  const int64_t d = wrap(dim, a.dim(), op), size = a.shape()[d];
  int64_t total = 0;
  for (int64_t s : sizes) {
    EMBER_CHECK(s >= 0, Runtime, op, "split_with_sizes expects split_sizes have only "
                "non-negative entries, but got split_sizes=", shape_str(sizes));
    total += s;
  }
  EMBER_CHECK(total == size, Runtime, op, "split_with_sizes expects split_sizes to sum exactly to ",
              size, " (input tensor's size at dimension ", d, "), but got split_sizes=",
              shape_str(sizes));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(a, d, at, s));
    at += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  const char* op = "ember.chunk";
  EMBER_CHECK(a.dim() > 0, Runtime, op, "chunk expects at least a 1-dimensional tensor");
  EMBER_CHECK(chunks > 0, Runtime, op, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  const int64_t d = wrap(dim, a.dim(), op), size = a.shape()[d];
  const int64_t split_size = (size + chunks - 1) / chunks;
  if (split_size == 0 && size == 0) return std::vector<Tensor>(size_t(chunks), a);
  return split(a, split_size, d);
}

std::vector<Tensor> unbind(const Tensor& a, int64_t dim) {
  EMBER_CHECK(a.dim() > 0, Index, "ember.unbind", "Dimension specified as ", dim,
              " but tensor has no dimensions");
  const int64_t d = wrap(dim, a.dim(), "ember.unbind");
  std::vector<Tensor> out;
  for (int64_t i = 0; i < a.shape()[d]; ++i) out.push_back(select(a, d, i));
  return out;
}

Tensor unflatten(const Tensor& a, int64_t dim, const Shape& sizes) {
  const char* op = "ember.unflatten";
  EMBER_CHECK(!sizes.empty(), Runtime, op, "sizes must be non-empty");
  const int64_t d = wrap(dim, a.dim(), op), size = a.dim() ? a.shape()[d] : 1;
  Shape s = sizes;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      EMBER_CHECK(infer < 0, Runtime, op, "only one dimension can be inferred");
      infer = int64_t(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known != 0 && size % known == 0) s[infer] = size / known;
  EMBER_CHECK(numel_of(s) == size && std::all_of(s.begin(), s.end(), [](int64_t v) { return v >= 0; }),
              Runtime, op, "Provided sizes ", shape_str(sizes), " don't multiply up to the size of "
              "dim ", d, " (", size, ") in the input tensor");
  Shape out(a.shape().begin(), a.shape().begin() + (a.dim() ? d : 0));
  out.insert(out.end(), s.begin(), s.end());
  if (a.dim()) out.insert(out.end(), a.shape().begin() + d + 1, a.shape().end());
  return reshape(a, out);
}

Tensor movedim(const Tensor& a, int64_t source, int64_t destination) {
  const int64_t s = wrap(source, a.dim(), "ember.movedim"), t = wrap(destination, a.dim(), "ember.movedim");
  if (s == t || a.dim() < 2) return a;
  Shape perm;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d != s) perm.push_back(d);
  perm.insert(perm.begin() + t, s);
  return permute(a, perm);
}

Tensor repeat(const Tensor& a, const Shape& repeats) {
  const char* op = "ember.repeat";
  EMBER_CHECK(int64_t(repeats.size()) >= a.dim(), Runtime, op, "Number of dimensions of repeat "
              "dims can not be smaller than number of dimensions of tensor (", repeats.size(),
              " repeats for shape ", shape_str(a.shape()), ")");
  for (int64_t r : repeats)
    EMBER_CHECK(r >= 0, Runtime, op, "Trying to create tensor with negative dimension ", r,
                ": ", shape_str(repeats));
  // [s0, s1] viewed as [1, s0, 1, s1], expanded to [r0, s0, r1, s1], merged to [r0*s0, r1*s1].
  Shape padded(repeats.size() - a.dim(), 1), view, big, out;
  padded.insert(padded.end(), a.shape().begin(), a.shape().end());
  for (size_t i = 0; i < repeats.size(); ++i) {
    view.insert(view.end(), {1, padded[i]});
    big.insert(big.end(), {repeats[i], padded[i]});
    out.push_back(repeats[i] * padded[i]);
  }
  return reshape(expand(reshape(a, view), big), out);
}

Tensor tile(const Tensor& a, const Shape& dims) {
  Shape reps = dims;
  if (int64_t(reps.size()) < a.dim()) reps.insert(reps.begin(), a.dim() - reps.size(), 1);
  return repeat(a, reps);
}

Tensor repeat_interleave(const Tensor& a, int64_t repeats, std::optional<int64_t> dim) {
  const char* op = "ember.repeat_interleave";
  EMBER_CHECK(repeats >= 0, Runtime, op, "Repeats must be non-negative, got ", repeats);
  Tensor x = dim ? (a.dim() ? a : reshape(a, {1})) : flatten(a);
  const int64_t d = dim ? wrap(*dim, x.dim(), op) : 0;
  Shape big = x.shape();
  big.insert(big.begin() + d + 1, repeats);
  return flatten(expand(unsqueeze(x, d + 1), big), d, d + 1);
}

Tensor repeat_interleave(const Tensor& repeats) {
  const char* op = "ember.repeat_interleave";
  check_eager(repeats, op);
  check_index_dtype(repeats, op);
  EMBER_CHECK(repeats.dim() <= 1, Runtime, op, "repeats must be 0-dim or 1-dim tensor, got shape ",
              shape_str(repeats.shape()));
  Tensor r = repeats.to(DType::Int64).contiguous();
  const int64_t* rp = r.data<int64_t>();
  int64_t total = 0;
  for (int64_t i = 0; i < r.numel(); ++i) {
    EMBER_CHECK(rp[i] >= 0, Runtime, op, "repeats can not be negative, got ", rp[i]);
    total += rp[i];
  }
  Tensor out = empty({total}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0, at = 0; i < r.numel(); ++i)
    for (int64_t k = 0; k < rp[i]; ++k) o[at++] = i;
  return out;
}

Tensor repeat_interleave(const Tensor& a, const Tensor& repeats, std::optional<int64_t> dim) {
  const char* op = "ember.repeat_interleave";
  EMBER_CHECK(repeats.dim() <= 1, Runtime, op, "repeats must be 0-dim or 1-dim tensor, got shape ",
              shape_str(repeats.shape()));
  check_eager(repeats, op);
  if (repeats.numel() == 1) {
    check_index_dtype(repeats, op);
    return repeat_interleave(a, int64_t(repeats.item()), dim);
  }
  Tensor x = dim ? (a.dim() ? a : reshape(a, {1})) : flatten(a);
  const int64_t d = dim ? wrap(*dim, x.dim(), op) : 0;
  EMBER_CHECK(repeats.numel() == x.shape()[d], Runtime, op, "repeats must have the same size as "
              "input along dim, but got repeats.size(0) = ", repeats.numel(), " and input.size(",
              d, ") = ", x.shape()[d]);
  return index_select(x, d, repeat_interleave(repeats));
}

Tensor flip(const Tensor& a, const Shape& dims) {
  const char* op = "ember.flip";
  std::vector<bool> seen(std::max<int64_t>(a.dim(), 1), false);
  Tensor out = a;
  for (int64_t dim : dims) {
    const int64_t d = wrap(dim, a.dim(), op);
    EMBER_CHECK(!seen[d], Runtime, op, "dim ", d, " appears multiple times in the list of dims");
    seen[d] = true;
    if (a.dim() == 0 || a.shape()[d] < 2) continue;
    const int64_t n = a.shape()[d];
    out = index_select(out, d, arange(double(n - 1), -1, -1, DType::Int64));
  }
  return out;
}

Tensor roll(const Tensor& a, const Shape& shifts, const Shape& dims) {
  const char* op = "ember.roll";
  if (dims.empty()) {
    EMBER_CHECK(shifts.size() == 1, Runtime, op, "shifts and dimensions must align. shifts: ",
                shifts.size(), ", dims:0");
    return reshape(roll(flatten(a), shifts, {0}), a.shape());
  }
  EMBER_CHECK(shifts.size() == dims.size(), Runtime, op, "shifts and dimensions must align. "
              "shifts: ", shifts.size(), ", dims:", dims.size());
  Tensor out = a;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap(dims[i], a.dim(), op);
    const int64_t n = a.dim() ? a.shape()[d] : 1;
    if (a.dim() == 0 || n == 0) continue;
    const int64_t s = ((shifts[i] % n) + n) % n;
    if (s == 0) continue;
    out = cat({narrow(out, d, n - s, s), narrow(out, d, 0, n - s)}, d);
  }
  return out;
}

namespace {
Tensor triangle(const Tensor& a, int64_t diagonal, bool lower, const char* op) {
  EMBER_CHECK(a.dim() >= 2, Runtime, op, "input tensor must have at least 2 dimensions, got shape ",
              shape_str(a.shape()));
  const int64_t rows = a.shape()[a.dim() - 2], cols = a.shape().back();
  Tensor mask = empty({rows, cols}, DType::Bool);
  bool* m = mask.data<bool>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) m[i * cols + j] = lower ? j - i <= diagonal : j - i >= diagonal;
  return where(mask, a, zeros({}, a.dtype()));
}
} // namespace

Tensor tril(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, true, "ember.tril"); }
Tensor triu(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, false, "ember.triu"); }

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  check_index_dtype(index, "ember.gather");
  return apply(Prim::Gather, {a, index}, {{dim}});
}

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  check_index_dtype(index, "ember.scatter");
  EMBER_CHECK(src.dtype() == a.dtype(), Runtime, "ember.scatter", "Expected self.dtype to be equal "
              "to src.dtype (", dtype_name(a.dtype()), " vs ", dtype_name(src.dtype()), ")");
  return apply(Prim::Scatter, {a, index, src}, {{dim}});
}

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, double value) {
  check_index_dtype(index, "ember.scatter");
  return apply(Prim::Scatter, {a, index, full(index.shape(), value, a.dtype(), a.device())}, {{dim}});
}

Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  if (autocast::Scope s{autocast::Op::ScatterAdd, {a, src}}) return scatter_add(s[0], dim, index, s[1]);
  check_index_dtype(index, "ember.scatter_add");
  EMBER_CHECK(src.dtype() == a.dtype(), Runtime, "ember.scatter_add", "Expected self.dtype to be "
              "equal to src.dtype (", dtype_name(a.dtype()), " vs ", dtype_name(src.dtype()), ")");
  return apply(Prim::ScatterAdd, {a, index, src}, {{dim}});
}

Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
  const char* op = "ember.index_add";
  const int64_t d = wrap(dim, a.dim(), op);
  check_index_source(a, d, index, source, op);
  Tensor src = alpha == 1 ? source : mul(source, wrapped_scalar(alpha, a.dtype()));
  if (a.dim() == 0) src = reshape(src, {index.numel()});
  Tensor idx = reshape(index, {-1});
  Tensor added = apply(Prim::IndexAdd, {src, idx}, {{d, a.dim() ? a.shape()[d] : 1}});
  return add(a, a.dim() ? added : reshape(added, {}));
}

Tensor index_copy(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source) {
  const char* op = "ember.index_copy";
  const int64_t d = wrap(dim, a.dim(), op);
  check_index_source(a, d, index, source, op);
  if (a.dim() == 0) return index.numel() ? reshape(source, {}) : a;
  Shape at(a.dim(), 1);
  at[d] = index.numel();
  const Tensor idx = expand(reshape(index.to(DType::Int64), at), source.shape());
  const int64_t size = a.shape()[d];
  if (!idx.is_symbolic() && index.numel()) {
    Tensor flat = index.to(DType::Int64).contiguous();
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const int64_t v = flat.data<int64_t>()[i];
      EMBER_CHECK(v >= 0 && v < size, Index, op, "index ", v, " is out of bounds for dimension ",
                  d, " with size ", size);
    }
  }
  return apply(Prim::Scatter, {a, idx, source}, {{d}});
}

Tensor take_along_dim(const Tensor& a, const Tensor& indices, std::optional<int64_t> dim) {
  const char* op = "ember.take_along_dim";
  check_index_dtype(indices, op);
  if (!dim) return gather(flatten(a), 0, flatten(indices));
  EMBER_CHECK(a.dim() == indices.dim(), Runtime, op, "input and indices should have the same "
              "number of dimensions, but got ", a.dim(), " dimensions for input, and ",
              indices.dim(), " dimensions for indices");
  const int64_t d = wrap(*dim, a.dim(), op);
  if (a.dim() == 0) return gather(a, 0, indices);
  Shape sa = a.shape(), si = indices.shape();
  sa[d] = si[d] = 1;
  auto b = try_broadcast(sa, si);
  EMBER_CHECK(b.has_value(), Runtime, op, "shapes ", shape_str(a.shape()), " and ",
              shape_str(indices.shape()), " do not broadcast apart from dimension ", d);
  Shape ea = *b, ei = *b;
  ea[d] = a.shape()[d];
  ei[d] = indices.shape()[d];
  return gather(expand(a, ea), d, expand(indices, ei));
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value) {
  const char* op = "ember.masked_fill";
  EMBER_CHECK(mask.dtype() == DType::Bool, Runtime, op, "masked_fill_ only supports boolean masks, "
              "but got mask with dtype ", dtype_name(mask.dtype()));
  EMBER_CHECK(value.dim() == 0, Runtime, op, "masked_fill_ only supports a 0-dimensional value "
              "tensor, but got tensor with ", value.dim(), " dimension(s)");
  Tensor v = value.dtype() == a.dtype() ? value : value.to(a.dtype());
  return where(mask, v, a);
}

Tensor masked_select(const Tensor& a, const Tensor& mask) {
  const char* op = "ember.masked_select";
  EMBER_CHECK(mask.dtype() == DType::Bool, Runtime, op, "expected BoolTensor for mask, got ",
              dtype_name(mask.dtype()));
  check_eager(mask, op);
  const Shape shape = broadcast_shapes(a.shape(), mask.shape(), op);
  Tensor flat_mask = reshape(expand(mask, shape), {-1});
  Tensor idx = reshape(nonzero(flat_mask), {-1});
  return index_select(reshape(expand(a, shape), {-1}), 0, idx);
}

Tensor argsort(const Tensor& a, int64_t dim, bool descending, bool /*stable: always*/) {
  return apply(Prim::ArgSort, {a}, {{dim, descending ? 1 : 0}});
}

std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending, bool stable) {
  Tensor idx = argsort(a, dim, descending, stable);
  return {gather(a, dim, idx), idx};
}

std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest, bool) {
  const char* op = "ember.topk";
  const int64_t d = wrap(dim, a.dim(), op), size = a.dim() ? a.shape()[d] : 1;
  EMBER_CHECK(k >= 0 && k <= size, Runtime, op, "selected index k out of range (k = ", k,
              ", dimension ", d, " has size ", size, ")");
  Tensor idx = apply(Prim::ArgSort, {a}, {{d, largest ? 1 : 0, k}});
  return {gather(a, d, idx), idx};
}

Tensor nonzero(const Tensor& a) {
  check_eager(a, "ember.nonzero");
  const Tensor m = a.to(DType::Bool).contiguous();
  const bool* p = m.data<bool>();
  const int64_t n = m.numel(), rank = a.dim();
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += p[i];
  Tensor out = empty({count, rank}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  Shape coord(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (p[i]) o = std::copy(coord.begin(), coord.end(), o);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++coord[d] < a.shape()[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& a) {
  check_eager(a, "ember.unique");
  const Tensor flat = reshape(a.detach(), {-1}).contiguous();
  const int64_t n = flat.numel();
  const Tensor order = argsort(flat, 0);
  const int64_t* ord = order.data<int64_t>();
  Tensor inverse = empty(a.shape(), DType::Int64);
  int64_t* inv = inverse.data<int64_t>();
  std::vector<int64_t> first, counts; // position in `order` where each run starts, run lengths
  EMBER_DISPATCH(a.dtype(), {
    using C = compute_t<T>;
    const T* v = flat.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      const C x = v[ord[i]];
      if (i == 0 || !(C(v[ord[i - 1]]) == x)) {
        first.push_back(i);
        counts.push_back(0);
      }
      ++counts.back();
      inv[ord[i]] = int64_t(first.size()) - 1;
    }
  });
  const int64_t u = int64_t(first.size());
  Tensor values = empty({u}, a.dtype());
  Tensor cnt = empty({u}, DType::Int64);
  std::copy(counts.begin(), counts.end(), cnt.data<int64_t>());
  EMBER_DISPATCH(a.dtype(), {
    const T* v = flat.data<T>();
    T* o = values.data<T>();
    for (int64_t k = 0; k < u; ++k) o[k] = v[ord[first[k]]];
  });
  return {values, inverse, cnt};
}

Tensor unfold(const Tensor& a, int64_t dim, int64_t size, int64_t step) {
  return apply(Prim::Unfold, {a}, {{dim, size, step}});
}

// ---- Advanced indexing ----------------------------------------------------------------------

namespace {

// The advanced part of an index: which dims of `a` are indexed, by which int64 tensors
// (broadcast together to `bshape`), and the combined row-major linear index over those dims.
struct AdvancedIndex {
  Shape dims;          // indexed dims of a, increasing
  Shape bshape;        // broadcast shape of the index tensors
  Tensor linear;       // int64, bshape: row-major position within the indexed dims
  bool adjacent = true; // dims consecutive: the result keeps them in place, else in front
  Shape rest;          // the other dims of a, in order
  Shape result;        // the indexing result's shape
};

AdvancedIndex plan_index(const Tensor& a, const std::vector<Tensor>& indices, const char* op) {
  std::vector<std::pair<int64_t, Tensor>> adv;
  int64_t pos = 0;
  for (const Tensor& t : indices) {
    if (!t.defined()) {
      ++pos;
      continue;
    }
    if (t.dtype() == DType::Bool || t.dtype() == DType::UInt8) {
      const int64_t k = t.dim();
      EMBER_CHECK(k > 0, NotImplemented, op, "a 0-d boolean index is only supported through "
                  "tensor[...] indexing");
      EMBER_CHECK(pos + k <= a.dim(), Index, op, "too many indices for tensor of dimension ", a.dim());
      for (int64_t j = 0; j < k; ++j)
        EMBER_CHECK(t.shape()[j] == a.shape()[pos + j], Index, op, "The shape of the mask ",
                    shape_str(t.shape()), " at index ", j, " does not match the shape of the "
                    "indexed tensor ", shape_str(a.shape()), " at index ", pos + j);
      Tensor nz = nonzero(t.to(DType::Bool));
      for (int64_t j = 0; j < k; ++j) adv.push_back({pos + j, select(nz, 1, j)});
      pos += k;
      continue;
    }
    EMBER_CHECK(is_integral(t.dtype()), Index, op, "tensors used as indices must be long, int, "
                "byte or bool tensors, got ", dtype_name(t.dtype()));
    EMBER_CHECK(pos < a.dim(), Index, op, "too many indices for tensor of dimension ", a.dim());
    adv.push_back({pos++, t});
  }
  EMBER_CHECK(pos <= a.dim(), Index, op, "too many indices for tensor of dimension ", a.dim());
  AdvancedIndex plan;
  for (const auto& [d, t] : adv) {
    auto b = try_broadcast(plan.bshape, t.shape());
    if (!b) {
      std::string shapes;
      for (const auto& [d2, t2] : adv) shapes += (shapes.empty() ? "" : ", ") + shape_str(t2.shape());
      fail(ErrorKind::Index, op, "shape mismatch: indexing tensors could not be broadcast "
           "together with shapes ", shapes);
    }
    plan.bshape = *b;
    plan.dims.push_back(d);
  }
  for (size_t i = 1; i < plan.dims.size(); ++i) plan.adjacent &= plan.dims[i] == plan.dims[i - 1] + 1;
  int64_t stride = 1;
  for (size_t i = adv.size(); i-- > 0;) {
    const auto& [d, t] = adv[i];
    const int64_t size = a.shape()[d];
    Tensor idx = t.to(DType::Int64);
    if (!idx.is_symbolic()) {
      const Tensor c = idx.contiguous();
      for (int64_t k = 0; k < c.numel(); ++k) {
        const int64_t v = c.data<int64_t>()[k];
        EMBER_CHECK(v >= -size && v < size, Index, op, "index ", v, " is out of bounds for "
                    "dimension ", d, " with size ", size);
      }
    }
    idx = where(lt(idx, int_scalar(0)), add(idx, int_scalar(size)), idx);
    if (stride != 1) idx = mul(idx, int_scalar(stride));
    plan.linear = plan.linear.defined() ? add(idx, plan.linear) : idx;
    stride *= size;
  }
  plan.linear = expand(plan.linear, plan.bshape);
  for (int64_t d = 0; d < a.dim(); ++d)
    if (std::find(plan.dims.begin(), plan.dims.end(), d) == plan.dims.end()) plan.rest.push_back(d);
  const int64_t at = plan.adjacent ? plan.dims[0] : 0;
  for (int64_t i = 0; i < at; ++i) plan.result.push_back(a.shape()[i]);
  plan.result.insert(plan.result.end(), plan.bshape.begin(), plan.bshape.end());
  for (int64_t d : plan.rest)
    if (d >= at) plan.result.push_back(a.shape()[d]);
  return plan;
}

// a permuted so the indexed dims come first, merged into one dim (of size their product).
Tensor indexed_dims_first(const Tensor& a, const AdvancedIndex& plan) {
  Shape perm = plan.dims, shape{1};
  perm.insert(perm.end(), plan.rest.begin(), plan.rest.end());
  for (int64_t d : plan.dims) shape[0] *= a.shape()[d];
  for (int64_t d : plan.rest) shape.push_back(a.shape()[d]);
  return reshape(permute(a, perm), shape);
}

// Moves the block of `nb` index dims between [B..., rest...] and the result layout, where an
// adjacent block sits at `at`.
Tensor move_block(const Tensor& t, int64_t nb, int64_t at, bool to_result) {
  if (at == 0 || nb == 0) return t;
  Shape perm;
  const int64_t rank = t.dim();
  if (to_result) { // [B, rest] -> [rest[:at], B, rest[at:]]
    for (int64_t i = 0; i < at; ++i) perm.push_back(nb + i);
    for (int64_t i = 0; i < nb; ++i) perm.push_back(i);
    for (int64_t i = nb + at; i < rank; ++i) perm.push_back(i);
  } else { // [rest[:at], B, rest[at:]] -> [B, rest]
    for (int64_t i = 0; i < nb; ++i) perm.push_back(at + i);
    for (int64_t i = 0; i < at; ++i) perm.push_back(i);
    for (int64_t i = at + nb; i < rank; ++i) perm.push_back(i);
  }
  return permute(t, perm);
}

} // namespace

Tensor index(const Tensor& a, const std::vector<Tensor>& indices) {
  const char* op = "ember.index";
  if (std::none_of(indices.begin(), indices.end(), [](const Tensor& t) { return t.defined(); })) {
    EMBER_CHECK(int64_t(indices.size()) <= std::max<int64_t>(a.dim(), 0), Index, op,
                "too many indices for tensor of dimension ", a.dim());
    return a;
  }
  AdvancedIndex plan = plan_index(a, indices, op);
  const Tensor flat_index = reshape(plan.linear, {-1});
  if (plan.dims.size() == 1) { // one indexed dim: index_select in place
    const int64_t d = plan.dims[0];
    return reshape(index_select(a, d, flat_index), plan.result);
  }
  Tensor picked = index_select(indexed_dims_first(a, plan), 0, flat_index);
  Shape shape = plan.bshape;
  for (int64_t d : plan.rest) shape.push_back(a.shape()[d]);
  return move_block(reshape(picked, shape), int64_t(plan.bshape.size()),
                    plan.adjacent ? plan.dims[0] : 0, true);
}

Tensor index_put(const Tensor& a, const std::vector<Tensor>& indices, const Tensor& values,
                 bool accumulate) {
  if (autocast::Scope s{autocast::Op::IndexPut, {a, values}})
    return index_put(s[0], indices, s[1], accumulate);
  const char* op = "ember.index_put";
  Tensor v = values.dtype() == a.dtype() ? values : values.to(a.dtype());
  if (std::none_of(indices.begin(), indices.end(), [](const Tensor& t) { return t.defined(); })) {
    EMBER_CHECK(try_broadcast(v.shape(), a.shape()) == a.shape(), Runtime, op, "shape mismatch: "
                "value tensor of shape ", shape_str(values.shape()), " cannot be broadcast to "
                "indexing result of shape ", shape_str(a.shape()));
    return accumulate ? add(a, v) : expand(v, a.shape());
  }
  AdvancedIndex plan = plan_index(a, indices, op);
  EMBER_CHECK(try_broadcast(v.shape(), plan.result) == plan.result, Runtime, op, "shape mismatch: "
              "value tensor of shape ", shape_str(values.shape()), " cannot be broadcast to "
              "indexing result of shape ", shape_str(plan.result));
  v = expand(v, plan.result);
  const Tensor flat_index = reshape(plan.linear, {-1});
  const int64_t m = flat_index.numel();
  auto put = [&](const Tensor& self, int64_t d, const Tensor& src) {
    if (accumulate) return add(self, apply(Prim::IndexAdd, {src, flat_index}, {{d, self.shape()[d]}}));
    return index_copy(self, d, flat_index, src);
  };
  if (plan.dims.size() == 1) {
    const int64_t d = plan.dims[0];
    Shape src_shape(a.shape().begin(), a.shape().begin() + d);
    src_shape.push_back(m);
    src_shape.insert(src_shape.end(), a.shape().begin() + d + 1, a.shape().end());
    return put(a, d, reshape(v, src_shape));
  }
  Tensor src = move_block(v, int64_t(plan.bshape.size()), plan.adjacent ? plan.dims[0] : 0, false);
  Shape src_shape{m};
  for (int64_t d : plan.rest) src_shape.push_back(a.shape()[d]);
  Tensor merged = put(indexed_dims_first(a, plan), 0, reshape(src, src_shape));
  // Undo the merge and the permutation.
  Shape split_shape, perm = plan.dims, inverse(a.dim());
  for (int64_t d : plan.dims) split_shape.push_back(a.shape()[d]);
  for (int64_t d : plan.rest) split_shape.push_back(a.shape()[d]);
  perm.insert(perm.end(), plan.rest.begin(), plan.rest.end());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = int64_t(i);
  return permute(reshape(merged, split_shape), inverse);
}

} // namespace ember
