// ember's primitives and the functions users call. Every op goes through one dispatcher
// (`apply`), which runs the CPU kernel now, records a graph node when autograd or tracing needs
// one, and is the only code that knows how to do either.
#pragma once

#include "ember/Tensor.h"

#include <optional>
#include <string>
#include <vector>

namespace ember {

// The primitives: the elementwise records of ops/Elementwise.def, then the structural ones.
enum class Prim {
#define EMBER_ELEMENTWISE(Name, ...) Name,
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  MatMul,    // 2-D matrix product
  Sum,       // sum over `ints` dims (all when empty), keepdim
  Amax,      // max over `ints` dims (all when empty), keepdim
  Amin,      // min over `ints` dims, keepdim
  Prod,      // product over `ints` dims, keepdim
  ArgMax,    // index of the max along ints[0] (the flattened tensor when empty), keepdim
  ArgMin,    // index of the min, likewise
  Reshape,   // to shape `ints` (a view when contiguous)
  Transpose, // swap dims ints[0], ints[1] (a view)
  Expand,    // broadcast to shape `ints` (a view)
  Permute,   // reorder dims: output dim i is input dim ints[i] (a view)
  Slice,     // ints = {dim, start, end, step}: every step-th index in [start, end) (a view)
  SliceBackward, // ints = {dim, start, end, step, size}: zeros of size `size` along dim with the
                 // input written into the slice (the VJP of Slice)
  Cat,       // concatenate the inputs along ints[0] (variadic)
  Where,     // where(cond, a, b) with broadcasting
  BatchMatMul, // [B,M,K] @ [B,K,N]
  IndexSelect, // (a, index): the entries index[i] of a along ints[0] (index 1-D integer)
  IndexAdd,    // (src, index): zeros of size ints[1] along ints[0] with src's entries added at
               // index (the VJP of IndexSelect; repeated indices accumulate)
  Im2Col,      // [N, C, H, W] -> [C*kh*kw, N*oh*ow] sliding windows; ints = the window geometry
               // {kh, kw, sh, sw, pad_top, pad_left, dh, dw, oh, ow, H, W} (zeros outside; a
               // 13th entry 1: -inf outside, for max pooling)
  Col2Im,      // the adjoint of Im2Col (same ints): overlapping window entries accumulate
  CumSum,      // ints = {dim, reverse}: running sums along dim (from the end when reverse)
  CumProd,     // ints = {dim}: running products along dim
  Gather,      // (a, index): out[i][j] = a[index[i][j]][j] along ints[0] (index int64, a's rank)
  ScatterAdd,  // (self, index, src): self with src[i][j] added at [index[i][j]][j] along ints[0]
  Scatter,     // (self, index, src): self with src[i][j] written at [index[i][j]][j] (last wins)
  ArgSort,     // indices sorting a along ints[0]; ints[1]: descending; ints[2] (optional): keep
               // only the first k (topk). Stable, NaN largest
  Unfold,      // ints = {dim, size, step}: windows along dim as a new last dimension (a view)
  Cast,        // ints = {dtype}: a fresh dense copy converted to that dtype (clone, contiguous
               // and .to(dtype) when autograd or tracing needs to see them); VJP: cast back
};

// Attributes of a primitive: one list of integers and one flag cover every primitive so far.
struct Attrs {
  Shape ints;
  bool keepdim = false;
  bool operator==(const Attrs& o) const { return ints == o.ints && keepdim == o.keepdim; }
};

const char* prim_name(Prim p);
// Number of tensor inputs (-1: any number).
int prim_arity(Prim p);
bool prim_is_elementwise(Prim p);
// Whether `p` makes a view of its first input (reshape where the layout allows, transpose,
// expand, permute, slice, unfold).
bool prim_is_view(Prim p);
// The CUDA C / scalar expression of an elementwise primitive, in `a` and `b` ("" otherwise).
const char* prim_expr(Prim p);

// The dtype elementwise primitive `p` computes in for these inputs (its dtype rule applied to
// their result_type); the compiler casts operands to it.
DType compute_dtype(Prim p, const std::vector<Tensor>& inputs);

// PyTorch's result_type: promotion over tensors, 0-d tensors and wrapped Python scalars.
DType result_type(const std::vector<Tensor>& tensors);

// The dispatcher: checks shapes, computes (or records symbolically), records for autograd.
Tensor apply(Prim p, const std::vector<Tensor>& inputs, const Attrs& attrs = {});
// The same; a node recorded for autograd takes over `inputs` instead of copying them.
Tensor apply(Prim p, std::vector<Tensor>&& inputs, const Attrs& attrs = {});
// The output shape of `p` on inputs of these shapes (throws ember::Error naming the op).
Shape infer_shape(Prim p, const std::vector<Shape>& inputs, const Attrs& attrs);

// Elementwise ops, one function per record.
#define EMBER_DECL_1(name) Tensor name(const Tensor& a);
#define EMBER_DECL_2(name) Tensor name(const Tensor& a, const Tensor& b);
#define EMBER_ELEMENTWISE(Name, name, arity, ...) EMBER_DECL_##arity(name)
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
#undef EMBER_DECL_1
#undef EMBER_DECL_2

// 2-D matrix product (torch.mm); `matmul` below handles every torch.matmul case.
Tensor mm(const Tensor& a, const Tensor& b);
// Sum over `dims` (every dim when empty), dropping them unless keepdim (torch.sum).
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor amax(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
// dim < 0 after wrapping is not allowed; `std::nullopt`-like: pass no dim for the flattened tensor.
Tensor argmax(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// Composites: written with the primitives above, so autograd and the compiler need nothing new.
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor var(const Tensor& a, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& a, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim = false);
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
Tensor all(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor any(const Tensor& a, const Shape& dims = {}, bool keepdim = false);

Tensor reshape(const Tensor& a, const Shape& shape);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor expand(const Tensor& a, const Shape& shape);
Tensor permute(const Tensor& a, const Shape& dims);
// Every step-th element of [start, end) along dim (negative and out-of-range bounds clamp
// like Python slices; step > 0).
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& a, int64_t dim, int64_t index);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor squeeze(const Tensor& a, std::optional<int64_t> dim = std::nullopt);
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
// reshape that never copies: the tensor must be contiguous.
Tensor view(const Tensor& a, const Shape& shape);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// torch.matmul: 1-D and batched operands, batch dimensions broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
Tensor dot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);
// Sums `a` down to `shape` (the reverse of broadcasting `shape` to a.shape()).
Tensor sum_to(const Tensor& a, const Shape& shape);
// In place: writes `src` (broadcast, converted) into `self`'s memory, which views share.
Tensor& copy_(Tensor& self, const Tensor& src);
// In place: self = result (an op's out-of-place result on self), after PyTorch's checks: the
// result broadcasts to self's shape and its dtype can be cast to self's.
Tensor& assign_(Tensor& self, const Tensor& result, const char* op);
Tensor zeros_like(const Tensor& a);
// A fresh dense copy of `a` converted to `dtype`, differentiable (torch's a.to(dtype, copy=True)).
Tensor cast(const Tensor& a, DType dtype);
// Differentiable torch.clone: a fresh dense copy.
Tensor clone(const Tensor& a);
// Differentiable Tensor.contiguous(): `a` itself when dense, else a dense copy.
Tensor contiguous(const Tensor& a);
// A Python-scalar-like constant: 0-d and weak in type promotion (VJP rules use it).
Tensor scalar(double value);
Tensor ones_like(const Tensor& a);

// The sliding-window primitives behind convolution and pooling (frontend/src/ConvOps.cpp);
// `window` is Im2Col's geometry {kh, kw, sh, sw, pad_top, pad_left, dh, dw, oh, ow, H, W}.
Tensor im2col(const Tensor& image, const Shape& window);
Tensor col2im(const Tensor& cols, const Shape& window);

} // namespace ember
