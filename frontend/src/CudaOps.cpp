// Eager CUDA kernels for the primitives. Pointwise primitives become a kernel generated from
// their record's expression; reductions, arg-reductions and indexing use the generators of
// kernels/CudaSource.h; GEMMs go to cuBLAS.
#include "CudaOps.h"

#include "ember/Graph.h"
#include "ember/kernels/CudaSource.h"
#include "ember/runtime/Cublas.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace ember::detail {
namespace {

namespace ks = ember::kernels::cuda;

std::string op_context(Prim p) { return std::string("ember.") + prim_name(p); }

bool is_cpu_scalar(const Tensor& t) { return t.device().is_cpu() && t.dim() == 0; }


// A view of `t` (same storage) with this shape, strides and offset.
Tensor restride(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// Kernels are looked up by a name that encodes everything their source depends on, so the
// source is generated (and hashed) once per process.
template <typename Make>
void* kernel(const std::string& name, Make make) {
  static std::mutex mu;
  static std::unordered_map<std::string, void*> loaded;
  const std::string key = std::to_string(cuda::current_device()) + ":" + name;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = loaded.find(key); it != loaded.end()) return it->second;
  }
  void* fn = cuda::get_kernel(make(), name);
  std::lock_guard<std::mutex> lock(mu);
  loaded[key] = fn;
  return fn;
}

const char* short_name(DType d) {
  switch (d) {
  case DType::Bool: return "b8";
  case DType::UInt8: return "u8";
  case DType::Int8: return "i8";
  case DType::Int16: return "i16";
  case DType::Int32: return "i32";
  case DType::Int64: return "i64";
  case DType::Float16: return "f16";
  case DType::BFloat16: return "bf16";
  case DType::Float32: return "f32";
  case DType::Float64: return "f64";
  }
  return "x";
}

