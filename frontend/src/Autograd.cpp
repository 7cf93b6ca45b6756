// Autograd as a graph transform: walk the recorded nodes from the outputs back and apply each
// primitive's VJP rule, written with ember ops (so the rules themselves record when
// create_graph is set, and under tracing they become part of the trace).
#include "ember/Autocast.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "PtrMap.h"
#include "TraceState.h"
#include "ember/ReductionOps.h"
#include "ember/ShapeOps.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace ember {
namespace {

thread_local bool g_grad_enabled = true;
thread_local int64_t g_next_hook_id = 1;

// Whether the text of a VJP expression uses the identifier `c` (the input a or b).
bool mentions(const char* text, char c) {
  auto ident = [](char x) { return std::isalnum(static_cast<unsigned char>(x)) || x == '_'; };
  for (size_t i = 0; text[i]; ++i)
    if (text[i] == c && (i == 0 || !ident(text[i - 1])) && !ident(text[i + 1])) return true;
  return false;
}

// The cotangent of each input of `n`, given the cotangent `g` of its output (undefined where
// the primitive has no gradient for that input).
std::vector<Tensor> vjp(const Node& n, const Tensor& g) {
  switch (n.prim) {
#define EMBER_ELEMENTWISE(Name, name, arity, rule, expr, summary, grad_a, grad_b) \
  case Prim::Name: {                                                        \
    const Tensor& a = n.inputs[0];                                          \
    const Tensor& b = n.inputs[arity - 1];                                  \
    (void)b;                                                                \
    /* only the gradients some input needs (a constant operand's costs a */ \
    /* full pass or more: pow's exponent gradient takes log, where, ...) */   \
    std::vector<Tensor> out(arity);                                         \
    if (a.requires_grad()) out[0] = sum_to(Tensor grad_a, a.shape());       \
    if (arity == 2 && b.requires_grad())                                    \
      out[arity - 1] = sum_to(Tensor grad_b, b.shape());                    \
    return out;                                                             \
  }
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  case Prim::MatMul: {
    // da = g b^T and db = a^T g, each only where needed, each in its operand's layout: a
    // transposed operand (a Linear's w.t()) gets its gradient as (g^T a)^T, so the gradient
    // of the weight itself comes out contiguous (the GEMM reads transposed operands in place;
    // no copy either way, and the optimizer's step needs none).
    const Tensor &a = n.inputs[0], &b = n.inputs[1];
    auto transposedLayout = [](const Tensor& t) {
      return t.dim() == 2 && t.shape()[0] > 1 && t.shape()[1] > 1 && t.strides()[0] == 1 &&
             t.strides()[1] == t.shape()[0];
    };
    Tensor da, db;
    if (a.requires_grad())
      da = transposedLayout(a) ? transpose(mm(b, transpose(g, 0, 1)), 0, 1)
                               : mm(g, transpose(b, 0, 1));
    if (b.requires_grad())
      db = transposedLayout(b) ? transpose(mm(transpose(g, 0, 1), a), 0, 1)
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
    // The mask in g's dtype, so the count is too (and the rule compiles: no int64 sum).
    Tensor hit = cast(eq(a, r), g.dtype());
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
    return {scatter_add(zeros(a.shape(), g.dtype(), g.device()), n.attrs.ints[0], idx, g), Tensor()};
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
  case Prim::Cast:
    return {cast(g, n.inputs[0].dtype())};
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

// Whether input j of n gets a gradient (an edge to a node or a leaf).
bool needs_grad(const Node& n, size_t j) {
  return j < n.next.size() && (n.next[j].fn || n.next[j].leaf);
}

// Whether the VJP rule of `n` reads the data of input i (not only its shape): those inputs
// are the node's saved tensors, checked against in-place writes and freed after backward.
bool reads_input(const Node& n, size_t i) {
  if (n.custom) return false; // a custom function keeps what it saved itself
  switch (n.prim) {
  // A record's input is read when a gradient the backward computes mentions it: grad_a only
  // when input a gets one, grad_b when b does (x * 3 never reads x: it may change in place
  // afterwards, as in PyTorch).
#define EMBER_ELEMENTWISE(Name, name, arity, rule, expr, summary, grad_a, grad_b) \
  case Prim::Name: {                                                          \
    static const bool by_a[2] = {mentions(#grad_a, 'a'), mentions(#grad_a, 'b')}; \
    static const bool by_b[2] = {mentions(#grad_b, 'a'), mentions(#grad_b, 'b')}; \
    const size_t k = i < 2 ? i : 1;                                           \
    return (by_a[k] && needs_grad(n, 0)) || (by_b[k] && needs_grad(n, 1));     \
  }
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  case Prim::MatMul:
  case Prim::BatchMatMul:
  case Prim::Amax:
  case Prim::Amin:
  case Prim::Prod:
  case Prim::CumProd:
    return true;
  case Prim::Where: // the condition
  case Prim::IndexSelect:
  case Prim::IndexAdd:
  case Prim::Gather:
  case Prim::ScatterAdd:
  case Prim::Scatter: // the index
    return n.inputs[i].dtype() == DType::Bool || !is_floating(n.inputs[i].dtype());
  default:
    return false;
  }
}

void add_into(Tensor& slot, const Tensor& g) { slot = slot.defined() ? add(slot, g) : g; }

Tensor run_hooks(const HookList& hooks, Tensor g) {
  for (const auto& [id, hook] : hooks) {
    Tensor r = hook(g);
    if (r.defined()) g = r;
  }
  return g;
}

const char* kFreed =
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.";

void check_saved(const Node& n) {
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (!reads_input(n, i)) continue;
    EMBER_CHECK(!n.released, Runtime, "autograd", kFreed);
    const Tensor& t = n.inputs[i];
    if (!t.storage() || i >= n.next.size()) continue;
    EMBER_CHECK(t.storage()->version() == n.next[i].version, Runtime, "autograd",
                "one of the variables needed for gradient computation has been modified by an "
                "inplace operation: [", dtype_name(t.dtype()), " ", shape_str(t.shape()),
                "], input ", i, " of ", node_name(n), ", is at version ", t.storage()->version(),
                "; expected version ", n.next[i].version, " instead. Hint: use the out-of-place form "
                "of the operation (or clone() the tensor before modifying it)");
  }
}

// The shells release() made during one backward, by the tensor they stand for: a tensor that
// many nodes saved (an input used many times) gets one.
using Shells = detail::PtrMap<TensorImpl, Tensor>;

// Frees a node's saved tensors: each input becomes a shell with its shape and flags.
void release(Node& n, Shells& shells) {
  if (n.released) return;
  n.released = true;
  if (n.custom) {
    n.custom->output = Tensor();
    if (n.custom->release) n.custom->release();
  }
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Tensor& t = n.inputs[i];
    if (!t.storage()) continue;
    if (t.shared_impl().use_count() == 1) {
      // Nothing else holds this tensor (an intermediate of the graph): it becomes the shell
      // itself, without a copy of its shape. Dropping its grad_fn here never frees a node the
      // backward walk still has to visit: each of those is held by a consumer's Edge, and
      // edges are never cleared.
      TensorImpl& impl = *t.unsafe_impl();
      impl.storage = nullptr;
      impl.offset = 0;
      impl.wrapped_number = false;
      impl.symbolic = true;
      impl.grad_fn = nullptr;
      impl.grad = nullptr;
      impl.view_base = nullptr;
      impl.view_base_fn = nullptr;
      impl.hooks = nullptr;
      continue;
    }
    Tensor& shell = shells[t.unsafe_impl()];
    if (!shell.defined()) {
      auto impl = std::make_shared<TensorImpl>();
      impl->shape = t.shape();
      impl->strides = t.strides();
      impl->dtype = t.dtype();
      impl->requires_grad = t.requires_grad();
      impl->symbolic = true; // no data: reading it is an error, never a wild pointer
      shell = Tensor(std::move(impl));
    }
    n.inputs[i] = shell;
  }
}

// Nodes reachable from `roots` through their edges, each after every node it sends gradient to
// (so the reverse is an order in which each node's cotangent is complete when it runs).
std::vector<Node*> node_order(const std::vector<Node*>& roots) {
  std::vector<Node*> order;
  detail::PtrMap<Node, char> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  for (Node* r : roots) {
    if (!r || !seen.insert(r)) continue;
    stack.push_back({r, 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->next.size()) {
        Node* in = n->next[next++].fn.get();
        if (in && seen.insert(in)) stack.push_back({in, 0});
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

struct Cotangents {
  detail::PtrMap<Node, Tensor> nodes;
  detail::PtrMap<TensorImpl, Tensor> leaves;
};

// The transform: from `outputs` weighted by `grad_outputs`, every node's and leaf's cotangent.
Cotangents backprop(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                    bool create_graph, bool retain_graph, const char* api) {
  autocast::Exclude no_autocast; // backward ops run in the dtypes the forward ops ran in
  EMBER_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), Runtime, api,
              "got ", outputs.size(), " outputs but ", grad_outputs.size(), " gradients");
  Cotangents cot;
  std::vector<Node*> roots;
  bool symbolic = false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    EMBER_CHECK(out.defined(), Runtime, api, "output ", i, " is None");
    EMBER_CHECK(out.requires_grad(), Runtime, api, "element ", i,
                " of tensors does not require grad and does not have a grad_fn; call "
                "requires_grad_() on the leaves you differentiate with respect to, before the "
                "forward pass (and outside ember.no_grad())");
    symbolic |= out.is_symbolic();
    Tensor g;
    if (grad_outputs.empty() || !grad_outputs[i].defined()) {
      EMBER_CHECK(out.numel() == 1, Runtime, api,
                  "grad can be implicitly created only for scalar outputs (output ", i,
                  " has shape ", shape_str(out.shape()), "); pass a gradient of that shape");
      g = ones(out.shape(), out.dtype(), out.device());
    } else {
      g = grad_outputs[i];
      EMBER_CHECK(g.shape() == out.shape(), Runtime, api, "Mismatch in shape: grad_output[", i,
                  "] has a shape of ", shape_str(g.shape()), " and output[", i,
                  "] has a shape of ", shape_str(out.shape()), "; pass a gradient of the "
                  "output's shape");
    }
    if (out.grad_fn()) {
      add_into(cot.nodes[out.grad_fn().get()], g);
      roots.push_back(out.grad_fn().get());
    } else {
      add_into(cot.leaves[out.unsafe_impl()], g);
    }
  }
  GradModeGuard mode(create_graph);
  std::vector<Node*> order = node_order(roots);
  Shells shells;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& node = **it;
    if (Tensor* found = cot.nodes.find(&node)) {
      if (!node.hooks.empty()) *found = run_hooks(node.hooks, *found);
      const Tensor g = *found; // a copy: the map moves its entries when it grows
      if (auto kept = node.retained.lock())
        kept->grad = kept->grad ? add(Tensor(kept->grad), create_graph ? g : g.detach()).shared_impl()
                                : (create_graph ? g : g.detach()).shared_impl();
      std::vector<Tensor> grads;
      if (node.custom) {
        EMBER_CHECK(!node.released, Runtime, "autograd", kFreed);
        Tensor live;
        if (node.custom->output.defined()) {
          live = node.custom->output.detach();
          live.unsafe_impl()->grad_fn = node.custom->node.lock();
          live.unsafe_impl()->requires_grad = true;
        }
        grads = node.custom->backward(g, live);
        EMBER_CHECK(grads.size() == node.inputs.size(), Runtime, "autograd", "function ",
                    node_name(node), " returned an incorrect number of gradients (expected ",
                    node.inputs.size(), ", got ", grads.size(), ")");
        for (size_t i = 0; i < grads.size(); ++i) {
          if (!grads[i].defined() || !node.inputs[i].defined()) continue;
          const Shape& want = node.inputs[i].shape();
          if (grads[i].shape() != want) { // broadcast inputs: sum back, as PyTorch does
            bool expandable = want.size() <= grads[i].shape().size();
            for (size_t k = 0; expandable && k < want.size(); ++k) {
              const int64_t have = grads[i].shape()[grads[i].shape().size() - want.size() + k];
              expandable = want[k] == have || want[k] == 1;
            }
            if (expandable) grads[i] = sum_to(grads[i], want);
          }
          EMBER_CHECK(grads[i].shape() == want, Runtime, "autograd", "function ",
                      node_name(node), " returned an invalid gradient at index ", i, " - got ",
                      shape_str(grads[i].shape()), " but expected shape compatible with ",
                      shape_str(want));
        }
      } else {
        check_saved(node);
        grads = vjp(node, g);
      }
      // A gradient has its input's dtype (PyTorch's validate_outputs): the float32 operand of
      // a product promoted to float64 gets a float32 gradient.
      for (size_t i = 0; i < grads.size() && i < node.inputs.size(); ++i)
        if (grads[i].defined() && needs_grad(node, i) && is_floating(node.inputs[i].dtype()) &&
            grads[i].dtype() != node.inputs[i].dtype())
          grads[i] = grads[i].to(node.inputs[i].dtype());
      for (size_t i = 0; i < node.next.size() && i < grads.size(); ++i) {
        if (!grads[i].defined()) continue;
        const Edge& e = node.next[i];
        if (e.fn) add_into(cot.nodes[e.fn.get()], grads[i]);
        else if (e.leaf) add_into(cot.leaves[e.leaf.get()], grads[i]);
      }
    }
    if (!retain_graph && !symbolic) release(node, shells);
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

void record_edges(Node& n) {
  n.next.resize(n.inputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Tensor& t = n.inputs[i];
    if (t.storage()) n.next[i].version = t.storage()->version();
    if (!t.requires_grad()) continue;
    if (t.grad_fn()) n.next[i].fn = t.grad_fn();
    else n.next[i].leaf = t.shared_impl();
  }
}

std::string node_name(const Node& n) {
  if (n.custom) return n.custom->name;
  switch (n.prim) {
  case Prim::MatMul: return "MmBackward0";
  case Prim::BatchMatMul: return "BmmBackward0";
  case Prim::Reshape: return "ViewBackward0";
  case Prim::Sum: return n.attrs.ints.empty() ? "SumBackward0" : "SumBackward1";
  case Prim::Slice: return "SliceBackward0";
  case Prim::SliceBackward: return "SliceBackwardBackward0";
  default: break;
  }
  std::string name = prim_name(n.prim), camel;
  for (size_t i = 0; i < name.size(); ++i) // relu_backward -> ReluBackward
    if (name[i] != '_') camel += (i == 0 || name[i - 1] == '_') ? char(toupper(name[i])) : name[i];
  return camel + "Backward0";
}

namespace autograd {

namespace {
// Where the gradient of `t` collects: its node's cotangent, or its own as a leaf.
const Tensor* find_cotangent(const Cotangents& cot, const Tensor& t) {
  if (t.grad_fn()) return cot.nodes.find(t.grad_fn().get());
  return cot.leaves.find(t.unsafe_impl());
}

Tensor leaf_hooks(const Tensor& t, const Tensor& g) {
  const auto& h = t.unsafe_impl()->hooks;
  return h && !t.grad_fn() ? run_hooks(h->hooks, g) : g;
}
} // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs_in,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         bool allow_unused, std::optional<bool> retain_graph) {
  // Under a trace with state, gradients are with respect to the state's placeholders.
  std::vector<Tensor> inputs;
  for (const Tensor& t : inputs_in) inputs.push_back(t.defined() ? detail::traced_state(t) : t);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].defined(), Runtime, "ember.autograd.grad", "input ", i, " is None");
    EMBER_CHECK(inputs[i].requires_grad(), Runtime, "ember.autograd.grad",
                "One of the differentiated Tensors (input ", i, ") does not require grad; call "
                "requires_grad_() on it before the forward pass");
  }
  // Keep the inputs' nodes alive and fixed while the transform runs.
  Cotangents cot = backprop(outputs, grad_outputs, create_graph,
                            retain_graph.value_or(create_graph), "ember.autograd.grad");
  GradModeGuard mode(create_graph);
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor* g = find_cotangent(cot, inputs[i]);
    EMBER_CHECK(g || allow_unused, Runtime, "ember.autograd.grad",
                "One of the differentiated Tensors (input ", i, ") appears to not have been "
                "used in the graph. Set allow_unused=True if this is the desired behavior.");
    if (!g) {
      result.emplace_back();
      continue;
    }
    Tensor r = leaf_hooks(inputs[i], *g);
    result.push_back(create_graph ? r : r.detach());
  }
  return result;
}

void protect_saved(Node& n, const Tensor& self, const std::function<Tensor()>& copy) {
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].unsafe_impl() != self.unsafe_impl() || !reads_input(n, i)) continue;
    Tensor c = copy();
    c.unsafe_impl()->requires_grad = self.requires_grad();
    c.unsafe_impl()->grad_fn = self.grad_fn();
    n.inputs[i] = c;
    if (i < n.next.size()) n.next[i].version = c.version();
  }
}

Tensor record_custom(const Tensor& output, const std::vector<Tensor>& inputs,
                     std::shared_ptr<CustomBackward> fn) {
  bool needs = false;
  for (const Tensor& t : inputs) needs |= t.defined() && t.requires_grad();
  if (!needs || !grad_enabled()) return output;
  EMBER_CHECK(is_floating(output.dtype()), Runtime, fn->name, "the output of a custom function "
              "must be floating point to require grad, got ", dtype_name(output.dtype()));
  Tensor out = output.detach();
  auto node = std::make_shared<Node>();
  node->prim = Prim::Add; // unused: the custom backward runs instead of a rule
  for (const Tensor& t : inputs)
    node->inputs.push_back(t.defined() ? t : zeros({}));
  node->shape = out.shape();
  node->dtype = out.dtype();
  fn->output = output.detach();
  fn->node = node;
  node->custom = std::move(fn);
  record_edges(*node);
  out.unsafe_impl()->grad_fn = std::move(node);
  out.unsafe_impl()->requires_grad = true;
  return out;
}

int64_t register_hook(const Tensor& t, TensorHook hook) {
  EMBER_CHECK(t.requires_grad(), Runtime, "ember.Tensor.register_hook",
              "cannot register a hook on a tensor that doesn't require gradient; call "
              "requires_grad_() first");
  const int64_t id = g_next_hook_id++;
  if (t.grad_fn()) {
    t.grad_fn()->hooks.push_back({id, std::move(hook)});
  } else {
    auto& h = t.unsafe_impl()->hooks;
    if (!h) h = std::make_shared<LeafHooks>();
    h->hooks.push_back({id, std::move(hook)});
  }
  return id;
}

void remove_hook(const Tensor& t, int64_t id) {
  auto drop = [id](HookList& l) {
    l.erase(std::remove_if(l.begin(), l.end(), [id](const auto& p) { return p.first == id; }),
            l.end());
  };
  if (t.grad_fn()) drop(t.grad_fn()->hooks);
  if (t.unsafe_impl()->hooks) drop(t.unsafe_impl()->hooks->hooks);
}

void retain_grad(const Tensor& t) {
  EMBER_CHECK(t.requires_grad(), Runtime, "ember.Tensor.retain_grad",
              "can't retain_grad on Tensor that has requires_grad=False");
  if (t.grad_fn()) t.grad_fn()->retained = t.shared_impl();
}

bool retains_grad(const Tensor& t) {
  return t.grad_fn() && t.grad_fn()->retained.lock() == t.shared_impl();
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

Tensor Tensor::grad() const {
  // Under a trace with state, a parameter's .grad is its placeholder's once backward filled it
  // or the function assigned it (zero_grad); until then the parameter's own (so zero_grad
  // sees it and clears it).
  if (detail::tracing_state()) {
    const Tensor& t = detail::traced_state(*this);
    if (t.unsafe_impl() != unsafe_impl() && (t.unsafe_impl()->grad || detail::grad_assigned(t)))
      return t.grad();
  }
  return impl().grad ? Tensor(impl().grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  EMBER_CHECK(!g.defined() || g.shape() == shape(), Value, "ember.Tensor.grad",
              "assigned grad has shape ", shape_str(g.shape()), " but the tensor has shape ",
              shape_str(shape()));
  if (detail::tracing_state()) {
    const Tensor& t = detail::traced_state(*this);
    if (t.unsafe_impl() != unsafe_impl()) {
      detail::note_grad_assigned(t);
      const_cast<Tensor&>(t).set_grad(g);
      return;
    }
  }
  mutable_impl().grad = g.defined() ? g.impl_ : nullptr;
}

uint64_t Tensor::version() const { return storage() ? storage()->version() : 0; }

void Tensor::backward(const Tensor& gradient, bool create_graph, std::optional<bool> retain_graph,
                      const std::vector<Tensor>& inputs) const {
  const char* api = "ember.Tensor.backward";
  for (size_t i = 0; i < inputs.size(); ++i)
    EMBER_CHECK(inputs[i].defined() && inputs[i].requires_grad(), Runtime, api, "inputs[", i,
                "] does not require grad; every tensor in inputs must require grad");
  Cotangents cot = backprop({*this}, {gradient}, create_graph, retain_graph.value_or(create_graph), api);
  GradModeGuard mode(create_graph);
  auto deposit = [&](TensorImpl* impl, const Tensor& g) {
    Tensor leaf_grad = create_graph ? g : g.detach();
    impl->grad = impl->grad ? add(Tensor(impl->grad), leaf_grad).impl_ : leaf_grad.impl_;
  };
  if (!inputs.empty()) {
    for (const Tensor& t : inputs)
      if (const Tensor* g = autograd::find_cotangent(cot, t)) deposit(t.unsafe_impl(), autograd::leaf_hooks(t, *g));
    return;
  }
  // Leaves are the tensors that require grad and were not produced by a recorded node.
  cot.leaves.for_each([&](TensorImpl* impl, const Tensor& g) {
    if (impl->grad_fn || !impl->requires_grad) return;
    const auto& h = impl->hooks;
    deposit(impl, h ? run_hooks(h->hooks, g) : g);
  });
}

Tensor Tensor::detach() const {
  // A traced graph input (or constant) is known to the trace by its identity: its detached
  // copy is an identity node without gradient (a same-dtype cast, which compiles to nothing).
  if (impl_->symbolic && !impl_->grad_fn) {
    GradModeGuard off(false);
    return cast(*this, impl_->dtype);
  }
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

Tensor& Tensor::detach_() {
  EMBER_CHECK(!impl().view_base || !impl().view_base->requires_grad, Runtime,
              "ember.Tensor.detach_", "can't detach views in-place; use detach() instead");
  mutable_impl().grad_fn = nullptr;
  mutable_impl().requires_grad = false;
  return *this;
}

} // namespace ember
