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
};

// Attributes of a primitive: one list of integers and one flag cover every primitive so far.
struct Attrs {
  Shape ints;
  bool keepdim = false;
  bool operator==(const Attrs& o) const { return ints == o.ints && keepdim == o.keepdim; }
};

const char* prim_name(Prim p);
// Number of tensor inputs.
int prim_arity(Prim p);
bool prim_is_elementwise(Prim p);
// The CUDA C / scalar expression of an elementwise primitive, in `a` and `b` ("" otherwise).
const char* prim_expr(Prim p);

// PyTorch's result_type: promotion over tensors, 0-d tensors and wrapped Python scalars.
DType result_type(const std::vector<Tensor>& tensors);

// The dispatcher: checks shapes, computes (or records symbolically), records for autograd.
Tensor apply(Prim p, const std::vector<Tensor>& inputs, const Attrs& attrs = {});
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

Tensor matmul(const Tensor& a, const Tensor& b);
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
// Sums `a` down to `shape` (the reverse of broadcasting `shape` to a.shape()).
Tensor sum_to(const Tensor& a, const Shape& shape);
Tensor zeros_like(const Tensor& a);
// A Python-scalar-like constant: 0-d and weak in type promotion (VJP rules use it).
Tensor scalar(double value);
Tensor ones_like(const Tensor& a);

} // namespace ember