// out[i] = expr(inputs...) over out's shape, inputs broadcast; `as[k]` is the dtype input k is
// converted to before the expression sees it. `tag` names the expression.
void pointwise(const std::string& tag, const std::string& expr, DType compute, const Tensor& out,
               const std::vector<Tensor>& inputs, const std::vector<DType>& as) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Shape& shape = out.shape();
  const size_t ops = inputs.size() + 1;
  std::vector<Shape> strides = {out.strides()};
  std::vector<ks::PointwiseInput> pin;
  std::vector<double> scalars(inputs.size(), 0.0);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    const bool scalar = t.device() != out.device() && is_cpu_scalar(t);
    EMBER_CHECK(scalar || t.device() == out.device(), Runtime, "ember." + tag,
                "Expected all tensors to be on the same device, but found at least two devices, ",
                out.device().str(), " and ", t.device().str(), "!");
    if (scalar) scalars[k] = t.item();
    strides.push_back(scalar ? Shape(shape.size(), 0) : broadcast_strides(t, shape));
    pin.push_back({t.dtype(), as[k], scalar});
  }
  // Drop size-1 dimensions, then merge neighbours that are contiguous in every operand.
  ks::Indexer ix{};
  std::vector<int64_t> sizes;
  std::vector<std::vector<int64_t>> st(ops);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!sizes.empty()) {
      bool merge = true;
      for (size_t k = 0; k < ops; ++k) merge &= st[k].back() == strides[k][d] * shape[d];
      if (merge) {
        sizes.back() *= shape[d];
        for (size_t k = 0; k < ops; ++k) st[k].back() = strides[k][d];
        continue;
      }
    }
    sizes.push_back(shape[d]);
    for (size_t k = 0; k < ops; ++k) st[k].push_back(strides[k][d]);
  }
  EMBER_CHECK(sizes.size() <= size_t(ks::kMaxDims), NotImplemented, "ember." + tag, "CUDA kernels "
              "index at most ", ks::kMaxDims, " non-mergeable dimensions; got shape ",
              shape_str(shape), "; make the operands contiguous first");
  bool contiguous = sizes.size() <= 1;
  for (size_t k = 0; k < ops; ++k)
    if (!st[k].empty() && !(k > 0 && pin[k - 1].scalar)) contiguous &= st[k][0] == 1;
  ix.ndim = int(sizes.size());
  for (size_t d = 0; d < sizes.size(); ++d) {
    ix.size[d] = sizes[d];
    for (size_t k = 0; k < ops; ++k) ix.stride[k][d] = st[k][d];
  }
  std::string name = "ember_" + tag + "_" + short_name(out.dtype());
  for (const auto& in : pin)
    name += std::string("_") + (in.scalar ? "s" : "") + short_name(in.dtype) + "as" + short_name(in.as);
  // Dense operands whose addresses are aligned to four elements move as vectors.
  bool vectorized = contiguous && n >= 4096;
  auto aligned = [](const void* p, DType d) {
    return reinterpret_cast<uintptr_t>(p) % (4 * itemsize(d)) == 0;
  };
  vectorized = vectorized && aligned(out.raw_data(), out.dtype());
  for (size_t k = 0; k < inputs.size(); ++k)
    vectorized = vectorized && (pin[k].scalar || aligned(inputs[k].raw_data(), pin[k].dtype));
  // Rows (the last merged dimension, a multiple of four), each operand dense along them or
  // constant along them (a bias, a residual, a per-row statistic, a head permutation): four
  // elements of a row per step, as vectors.
  std::string modes;
  auto rows_aligned = [&](const std::vector<int64_t>& sk) {
    for (size_t d = 0; d + 1 < sk.size(); ++d)
      if (sk[d] % 4) return false;
    return true;
  };
  const size_t last = sizes.size() - 1;
  if (!contiguous && sizes.size() >= 2 && sizes[last] % 4 == 0 && n >= 4096 && st[0][last] == 1 &&
      rows_aligned(st[0]) && aligned(out.raw_data(), out.dtype())) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      const std::vector<int64_t>& sk = st[k + 1];
      if (pin[k].scalar) modes += 's';
      else if (sk[last] == 1 && rows_aligned(sk) && aligned(inputs[k].raw_data(), pin[k].dtype)) modes += 'v';
      else if (sk[last] == 0) modes += 'b';
      else { modes.clear(); break; }
    }
  }
  name += !modes.empty() ? "_r" + modes : vectorized ? "_v" : contiguous ? "_c" : "_s";
  void* fn = kernel(name, [&] {
    return !modes.empty()
               ? ks::rows_pointwise_kernel(name, expr, compute, out.dtype(), pin, modes)
               : ks::pointwise_kernel(name, expr, compute, out.dtype(), pin, contiguous, vectorized);
  });
  static const bool trace = std::getenv("EMBER_CUDA_TRACE") != nullptr;
  if (trace)
    std::fprintf(stderr, "[ember.cuda] pointwise %s n=%lld ndim=%d\n", name.c_str(), (long long)n, ix.ndim);
  void* out_ptr = out.raw_data();
  std::vector<void*> ptrs(inputs.size());
  std::vector<void*> args = {&out_ptr};
  for (size_t k = 0; k < inputs.size(); ++k) {
    ptrs[k] = pin[k].scalar ? nullptr : inputs[k].raw_data();
    args.push_back(&ptrs[k]);
    args.push_back(&scalars[k]);
  }
  long long count = n;
  args.push_back(&ix);
  args.push_back(&count);
  cuda::launch(fn, cuda::grid_for(vectorized || !modes.empty() ? (n + 3) / 4 : n), 256, args.data());
}

// A dense copy of `t` with its dimensions in the order `perm`.
Tensor permuted_contiguous(const Tensor& t, const Shape& perm) {
  Shape shape, strides;
  for (int64_t d : perm) {
    shape.push_back(t.shape()[d]);
    strides.push_back(t.strides()[d]);
  }
  return restride(t, shape, strides, t.storage_offset()).contiguous();
}

// `index` as a host int64 copy with every entry checked against [-bound, bound) when `wrap`
// (negatives then wrapped, as index_select does), else [0, bound): a bad index is an ember
// error of `kind` naming it, never a device fault. The caller's tensor is never written.
Tensor checked_host_index(const Tensor& index, int64_t bound, bool wrap, ErrorKind kind, Prim p,
                          int64_t dim) {
  const Tensor user = index.to(cpu_device()).to(DType::Int64).contiguous();
  Tensor idx = user.storage() == index.storage() ? clone(user) : user;
  int64_t* ix = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    if (!(ix[i] >= (wrap ? -bound : 0) && ix[i] < bound))
      fail(kind, op_context(p), "index ", ix[i], " is out of bounds for dimension ", dim,
           " with size ", bound);
    if (ix[i] < 0) ix[i] += bound;
  }
  return idx;
}

