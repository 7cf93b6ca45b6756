// Autograd as a graph transform: walk the recorded nodes from the outputs back and apply each
// primitive's VJP rule, written with ember ops (so the rules themselves record when
// create_graph is set, and under tracing they become part of the trace).
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/ReductionOps.h"
#include "ember/ShapeOps.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace ember {
namespace {

thread_local bool g_grad_enabled = true;

// The cotangent of each input of `n`, given the cotangent `g` of its output (undefined where
// the primitive has no gradient for that input).
std::vector<Tensor> vjp(const Node& n, const Tensor& g) {
  switch (n.prim) {
#define EMBER_ELEMENTWISE(Name, name, arity, rule, expr, summary, grad_a, grad_b) \
  case Prim::Name: {                                                        \
    const Tensor& a = n.inputs[0];                                          \
    const Tensor& b = n.inputs[arity - 1];                                  \
    (void)b;                                                                \
    std::vector<Tensor> out{sum_to(Tensor grad_a, a.shape())};              \
    if (arity == 2) out.push_back(sum_to(Tensor grad_b, b.shape()));        \
    return out;                                                             \
  }
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  case Prim::MatMul: {
    // da = g b^T and db = a^T g, each only where needed. mm copies a transposed operand, so
    // where that operand is the biggest tensor (convolution's columns), the product is
    // transposed instead: g b^T = (b g^T)^T.
    const Tensor &a = n.inputs[0], &b = n.inputs[1];
    const int64_t m = a.shape()[0], k = a.shape()[1], c = b.shape()[1];
    Tensor da, db;
    if (a.requires_grad())
      da = k * c > m * c + m * k ? transpose(mm(b, transpose(g, 0, 1)), 0, 1)
                                 : mm(g, transpose(b, 0, 1));
    if (b.requires_grad())
      db = m * k > m * c + k * c ? transpose(mm(transpose(g, 0, 1), a), 0, 1)
                                 : mm(transpose(a, 0, 1), g);
    return {da, db};
  }
  case Prim::Sum: {
    const Tensor& a = n.inputs[0];
    Tensor g2 = g;
    if (!n.attrs.keepdim) {
      Shape kept = a.shape();
      for (size_t d = 0; d < kept.size(); ++d)
        if (n.attrs.ints.empty() ||
            std::find(n.attrs.ints.begin(), n.attrs.ints.end(), int64_t(d)) != n.attrs.ints.end())
          kept[d] = 1;
      g2 = reshape(g, kept);
    }
    return {expand(g2, a.shape())};
  }
  case Prim::Amax:
  case Prim::Amin:
  case Prim::Prod: {
    // The gradient flows to the selected elements (shared equally between ties, as in
    // PyTorch's amax/amin), or for prod to each element as prod / element.
    const Tensor& a = n.inputs[0];
    Shape kept = a.shape();
    for (size_t d = 0; d < kept.size(); ++d)
      if (n.attrs.ints.empty() ||
          std::find(n.attrs.ints.begin(), n.attrs.ints.end(), int64_t(d)) != n.attrs.ints.end())
        kept[d] = 1;
    Tensor gk = n.attrs.keepdim ? g : reshape(g, kept);
    Tensor r = apply(n.prim, {a}, {n.attrs.ints, true});
    if (n.prim == Prim::Prod) return {div(mul(expand(gk, a.shape()), expand(r, a.shape())), a)};
    Tensor hit = eq(a, r);
    Tensor count = sum(hit, n.attrs.ints, true);
    return {mul(div(expand(gk, a.shape()), count), hit)};
  }
  case Prim::ArgMax:
  case Prim::ArgMin:
    return {Tensor()};
  case Prim::Reshape:
    return {reshape(g, n.inputs[0].shape())};
  case Prim::Transpose:
    return {transpose(g, n.attrs.ints[0], n.attrs.ints[1])};
  case Prim::Expand:
    return {sum_to(g, n.inputs[0].shape())};
  case Prim::Permute: {
    Shape inverse(n.attrs.ints.size());
    for (size_t i = 0; i < inverse.size(); ++i) inverse[n.attrs.ints[i]] = int64_t(i);
    return {permute(g, inverse)};
  }
  case Prim::Slice: {
    const Shape& s = n.attrs.ints;
    return {apply(Prim::SliceBackward, {g}, {{s[0], s[1], s[2], s[3], n.inputs[0].shape()[s[0]]}})};
  }
  case Prim::SliceBackward: {
    const Shape& s = n.attrs.ints;
    return {slice(g, s[0], s[1], s[2], s[3])};
  }
  case Prim::Cat: {
    std::vector<Tensor> out;
    int64_t at = 0;
    const int64_t d = n.attrs.ints[0];
    for (const Tensor& t : n.inputs) {
      out.push_back(slice(g, d, at, at + t.shape()[d], 1));
      at += t.shape()[d];
    }
    return out;
  }
  case Prim::Where: {
    const Tensor& c = n.inputs[0];
    Tensor zero = zeros_like(g);
    return {Tensor(), sum_to(where(c, g, zero), n.inputs[1].shape()),
            sum_to(where(c, zero, g), n.inputs[2].shape())};
  }
  case Prim::IndexSelect: {
    const Tensor &a = n.inputs[0], &idx = n.inputs[1];
    const int64_t d = n.attrs.ints[0];
    return {apply(Prim::IndexAdd, {g, idx}, {{d, a.shape()[d]}}), Tensor()};
  }
  case Prim::IndexAdd:
    return {index_select(g, n.attrs.ints[0], n.inputs[1]), Tensor()};
  case Prim::BatchMatMul: {
    const Tensor &a = n.inputs[0], &b = n.inputs[1];
    return {a.requires_grad() ? bmm(g, transpose(b, 1, 2)) : Tensor(),
            b.requires_grad() ? bmm(transpose(a, 1, 2), g) : Tensor()};
  }
  case Prim::Im2Col: // what fills the outside is a constant: no gradient
    return {col2im(g, Shape(n.attrs.ints.begin(), n.attrs.ints.begin() + 12))};
  case Prim::Col2Im:
    return {im2col(g, n.attrs.ints)};
  case Prim::CumSum:
    return {apply(Prim::CumSum, {g}, {{n.attrs.ints[0], !n.attrs.ints[1]}})};
  case Prim::CumProd:
    return {cumprod_backward(n.inputs[0], g, n.attrs.ints[0])};
  case Prim::Gather: {
    const Tensor &a = n.inputs[0], &idx = n.inputs[1];
    return {scatter_add(zeros(a.shape(), g.dtype()), n.attrs.ints[0], idx, g), Tensor()};
  }
  case Prim::ScatterAdd:
  case Prim::Scatter: {
    const Tensor &idx = n.inputs[1], &src = n.inputs[2];
    const int64_t d = n.attrs.ints[0];
    // Written positions take src's gradient; scatter overwrote self there.
    Tensor gself = n.prim == Prim::ScatterAdd ? g : scatter(g, d, idx, 0.0);
    Tensor gsrc = gather(g, d, idx);
    for (int64_t k = 0; k < gsrc.dim(); ++k) // src may be larger than index: zeros beyond it
      if (gsrc.shape()[k] != src.shape()[k])
        gsrc = apply(Prim::SliceBackward, {gsrc}, {{k, 0, gsrc.shape()[k], 1, src.shape()[k]}});
    return {gself, Tensor(), gsrc};
  }
  case Prim::ArgSort:
    return {Tensor()};
  case Prim::Unfold: {
    const Tensor& a = n.inputs[0];
    if (a.dim() == 0) return {reshape(sum(g), {})};
    const int64_t d = n.attrs.ints[0], size = n.attrs.ints[1], step = n.attrs.ints[2];
    const int64_t windows = g.shape()[d];
    // Window w, element k came from position w * step + k: add the windows back there.
    Tensor pos = add(unsqueeze(arange(0, double(windows * step), double(step), DType::Int64), 1),
                     unsqueeze(arange(0, double(size), 1, DType::Int64), 0));
    Tensor flat = flatten(movedim(g, -1, d + 1), d, d + 1);
    return {apply(Prim::IndexAdd, {flat, reshape(pos, {-1})}, {{d, a.shape()[d]}})};
  }
  }
  fail(ErrorKind::Runtime, "autograd", "no VJP rule for ", prim_name(n.prim));
}

using CotangentMap = std::unordered_map<TensorImpl*, Tensor>;

void accumulate(CotangentMap& cot, const Tensor& key, const Tensor& g) {
  auto [it, inserted] = cot.emplace(key.unsafe_impl(), g);
  if (!inserted) it->second = add(it->second, g);
}

// Runs the transform from `outputs`; returns the cotangent of every tensor reached.
CotangentMap backprop(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                      bool create_graph, const char* api) {
  EMBER_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), Value, api,
              "got ", outputs.size(), " outputs but ", grad_outputs.size(), " gradients");
  CotangentMap cot;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    EMBER_CHECK(out.requires_grad(), Runtime, api, "element ", i,
                " of tensors does not require grad and does not have a grad_fn; call "
                "requires_grad_() on the leaves you differentiate with respect to");
    Tensor g;
    if (grad_outputs.empty() || !grad_outputs[i].defined()) {
      EMBER_CHECK(out.numel() == 1, Runtime, api,
                  "grad can be implicitly created only for scalar outputs (output ", i,
                  " has shape ", shape_str(out.shape()), "); pass a gradient of that shape");
      g = ones(out.shape(), out.dtype(), out.device());
    } else {
      g = grad_outputs[i];
      EMBER_CHECK(g.shape() == out.shape(), Value, api, "gradient of shape ",
                  shape_str(g.shape()), " does not match output ", i, " of shape ",
                  shape_str(out.shape()));
    }
    accumulate(cot, out, g);
  }
  GradModeGuard mode(create_graph);
  std::vector<Graph::Step> order = topological_order(outputs);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto found = cot.find(it->output.unsafe_impl());
    if (found == cot.end()) continue;
    const Node& node = *it->node;
    std::vector<Tensor> grads = vjp(node, found->second);
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (grads[i].defined() && node.inputs[i].requires_grad())
        accumulate(cot, node.inputs[i], grads[i]);
  }
  return cot;
}

} // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool enabled) { g_grad_enabled = enabled; }
GradModeGuard::GradModeGuard(bool enabled) : prev_(g_grad_enabled) { g_grad_enabled = enabled; }
GradModeGuard::~GradModeGuard() { g_grad_enabled = prev_; }

