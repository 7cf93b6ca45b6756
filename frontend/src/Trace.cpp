// Tracing: run a function on symbolic tensors; every op records a node (Ops.cpp), and the graph
// is what is reachable from the outputs.
#include "TraceState.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"

#include <unordered_map>
#include <unordered_set>

namespace ember {
namespace detail {
namespace {
thread_local std::unordered_map<const TensorImpl*, Tensor>* g_state = nullptr;
} // namespace

const Tensor& traced_state(const Tensor& t) {
  if (!g_state) return t;
  auto it = g_state->find(t.unsafe_impl());
  return it == g_state->end() ? t : it->second;
}

bool tracing_state() { return g_state != nullptr; }
} // namespace detail

Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
            const std::vector<Shape>& input_shapes, const std::vector<bool>& requires_grad,
            const std::vector<DType>& input_dtypes, const std::vector<Tensor>& state) {
  Graph g;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    Tensor t = symbolic(input_shapes[i], i < input_dtypes.size() ? input_dtypes[i] : DType::Float32);
    t.set_requires_grad(i < requires_grad.size() && requires_grad[i]);
    g.inputs.push_back(t);
  }
  // State tensors: placeholders after the arguments, substituted for them while fn runs.
  std::unordered_map<const TensorImpl*, Tensor> subst;
  for (const Tensor& s : state) {
    EMBER_CHECK(s.defined() && !s.is_symbolic(), Value, "ember.trace",
                "state tensors must be concrete tensors");
    Tensor t = symbolic(s.shape(), s.dtype());
    t.set_requires_grad(s.requires_grad());
    g.inputs.push_back(t);
    subst.emplace(s.unsafe_impl(), t);
  }
  {
    GradModeGuard mode(true);
    auto* outer = detail::g_state;
    detail::g_state = state.empty() ? outer : &subst;
    try {
      g.outputs = fn(g.inputs);
    } catch (...) {
      detail::g_state = outer;
      throw;
    }
    detail::g_state = outer;
    // A state tensor returned as it is stands for its placeholder too.
    if (!state.empty())
      for (Tensor& o : g.outputs)
        if (auto it = subst.find(o.unsafe_impl()); it != subst.end()) o = it->second;
  }
  g.steps = topological_order(g.outputs);
  std::unordered_set<TensorImpl*> placeholders, seen;
  for (const Tensor& t : g.inputs) placeholders.insert(t.unsafe_impl());
  auto note_leaf = [&](const Tensor& t) {
    if (t.grad_fn() || placeholders.count(t.unsafe_impl())) return;
    EMBER_CHECK(!t.is_symbolic(), Value, "ember.trace",
                "the traced function used a tensor from another trace");
    if (seen.insert(t.unsafe_impl()).second) g.constants.push_back(t);
  };
  for (const Graph::Step& s : g.steps)
    for (const Tensor& in : s.node->inputs) note_leaf(in);
  for (const Tensor& out : g.outputs) note_leaf(out);
  return g;
}

std::vector<Tensor> lift_constants(Graph& g, const std::vector<Tensor>& candidates) {
  // A candidate's views count as the candidate: a weight read through `w.t()` (F.linear) is a
  // constant view of w's storage in the trace, and must see w's later in-place updates too.
  std::unordered_set<TensorImpl*> wanted;
  std::unordered_set<const Storage*> wantedStorage;
  for (const Tensor& t : candidates)
    if (t.defined()) {
      wanted.insert(t.unsafe_impl());
      if (t.storage()) wantedStorage.insert(t.storage().get());
    }
  std::vector<Tensor> lifted, kept;
  for (const Tensor& c : g.constants) {
    const bool viewOfCandidate = c.storage() && wantedStorage.count(c.storage().get());
    if (!c.is_wrapped_number() &&
        (wanted.count(c.unsafe_impl()) || viewOfCandidate || c.requires_grad())) {
      g.inputs.push_back(c);
      lifted.push_back(c);
    } else {
      kept.push_back(c);
    }
  }
  g.constants = std::move(kept);
  return lifted;
}

std::vector<Tensor> run_graph(const Graph& g, const std::vector<Tensor>& inputs) {
  EMBER_CHECK(inputs.size() == g.inputs.size(), Value, "ember.run_graph", "the graph takes ",
              g.inputs.size(), " inputs, got ", inputs.size());
  std::unordered_map<TensorImpl*, Tensor> env;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].shape() == g.inputs[i].shape() && inputs[i].dtype() == g.inputs[i].dtype(),
                Value, "ember.run_graph", "input ", i, " is ", dtype_name(inputs[i].dtype()),
                shape_str(inputs[i].shape()), ", the graph was traced with ",
                dtype_name(g.inputs[i].dtype()), shape_str(g.inputs[i].shape()));
    env[g.inputs[i].unsafe_impl()] = inputs[i];
  }
  auto lookup = [&](const Tensor& t) {
    auto it = env.find(t.unsafe_impl());
    return it == env.end() ? t : it->second; // constants stand for themselves
  };
  GradModeGuard mode(false);
  for (const Graph::Step& s : g.steps) {
    std::vector<Tensor> args;
    for (const Tensor& in : s.node->inputs) args.push_back(lookup(in));
    env[s.output.unsafe_impl()] = apply(s.node->prim, args, s.node->attrs);
  }
  std::vector<Tensor> out;
  for (const Tensor& t : g.outputs) out.push_back(lookup(t));
  return out;
}

} // namespace ember