// A dense tensor as [outer, n, inner] around dimension d (a 0-d tensor: one element).
struct Lines {
  long long outer = 1, n = 1, inner = 1;
};
Lines lines_along(const Tensor& a, int64_t d) {
  Lines l;
  if (a.dim() == 0) return l;
  l.n = a.shape()[d];
  for (int64_t i = 0; i < d; ++i) l.outer *= a.shape()[i];
  for (int64_t i = d + 1; i < a.dim(); ++i) l.inner *= a.shape()[i];
  return l;
}

// Moves a 0-d CPU tensor (a scalar operand) to `device`; other tensors pass unchanged.
Tensor on(const Tensor& t, Device device) { return t.device() == device ? t : t.to(device); }

} // namespace

void cuda_copy(const Tensor& dst, const Tensor& src) {
  Tensor s = src;
  // Overlapping memory: copy from a private snapshot.
  if (s.storage() == dst.storage()) {
    Tensor snap = empty(s.shape(), s.dtype(), s.device());
    pointwise("copy", "a", s.dtype(), snap, {s}, {s.dtype()});
    s = snap;
  }
  pointwise("copy", "a", dst.dtype(), dst, {s}, {dst.dtype()});
}

void cuda_fill(const Tensor& dst, double value) {
  if (value == 0 && dst.is_contiguous()) {
    cuda::memset_zero(dst.raw_data(), size_t(dst.numel()) * itemsize(dst.dtype()));
    return;
  }
  pointwise("copy", "a", dst.dtype(), dst, {full({}, value, DType::Float64)}, {dst.dtype()});
}

void cuda_random(const Tensor& t, bool normal, double a, double b, uint64_t seed, uint64_t base) {
  if (t.numel() == 0) return;
  cuda::set_device(t.device().index);
  const std::string name = std::string(normal ? "ember_normal_" : "ember_uniform_") + short_name(t.dtype());
  void* fn = kernel(name, [&] { return ks::random_kernel(name, t.dtype(), normal); });
  void* o = t.raw_data();
  unsigned long long s = seed, bs = base;
  long long n = t.numel();
  void* args[] = {&o, &s, &bs, &n, &a, &b};
  cuda::launch(fn, cuda::grid_for(n), 256, args);
}