std::vector<Graph::Step> topological_order(const std::vector<Tensor>& roots) {
  std::vector<Graph::Step> order;
  std::unordered_set<TensorImpl*> seen;
  // Iterative post-order DFS: (tensor, next input to visit).
  std::vector<std::pair<Tensor, size_t>> stack;
  for (const Tensor& r : roots) {
    if (!r.defined() || !r.grad_fn() || !seen.insert(r.unsafe_impl()).second) continue;
    stack.push_back({r, 0});
    while (!stack.empty()) {
      auto& [t, next] = stack.back();
      const auto& inputs = t.grad_fn()->inputs;
      if (next < inputs.size()) {
        const Tensor& in = inputs[next++];
        if (in.grad_fn() && seen.insert(in.unsafe_impl()).second) stack.push_back({in, 0});
      } else {
        order.push_back({t.grad_fn(), t});
        stack.pop_back();
      }
    }
  }
  return order;
}

namespace autograd {

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         bool allow_unused) {
  for (size_t i = 0; i < inputs.size(); ++i)
    EMBER_CHECK(inputs[i].requires_grad(), Runtime, "ember.autograd.grad", "input ", i,
                " does not require grad; call requires_grad_() on it before the forward pass");
  CotangentMap cot = backprop(outputs, grad_outputs, create_graph, "ember.autograd.grad");
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = cot.find(inputs[i].unsafe_impl());
    EMBER_CHECK(it != cot.end() || allow_unused, Runtime, "ember.autograd.grad", "input ", i,
                " was not used to compute the outputs; pass allow_unused=True if that is "
                "intended");
    result.push_back(it == cot.end() ? Tensor() : (create_graph ? it->second : it->second.detach()));
  }
  return result;
}

} // namespace autograd

