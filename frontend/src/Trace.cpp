// Tracing: run a function on symbolic tensors; every op records a node (Ops.cpp), and the graph
// is what is reachable from the outputs.
#include "TraceState.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace ember {
namespace detail {
namespace {
thread_local std::unordered_map<const TensorImpl*, Tensor>* g_state = nullptr;
thread_local std::unordered_set<const TensorImpl*>* g_grad_assigned = nullptr;
// The running trace's random draws (their placeholders and recipes), in order.
thread_local std::vector<std::pair<Tensor, RandomDraw>>* g_random = nullptr;
} // namespace

bool tracing() { return g_random != nullptr; }

bool trace_random_draw(Tensor& t, RandomDraw::Kind kind, double a, double b, const char* op) {
  if (!g_random) return false;
  EMBER_CHECK(!t.is_symbolic(), NotImplemented, op, "an in-place random fill of a value computed "
              "inside a compiled function cannot be compiled yet; draw a new tensor instead "
              "(ember.rand / ember.randn with its shape)");
  EMBER_CHECK(&traced_state(t) == &t, NotImplemented, op, "an in-place random fill of a "
              "parameter, buffer or closed-over tensor inside a compiled function cannot be "
              "compiled yet; initialise it outside the function");
  TensorImpl& impl = *t.unsafe_impl();
  EMBER_CHECK(!impl.view_base && impl.offset == 0 && impl.storage && impl.storage.use_count() == 1,
              NotImplemented, op, "an in-place random fill of a view inside a compiled function "
              "cannot be compiled yet; draw a new tensor instead");
  // The fresh tensor becomes the draw's placeholder: whatever the function computes from it is
  // recorded against the graph input it now is.
  impl.storage = nullptr;
  impl.symbolic = true;
  g_random->push_back({t, RandomDraw{kind, a, b, t.shape(), t.dtype()}});
  return true;
}

const Tensor& traced_state(const Tensor& t) {
  if (!g_state) return t;
  auto it = g_state->find(t.unsafe_impl());
  return it == g_state->end() ? t : it->second;
}

bool tracing_state() { return g_state != nullptr; }

bool write_state(const Tensor& self, const Tensor& value, const char* op) {
  if (!g_state) return false;
  auto it = g_state->find(self.unsafe_impl());
  if (it == g_state->end()) {
    const auto& base = self.unsafe_impl()->view_base;
    EMBER_CHECK(!(base && g_state->count(base.get())), NotImplemented, op,
                "an in-place write into a view of a parameter, buffer or closed-over tensor "
                "cannot be compiled yet; write the whole tensor (e.g. w.copy_(new_w))");
    return false;
  }
  Tensor v = value;
  if (v.dtype() != self.dtype()) v = cast(v, self.dtype());
  if (v.shape() != self.shape()) v = expand(v, self.shape()); // copy_'s broadcast
  it->second = v;
  return true;
}

void note_grad_assigned(const Tensor& t) {
  if (g_grad_assigned) g_grad_assigned->insert(t.unsafe_impl());
}

bool grad_assigned(const Tensor& t) {
  return g_grad_assigned && g_grad_assigned->count(t.unsafe_impl()) > 0;
}
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
  std::vector<Tensor> state_inputs;
  for (const Tensor& s : state) {
    EMBER_CHECK(s.defined() && !s.is_symbolic(), Value, "ember.trace",
                "state tensors must be concrete tensors");
    Tensor t = symbolic(s.shape(), s.dtype());
    t.set_requires_grad(s.requires_grad());
    g.inputs.push_back(t);
    state_inputs.push_back(t);
    subst.emplace(s.unsafe_impl(), t);
  }
  std::unordered_set<const TensorImpl*> grad_assigned;
  std::vector<std::pair<Tensor, RandomDraw>> draws;
  {
    GradModeGuard mode(true);
    auto* outer = detail::g_state;
    auto* outer_assigned = detail::g_grad_assigned;
    auto* outer_random = detail::g_random;
    if (!state.empty()) {
      detail::g_state = &subst;
      detail::g_grad_assigned = &grad_assigned;
    }
    detail::g_random = &draws;
    try {
      g.outputs = fn(g.inputs);
    } catch (...) {
      detail::g_state = outer;
      detail::g_grad_assigned = outer_assigned;
      detail::g_random = outer_random;
      throw;
    }
    detail::g_state = outer;
    detail::g_grad_assigned = outer_assigned;
    detail::g_random = outer_random;
    // A state tensor returned as it is stands for its current value.
    if (!state.empty())
      for (Tensor& o : g.outputs)
        if (auto it = subst.find(o.unsafe_impl()); it != subst.end()) o = it->second;
  }
  // Writes the compiled function makes to its state, as extra outputs: new values written in
  // place, then gradients left in .grad (loss.backward() inside it).
  for (size_t i = 0; i < state.size(); ++i) {
    const Tensor& now = subst.at(state[i].unsafe_impl());
    if (now.unsafe_impl() != state_inputs[i].unsafe_impl()) {
      g.state_writes.push_back(int64_t(i));
      g.outputs.push_back(now);
    }
  }
  for (size_t i = 0; i < state.size(); ++i) {
    const Tensor grad = state_inputs[i].grad();
    const bool assigned = grad_assigned.count(state_inputs[i].unsafe_impl()) > 0;
    // Any gradient on a placeholder came from this trace, symbolic or not: a gradient that
    // depends on no input (a bias under y.sum()) is a constant output, and still written back.
    if (grad.defined()) {
      EMBER_CHECK(assigned || !state[i].grad().defined(), NotImplemented, "ember.compile",
                  "the compiled function accumulates a gradient into a parameter whose .grad "
                  "is already set (shape ", shape_str(state[i].shape()), "); call "
                  "optimizer.zero_grad() before loss.backward() inside it, or set the "
                  "gradients to None before calling it");
      g.grad_writes.push_back(int64_t(i));
      if (!assigned) g.grad_fresh.push_back(int64_t(i));
      g.outputs.push_back(grad);
    } else if (assigned && !grad.defined()) {
      g.grad_clears.push_back(int64_t(i));
    }
  }
  // The random draws' placeholders: inputs after the state's, drawn at each call.
  for (auto& [t, draw] : draws) {
    g.inputs.push_back(t);
    g.random.push_back(draw);
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

std::vector<Tensor> draw_random(const std::vector<RandomDraw>& draws, const Device& device) {
  std::vector<Tensor> out;
  out.reserve(draws.size());
  for (const RandomDraw& d : draws) {
    // Integers are drawn on the CPU (as ember.randint draws them) and moved.
    const bool onHost = d.kind == RandomDraw::Kind::RandInt;
    Tensor t = empty(d.shape, d.dtype, onHost ? Device() : device);
    switch (d.kind) {
    case RandomDraw::Kind::Uniform: uniform_(t, d.a, d.b); break;
    case RandomDraw::Kind::Normal: normal_(t, d.a, d.b); break;
    case RandomDraw::Kind::RandInt: random_int_(t, int64_t(d.a), int64_t(d.b)); break;
    }
    out.push_back(onHost && device.is_cuda() ? t.to(device) : std::move(t));
  }
  return out;
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

std::vector<ViewChain> view_chains(const Graph& g) {
  std::unordered_map<const TensorImpl*, int64_t> input_of, step_of;
  for (size_t i = 0; i < g.inputs.size(); ++i) input_of.emplace(g.inputs[i].unsafe_impl(), int64_t(i));
  for (size_t s = 0; s < g.steps.size(); ++s) step_of[g.steps[s].output.unsafe_impl()] = int64_t(s);
  std::vector<ViewChain> out;
  for (const Tensor& t : g.outputs) {
    ViewChain c;
    for (const TensorImpl* at = t.unsafe_impl();;) {
      if (auto in = input_of.find(at); in != input_of.end()) {
        c.source = in->second;
        break;
      }
      auto st = step_of.find(at);
      if (st == step_of.end()) break;
      const Node& n = *g.steps[size_t(st->second)].node;
      if (!prim_is_view(n.prim) || n.inputs.empty()) break;
      c.steps.push_back(st->second);
      at = n.inputs[0].unsafe_impl();
    }
    if (c.source < 0) c.steps.clear();
    std::reverse(c.steps.begin(), c.steps.end()); // the input's first
    out.push_back(std::move(c));
  }
  return out;
}

Tensor replay_view(const Graph& g, const std::vector<int64_t>& steps, const Tensor& source) {
  Tensor t = source;
  for (int64_t s : steps) {
    EMBER_CHECK(s >= 0 && size_t(s) < g.steps.size() && prim_is_view(g.steps[size_t(s)].node->prim),
                Value, "ember.replay_view", "step ", s, " is not a view step of the graph");
    t = apply(g.steps[size_t(s)].node->prim, {t}, g.steps[size_t(s)].node->attrs);
  }
  return t;
}

} // namespace ember