Tensor cuda_compute(Prim p, const std::vector<Tensor>& in, const Attrs& attrs, const Shape& shape,
                    DType dtype, Device device) {
  cuda::set_device(device.index);
  if (prim_is_elementwise(p)) {
    Tensor out = empty(shape, dtype, device);
    const DType cd = compute_dtype(p, in);
    std::vector<Tensor> ins(in.begin(), in.begin() + prim_arity(p));
    pointwise(prim_name(p), prim_expr(p), cd, out, ins, std::vector<DType>(ins.size(), cd));
    return out;
  }
  switch (p) {
  case Prim::Where: {
    Tensor out = empty(shape, dtype, device);
    pointwise("where", "where(a, b, c)", dtype, out, in, {DType::Bool, dtype, dtype});
    return out;
  }
  case Prim::MatMul:
  case Prim::BatchMatMul: {
    const bool batched = p == Prim::BatchMatMul;
    Tensor out = empty(shape, dtype, device);
    if (out.numel() == 0) return out;
    const int64_t r = batched ? 1 : 0;
    const int64_t m = shape[r], n = shape[r + 1], k = in[0].shape()[r + 1];
    if (k == 0) {
      cuda_fill(out, 0);
      return out;
    }
    // Each operand as (data, transposed, leading dim, batch stride), copying only when neither
    // it nor its transpose is dense in the last two dimensions.
    struct Operand { Tensor t; bool trans; int64_t ld, batch_stride; };
    auto prepare = [&](const Tensor& x0) {
      Tensor x = on(x0, device).to(dtype);
      const int64_t rows = x.shape()[r], cols = x.shape()[r + 1];
      const int64_t s0 = x.strides()[r], s1 = x.strides()[r + 1];
      const int64_t bs = batched ? x.strides()[0] : 0;
      if (s1 == 1 && (rows == 1 || s0 >= cols)) // row-major, rows ld apart
        return Operand{x, false, std::max<int64_t>(s0, cols), bs};
      if (s0 == 1 && (cols == 1 || s1 >= rows)) // its transpose is row-major
        return Operand{x, true, std::max<int64_t>(s1, rows), bs};
      x = x.contiguous();
      return Operand{x, false, cols, batched ? rows * cols : 0};
    };
    Operand a = prepare(in[0]), b = prepare(in[1]);
    cuda::gemm(dtype, a.trans, b.trans, m, n, k, a.t.raw_data(), a.ld, a.batch_stride,
               b.t.raw_data(), b.ld, b.batch_stride, out.raw_data(), n, m * n,
               batched ? shape[0] : 1);
    return out;
  }
  case Prim::Sum:
  case Prim::Prod:
  case Prim::Amax:
  case Prim::Amin: {
    const Tensor& a = in[0];
    std::vector<bool> reduced(a.dim(), attrs.ints.empty());
    for (int64_t d : attrs.ints) reduced[d] = true;
    Shape perm;
    int64_t rows = 1, cols = 1;
    for (int64_t d = 0; d < a.dim(); ++d)
      if (!reduced[d]) perm.push_back(d), rows *= a.shape()[d];
    for (int64_t d = 0; d < a.dim(); ++d)
      if (reduced[d]) perm.push_back(d), cols *= a.shape()[d];
    if (a.numel() == 0 && (p == Prim::Amax || p == Prim::Amin))
      EMBER_CHECK(rows == 0, Value, op_context(p), "cannot reduce a tensor with no elements "
                  "(shape ", shape_str(a.shape()), "): the operation has no identity");
    Tensor out = empty(shape, dtype, device);
    if (rows == 0) return out;
    const DType acc = is_floating(a.dtype())
                          ? (a.dtype() == DType::Float64 ? DType::Float64 : DType::Float32)
                          : (p == Prim::Sum || p == Prim::Prod ? DType::Int64 : a.dtype());
    const ks::ReduceOp op = p == Prim::Sum    ? ks::ReduceOp::Sum
                            : p == Prim::Prod ? ks::ReduceOp::Prod
                            : p == Prim::Amax ? ks::ReduceOp::Max
                                              : ks::ReduceOp::Min;
    auto kname = [&](const char* kind, DType from, DType to) {
      return std::string("ember_") + prim_name(p) + kind + short_name(from) + "_" + short_name(acc) +
             "_" + short_name(to);
    };
    // Rows of a dense [rows, cols] tensor, into `dst` (rows values of dtype `to`). Long rows
    // with few of them are split into chunks reduced in a second pass.
    auto row_reduce = [&](const Tensor& x, int64_t nrows, int64_t ncols, const Tensor& dst, DType to) {
      auto pass = [&](const Tensor& src, const Tensor& o, DType from, DType into, long long nr,
                      long long nc, long long chunks, long long chunk) {
        const std::string name = kname("_", from, into);
        void* fn = kernel(name, [&] { return ks::reduce_kernel(name, op, from, acc, into); });
        int wpr = chunk > 2048 ? 8 : 1;
        void *op_ = o.raw_data(), *ip = src.raw_data();
        void* args[] = {&op_, &ip, &nr, &nc, &chunks, &chunk, &wpr};
        const long long vrows = nr * chunks, per_block = 8 / wpr;
        cuda::launch(fn, unsigned(std::min<long long>((vrows + per_block - 1) / per_block, 1 << 20)),
                     256, args);
      };
      int64_t chunks = 1;
      if (nrows < 1024 && ncols > 65536)
        chunks = std::min<int64_t>((ncols + 16383) / 16384, std::max<int64_t>(2, 4096 / nrows));
      if (chunks <= 1) return pass(x, dst, x.dtype(), to, nrows, ncols, 1, ncols);
      const int64_t chunk = (ncols + chunks - 1) / chunks;
      chunks = (ncols + chunk - 1) / chunk;
      Tensor partial = empty({nrows * chunks}, acc, device);
      pass(x, partial, x.dtype(), acc, nrows, ncols, chunks, chunk);
      pass(partial, dst, acc, to, nrows, chunks, 1, chunks);
    };
    // A dense input whose reduced dimensions are adjacent: [outer, n, inner] without a copy.
    int64_t first = -1, last = -1;
    for (int64_t d = 0; d < a.dim(); ++d)
      if (reduced[d]) {
        if (first < 0) first = d;
        last = d;
      }
    bool adjacent = a.dim() > 0 && first >= 0 && a.is_contiguous();
    for (int64_t d = first; adjacent && d <= last; ++d) adjacent = reduced[d];
    if (adjacent && a.numel() > 0) {
      int64_t outer = 1, n = 1, inner = 1;
      for (int64_t d = 0; d < a.dim(); ++d)
        (d < first ? outer : d <= last ? n : inner) *= a.shape()[d];
      if (inner == 1) {
        row_reduce(a, outer, n, out, dtype);
        return out;
      }
      auto columns = [&](const Tensor& src, const Tensor& dst, DType from, DType to, long long no,
                         long long nn, long long ni) {
        const std::string name = kname("_cols_", from, to);
        void* fn = kernel(name, [&] { return ks::column_reduce_kernel(name, op, from, acc, to); });
        void *o = dst.raw_data(), *i = src.raw_data();
        void* args[] = {&o, &i, &no, &nn, &ni};
        cuda::launch_xy(fn, unsigned(std::min<long long>(no * ((ni + 31) / 32), 1 << 20)), 32, 32, args);
      };
      // Few column tiles over long columns (a bias gradient: [16384, 1024] is 32 blocks) leave
      // most of the GPU idle: split the columns into `parts` stacked slabs, reduce each into a
      // partial row, then reduce the partials.
      const int64_t tiles = outer * ((inner + 31) / 32);
      int64_t parts = 1;
      while (tiles * parts < 512 && n % (parts * 2) == 0 && n / (parts * 2) >= 64) parts *= 2;
      if (parts == 1) {
        columns(a, out, a.dtype(), dtype, outer, n, inner);
        return out;
      }
      Tensor partial = empty({outer * parts, inner}, acc, device);
      columns(a, partial, a.dtype(), acc, outer * parts, n / parts, inner);
      columns(partial, out, acc, dtype, outer, parts, inner);
      return out;
    }
    Tensor x = permuted_contiguous(a, perm);
    row_reduce(x, rows, cols, out, dtype);
    return out;
  }
  case Prim::ArgMax:
  case Prim::ArgMin: {
    const Tensor& a = in[0];
    EMBER_CHECK(a.numel() > 0, Value, op_context(p), "cannot take ", prim_name(p),
                " of a tensor with no elements (shape ", shape_str(a.shape()), ")");
    Tensor x;
    int64_t cols = a.numel();
    if (attrs.ints.empty()) {
      x = a.contiguous();
    } else {
      const int64_t d = attrs.ints[0];
      Shape perm;
      for (int64_t i = 0; i < a.dim(); ++i)
        if (i != d) perm.push_back(i);
      perm.push_back(d);
      x = permuted_contiguous(a, perm);
      cols = a.dim() ? a.shape()[d] : 1;
    }
    Tensor out = empty(shape, DType::Int64, device);
    const bool is_max = p == Prim::ArgMax;
    const std::string name = std::string("ember_") + prim_name(p) + "_" + short_name(x.dtype());
    void* fn = kernel(name, [&] { return ks::arg_reduce_kernel(name, is_max, x.dtype()); });
    void *o = out.raw_data(), *i = x.raw_data();
    long long rows = a.numel() / cols, nc = cols;
    void* args[] = {&o, &i, &rows, &nc};
    cuda::launch(fn, unsigned(std::min<int64_t>(rows, 1 << 20)), cols >= 256 ? 256 : 32, args);
    return out;
  }
  case Prim::IndexSelect:
  case Prim::IndexAdd: {
    const Tensor a = on(in[0], device).contiguous();
    const int64_t d = attrs.ints[0], src_size = a.shape()[d], dst_size = shape[d];
    const int64_t bound = p == Prim::IndexSelect ? src_size : dst_size;
    const Tensor idx = checked_host_index(in[1], bound, true, ErrorKind::Index, p, d);
    Tensor didx = idx.to(device);
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= shape[i];
    for (int64_t i = d + 1; i < int64_t(shape.size()); ++i) inner *= shape[i];
    Tensor out = empty(shape, dtype, device);
    if (p == Prim::IndexAdd) cuda_fill(out, 0);
    const int64_t total = outer * idx.numel() * inner;
    if (total == 0) return out;
    const std::string name = std::string("ember_") + prim_name(p) + "_" + short_name(dtype);
    void* fn = kernel(name, [&] {
      return p == Prim::IndexSelect ? ks::index_select_kernel(name, dtype)
                                    : ks::index_add_kernel(name, dtype);
    });
    void *o = out.raw_data(), *s = a.raw_data(), *ip = didx.raw_data();
    long long no = outer, ni = idx.numel(), ns = p == Prim::IndexSelect ? src_size : dst_size,
              nin = inner;
    void* args[] = {&o, &s, &ip, &no, &ni, &ns, &nin};
    cuda::launch(fn, cuda::grid_for(total), 256, args);
    return out;
  }
  case Prim::Cast: {
    Tensor out = empty(shape, dtype, device);
    cuda_copy(out, in[0]);
    return out;
  }
  case Prim::SliceBackward: {
    Tensor out = empty(shape, dtype, device);
    cuda_fill(out, 0);
    const int64_t d = attrs.ints[0], start = attrs.ints[1], step = attrs.ints[3];
    Shape strides = out.strides();
    const int64_t offset = in[0].shape()[d] > 0 ? start * strides[d] : 0;
    strides[d] *= step;
    cuda_copy(restride(out, in[0].shape(), strides, offset), on(in[0], device));
    return out;
  }
  case Prim::Cat: {
    Tensor out = empty(shape, dtype, device);
    const int64_t d = attrs.ints[0];
    int64_t at = 0;
    for (const Tensor& t : in) {
      Shape part = shape;
      part[d] = t.shape()[d];
      cuda_copy(restride(out, part, out.strides(), at * out.strides()[d]), on(t, device));
      at += part[d];
    }
    return out;
  }
  case Prim::Gather:
  case Prim::ScatterAdd:
  case Prim::Scatter: {
    const int64_t d = attrs.ints[0];
    const bool gather = p == Prim::Gather;
    const Tensor& index = in[1];
    Tensor out;
    Tensor src; // gather: the source read; scatter: the values written
    if (gather) {
      src = on(in[0], device);
      out = empty(shape, dtype, device);
    } else {
      out = empty(shape, dtype, device); // a fresh copy of self, written in place below
      cuda_copy(out, on(in[0], device));
      src = on(in[2], device).to(dtype);
    }
    if (index.numel() == 0 || out.numel() == 0) return out;
    const Tensor& bounded = gather ? src : out;
    const int64_t bound = bounded.dim() ? bounded.shape()[d] : 1;
    // (PyTorch's RuntimeError for gather/scatter.)
    const Tensor host_idx = checked_host_index(index, bound, false, ErrorKind::Runtime, p, d);
    Tensor didx = index.device() == device ? index.to(DType::Int64).contiguous() : host_idx.to(device);
    const Shape walk = index.dim() ? index.shape() : Shape{1};
    EMBER_CHECK(walk.size() <= size_t(ks::kMaxDims), NotImplemented, op_context(p), "CUDA kernels "
                "index at most ", ks::kMaxDims, " dimensions; got an index of shape ",
                shape_str(index.shape()));
    ks::Indexer ix{};
    ix.ndim = int(walk.size());
    for (size_t k = 0; k < walk.size(); ++k) {
      ix.size[k] = walk[k];
      ix.stride[0][k] = k < bounded.strides().size() && int64_t(k) != d ? bounded.strides()[k] : 0;
      ix.stride[1][k] = !gather && k < src.strides().size() ? src.strides()[k] : 0;
    }
    const std::string name = std::string("ember_") + prim_name(p) + "_" + short_name(dtype);
    void* fn = kernel(name, [&] {
      return gather ? ks::gather_kernel(name, dtype) : ks::scatter_kernel(name, dtype, p == Prim::ScatterAdd);
    });
    void *o = out.raw_data(), *sp = src.raw_data(), *ip = didx.raw_data();
    long long dstride = bounded.dim() ? bounded.strides()[d] : 0, n = index.numel();
    void* args[] = {&o, &sp, &ip, &ix, &dstride, &n};
    cuda::launch(fn, cuda::grid_for(n), 256, args);
    return out;
  }
  case Prim::CumSum:
  case Prim::CumProd: {
    const Tensor a = in[0].contiguous();
    Tensor out = empty(shape, dtype, device);
    if (a.numel() == 0) return out;
    const int64_t d = attrs.ints[0];
    const bool reverse = p == Prim::CumSum && attrs.ints.size() > 1 && attrs.ints[1];
    Lines l = lines_along(a, d);
    const DType acc = !is_floating(a.dtype()) ? DType::Int64
                      : a.dtype() == DType::Float16 || a.dtype() == DType::BFloat16 ? DType::Float32
                                                                                    : DType::Float64;
    const std::string name = std::string("ember_") + prim_name(p) + (reverse ? "_rev_" : "_") +
                             short_name(a.dtype()) + "_" + short_name(dtype);
    void* fn = kernel(name, [&] {
      return ks::scan_kernel(name, a.dtype(), acc, dtype, p == Prim::CumProd, reverse);
    });
    void *o = out.raw_data(), *i = a.raw_data();
    void* args[] = {&o, &i, &l.outer, &l.n, &l.inner};
    cuda::launch(fn, cuda::grid_for(l.outer * l.inner, 128), 128, args);
    return out;
  }
  case Prim::ArgSort: {
    const Tensor a = in[0].contiguous();
    Tensor out = empty(shape, DType::Int64, device);
    if (out.numel() == 0) return out;
    const int64_t d = attrs.ints[0];
    Lines l = lines_along(a, d);
    long long k = a.dim() ? shape[d] : 1;
    int desc = attrs.ints.size() > 1 && attrs.ints[1] ? 1 : 0;
    const std::string name = std::string("ember_argsort_") + short_name(a.dtype());
    void* fn = kernel(name, [&] { return ks::argsort_kernel(name, a.dtype()); });
    void *o = out.raw_data(), *i = a.raw_data();
    void* args[] = {&o, &i, &l.outer, &l.n, &l.inner, &k, &desc};
    cuda::launch(fn, unsigned(std::min<long long>(l.outer * l.inner, 1 << 20)), l.n >= 256 ? 256 : 32,
                 args);
    return out;
  }
  case Prim::Im2Col:
  case Prim::Col2Im: {
    EMBER_CHECK(is_floating(dtype), Type, op_context(p), "expects a floating point tensor, got ",
                dtype_name(dtype));
    const Tensor x = on(in[0], device).to(dtype).contiguous();
    Tensor out = empty(shape, dtype, device);
    const Shape& a = attrs.ints;
    const Shape& image = p == Prim::Im2Col ? x.shape() : shape;
    long long g[14] = {image[0], image[1], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                       a[8], a[9], a[10], a[11]};
    const int64_t total = out.numel();
    if (total == 0) return out;
    if (x.numel() == 0) {
      cuda_fill(out, 0);
      return out;
    }
    double fill = a.size() == 13 && a[12] == 1 ? -std::numeric_limits<double>::infinity() : 0.0;
    const std::string name = std::string("ember_") + prim_name(p) + "_" + short_name(dtype);
    void* fn = kernel(name, [&] {
      return p == Prim::Im2Col ? ks::im2col_kernel(name, dtype) : ks::col2im_kernel(name, dtype);
    });
    void *o = out.raw_data(), *i = x.raw_data();
    std::vector<void*> args = {&o, &i};
    for (long long& v : g) args.push_back(&v);
    if (p == Prim::Im2Col) args.push_back(&fill);
    cuda::launch(fn, cuda::grid_for(total), 256, args.data());
    return out;
  }
  default: break;
  }
  fail(ErrorKind::NotImplemented, op_context(p), "has no CUDA kernel yet; move the tensors to the "
       "CPU with .cpu()");
}