Tensor& Tensor::set_requires_grad(bool value) {
  EMBER_CHECK(!value || is_floating(dtype()), Runtime, "ember.Tensor.requires_grad_",
              "only Tensors of floating point dtype can require gradients (this one is ",
              dtype_name(dtype()), "); convert it with .to(ember.float32) first");
  EMBER_CHECK(value || !impl().grad_fn || is_symbolic(), Runtime, "ember.Tensor.requires_grad_",
              "you can only change requires_grad flags of leaf variables; use detach() to get "
              "a tensor that does not require grad");
  mutable_impl().requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) {
  EMBER_CHECK(!g.defined() || g.shape() == shape(), Value, "ember.Tensor.grad",
              "assigned grad has shape ", shape_str(g.shape()), " but the tensor has shape ",
              shape_str(shape()));
  mutable_impl().grad = g.defined() ? g.impl_ : nullptr;
}

void Tensor::backward(const Tensor& gradient, bool create_graph) const {
  CotangentMap cot = backprop({*this}, {gradient}, create_graph, "ember.Tensor.backward");
  // Leaves are the tensors that require grad and were not produced by a recorded node.
  for (auto& [impl, g] : cot) {
    if (impl->grad_fn || !impl->requires_grad) continue;
    Tensor leaf_grad = create_graph ? g : g.detach();
    impl->grad = impl->grad ? add(Tensor(impl->grad), leaf_grad).impl_ : leaf_grad.impl_;
  }
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->symbolic = impl_->symbolic;
  impl->dtype = impl_->dtype;
  // A traced value stays the same graph value: only its gradient tracking is cut.
  if (impl->symbolic) impl->grad_fn = impl_->grad_fn;
  return Tensor(std::move(impl));
}

} // namespace ember