namespace {
// Blocks for a row kernel: 8 rows each, at most 2^20 (the kernels stride over the rest).
unsigned row_blocks(int64_t rows) {
  return unsigned(std::min<int64_t>((rows + 7) / 8, 1 << 20));
}
void* row_kernel(const char* kind, DType d, bool log,
                 std::string (*make)(const std::string&, DType, bool)) {
  const std::string name = std::string("ember_") + kind + (log ? "_log_" : "_") + short_name(d);
  return kernel(name, [&] { return make(name, d, log); });
}
} // namespace

Tensor cuda_softmax_rows(const Tensor& x0, bool log) {
  cuda::set_device(x0.device().index);
  Tensor x = x0.contiguous(), y = empty(x.shape(), x.dtype(), x.device());
  long long n = x.dim() ? x.shape().back() : 1, rows = n ? x.numel() / n : 0;
  if (rows == 0) return y;
  void* fn = row_kernel("softmax", x.dtype(), log, ks::softmax_kernel);
  void *o = y.raw_data(), *i = x.raw_data();
  void* args[] = {&o, &i, &rows, &n};
  cuda::launch(fn, row_blocks(rows), 256, args);
  return y;
}

Tensor cuda_softmax_rows_backward(const Tensor& y0, const Tensor& g0, bool log) {
  cuda::set_device(y0.device().index);
  Tensor y = y0.contiguous(), g = g0.to(y.dtype()).contiguous();
  Tensor dx = empty(y.shape(), y.dtype(), y.device());
  long long n = y.dim() ? y.shape().back() : 1, rows = n ? y.numel() / n : 0;
  if (rows == 0) return dx;
  void* fn = row_kernel("softmax_backward", y.dtype(), log, ks::softmax_backward_kernel);
  void *o = dx.raw_data(), *yp = y.raw_data(), *gp = g.raw_data();
  void* args[] = {&o, &yp, &gp, &rows, &n};
  cuda::launch(fn, row_blocks(rows), 256, args);
  return dx;
}

std::vector<Tensor> cuda_layer_norm_rows(const Tensor& x0, int64_t n_, const Tensor& w0,
                                         const Tensor& b0, double eps) {
  const Device dev = x0.device();
  cuda::set_device(dev.index);
  Tensor x = x0.contiguous();
  auto same = [&](const Tensor& t) { return t.defined() ? t.to(x.dtype()).contiguous() : t; };
  Tensor w = same(w0), b = same(b0);
  long long n = n_, rows = n ? x.numel() / n : 0;
  Tensor y = empty(x.shape(), x.dtype(), dev), mean = empty({rows}, DType::Float32, dev);
  Tensor rstd = empty({rows}, DType::Float32, dev);
  if (rows == 0 || n == 0) return {y, mean, rstd};
  const std::string name = std::string("ember_layer_norm_") + short_name(x.dtype());
  void* fn = kernel(name, [&] { return ks::layer_norm_kernel(name, x.dtype()); });
  void *o = y.raw_data(), *mp = mean.raw_data(), *rp = rstd.raw_data(), *xp = x.raw_data();
  void* wp = w.defined() ? w.raw_data() : nullptr;
  void* bp = b.defined() ? b.raw_data() : nullptr;
  void* args[] = {&o, &mp, &rp, &xp, &wp, &bp, &rows, &n, &eps};
  cuda::launch(fn, row_blocks(rows), 256, args);
  return {y, mean, rstd};
}

std::vector<Tensor> cuda_layer_norm_rows_backward(const Tensor& x0, int64_t n_, const Tensor& w0,
                                                  const Tensor& mean, const Tensor& rstd,
                                                  const Tensor& g0, bool want_dx, bool want_gxhat) {
  const Device dev = x0.device();
  cuda::set_device(dev.index);
  Tensor x = x0.contiguous(), g = g0.to(x.dtype()).contiguous();
  Tensor w = w0.defined() ? w0.to(x.dtype()).contiguous() : w0;
  long long n = n_, rows = n ? x.numel() / n : 0;
  Tensor dx = want_dx ? empty(x.shape(), x.dtype(), dev) : Tensor();
  Tensor gxhat = want_gxhat ? empty({rows, n}, DType::Float32, dev) : Tensor();
  if (rows == 0 || n == 0 || !(want_dx || want_gxhat)) {
    if (want_gxhat) cuda_fill(gxhat, 0);
    return {dx, gxhat};
  }
  const std::string name = std::string("ember_layer_norm_backward_") + short_name(x.dtype());
  void* fn = kernel(name, [&] { return ks::layer_norm_backward_kernel(name, x.dtype()); });
  void* dp = want_dx ? dx.raw_data() : nullptr;
  void* hp = want_gxhat ? gxhat.raw_data() : nullptr;
  void *xp = x.raw_data(), *mp = mean.raw_data(), *rp = rstd.raw_data(), *gp = g.raw_data();
  void* wp = w.defined() ? w.raw_data() : nullptr;
  void* args[] = {&dp, &hp, &xp, &wp, &mp, &rp, &gp, &rows, &n};
  cuda::launch(fn, row_blocks(rows), 256, args);
  return {dx, gxhat};
}

void cuda_optimizer_step(const char* kind, const Tensor& param, const Tensor& grad,
                         const Tensor& s0, const Tensor& s1, const Tensor& s2,
                         const double (&h)[8], int flags) {
  cuda::set_device(param.device().index);
  long long n = param.numel();
  if (n == 0) return;
  const std::string name = std::string("ember_optim_") + kind + "_" + short_name(param.dtype());
  void* fn = kernel(name, [&] { return ks::optimizer_kernel(name, kind, param.dtype()); });
  struct Args { double h[8]; int flags; } a{};
  for (int i = 0; i < 8; ++i) a.h[i] = h[i];
  a.flags = flags;
  auto raw = [](const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; };
  void *p = param.raw_data(), *g = grad.raw_data(), *q0 = raw(s0), *q1 = raw(s1), *q2 = raw(s2);
  void* args[] = {&p, &g, &q0, &q1, &q2, &n, &a};
  cuda::launch(fn, cuda::grid_for(n), 256, args);
}

} // namespace ember::detail
