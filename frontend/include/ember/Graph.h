// The dynamic graph: one node type for autograd and for tracing. A node is a primitive applied
// to input tensors; its output tensor points back to it (grad_fn).
#pragma once

#include "ember/Ops.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ember {

// A tensor hook: gets the gradient of the tensor, returns a replacement (or undefined: keep).
using TensorHook = std::function<Tensor(const Tensor&)>;
using HookList = std::vector<std::pair<int64_t, TensorHook>>; // (handle id, hook)

struct LeafHooks {
  HookList hooks;
};

// Where the gradient of one node input goes: the node that produced it, or the leaf it is
// (both null: the input needs no gradient). Taken when the node is recorded, so later in-place
// ops (which give a tensor a new grad_fn) do not change the graph behind it. `version`: the
// input's storage version then (an in-place write since makes its saved value stale).
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  uint64_t version = 0;
};

// A custom function's backward (ember.autograd.Function): gradient of the output in, one
// gradient per input out; `release` frees what it saved.
// `backward` also gets the output as a tensor of the graph (its grad_fn this node), for rules
// that use the output and are differentiated again.
struct CustomBackward {
  std::string name;
  std::function<std::vector<Tensor>(const Tensor& grad, const Tensor& output)> backward;
  std::function<void()> release;
  Tensor output;            // the forward's result (data only), dropped on release
  std::weak_ptr<Node> node; // this node
};

struct Node {
  Prim prim;
  Attrs attrs;
  std::vector<Tensor> inputs; // kept alive while the node is: what the VJP rules need
  Shape shape;                // the output's shape
  DType dtype = DType::Float32; // the output's dtype
  // Autograd bookkeeping (only when an input requires grad).
  std::vector<Edge> next;          // one per input
  bool released = false;           // saved inputs freed by a backward without retain_graph
  HookList hooks;                  // register_hook on the output
  std::weak_ptr<TensorImpl> retained; // retain_grad() on the output
  std::shared_ptr<CustomBackward> custom; // a custom function's node (prim unused)
};

// PyTorch's name of a node (AddBackward0, MmBackward0, ...).
std::string node_name(const Node& n);
// Fills the autograd bookkeeping of a node about to be recorded (edges, versions).
void record_edges(Node& n);

// Grad mode (torch.no_grad / enable_grad). Thread-local.
bool grad_enabled();
void set_grad_enabled(bool enabled);
class GradModeGuard {
public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

private:
  bool prev_;
};

namespace autograd {

// Gradients of `outputs` (weighted by `grad_outputs`, default ones for one-element outputs)
// with respect to `inputs`, by applying each primitive's VJP rule (torch.autograd.grad).
// With create_graph the rules' ops are recorded, so the results can be differentiated again.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         bool allow_unused = false,
                         std::optional<bool> retain_graph = std::nullopt);

// The in-place protocol: `result` (computed out of place from `self`, with self's shape after
// broadcasting) becomes self's value: data written into self's memory, the storage's version
// bumped, and under grad mode self (and the tensor it is a view of) take result's place in the
// graph. Raises PyTorch's errors for leaves that require grad.
void commit_inplace(Tensor& self, const Tensor& result, const char* op);
// Gives `n` a copy of `self` wherever its VJP rule reads self's data (before an in-place write).
void protect_saved(Node& n, const Tensor& self, const std::function<Tensor()>& copy);
// Records a custom function's node: `output` (computed without grad) becomes a tensor whose
// grad_fn calls `fn->backward`. Returns the recorded output (output itself when no input
// requires grad or grad mode is off).
Tensor record_custom(const Tensor& output, const std::vector<Tensor>& inputs,
                     std::shared_ptr<CustomBackward> fn);
// Tensor hooks (register_hook): returns the handle id; remove_hook undoes it.
int64_t register_hook(const Tensor& t, TensorHook hook);
void remove_hook(const Tensor& t, int64_t id);
// retain_grad(): backward fills .grad of this non-leaf tensor too.
void retain_grad(const Tensor& t);
bool retains_grad(const Tensor& t);

} // namespace autograd

// A random draw a traced function made (rand, randn, randint, dropout's and bernoulli's
// uniforms): the drawn tensor is a graph input, drawn again at each call of the compiled graph
// with the same generator calls as the eager function makes, so each call gets new numbers
// (the same ones eager ember would draw from the same generator state).
struct RandomDraw {
  enum class Kind { Uniform, Normal, RandInt } kind = Kind::Uniform;
  double a = 0, b = 1; // [a, b) for Uniform and RandInt, mean and std for Normal
  Shape shape;
  DType dtype = DType::Float32;
};

// The tensors of `draws`, drawn now in order (on `device`): the inputs a compiled graph takes
// for them at a call.
std::vector<Tensor> draw_random(const std::vector<RandomDraw>& draws, const Device& device);

// A traced function: placeholders in, the nodes reachable from the outputs in topological
// order, concrete tensors met on the way as constants.
struct Graph {
  struct Step {
    std::shared_ptr<Node> node;
    Tensor output;
  };
  std::vector<Tensor> inputs;    // symbolic placeholders, in argument order
  std::vector<Step> steps;       // topological order
  std::vector<Tensor> constants; // concrete tensors used by the steps
  std::vector<Tensor> outputs;   // symbolic results (or placeholders/constants)
  // A trace with state (see trace()): the last outputs are, in order, the new values of the
  // state tensors with these indices (written in place by the function), then the gradients
  // it left in these state tensors' .grad; grad_clears are the ones whose .grad it set to None.
  std::vector<int64_t> state_writes, grad_writes, grad_clears;
  // The grad_writes whose .grad the function did not assign (set to None, zero_grad) first:
  // traced with .grad None, they hold only this call's gradient.
  std::vector<int64_t> grad_fresh;
  // The random draws, in the order the function made them; their inputs follow the state's.
  std::vector<RandomDraw> random;
};

// Turns the constants that are in `candidates` (or views of their storage, e.g. `w.t()`), or
// that require grad (parameters), into graph inputs after the existing ones, so a compiled graph
// reads their current values at each call instead of baking the values it saw when tracing. Returns them in input order.
std::vector<Tensor> lift_constants(Graph& g, const std::vector<Tensor>& candidates);

// Calls `fn` on symbolic tensors of `input_shapes` and records what it computes.
// `requires_grad[i]` marks inputs that `fn` may differentiate with respect to. Each `state`
// tensor (parameters, buffers, closed-over tensors that `fn` reads) gets a placeholder input
// after the arguments: ops reading it are recorded against the placeholder, so what fn
// computes from state alone is recomputed at each call rather than baked in as a constant.
Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
            const std::vector<Shape>& input_shapes, const std::vector<bool>& requires_grad = {},
            const std::vector<DType>& input_dtypes = {}, const std::vector<Tensor>& state = {});

// The nodes reachable from `roots`, inputs before users; the walk autograd and tracing share.
std::vector<Graph::Step> topological_order(const std::vector<Tensor>& roots);

// Runs a graph eagerly on concrete inputs (the reference the compiler is checked against).
std::vector<Tensor> run_graph(const Graph& g, const std::vector<Tensor>& inputs);

// An output reached from a graph input through view primitives only: the input's index (-1
// when the output is not such a view) and the view steps from it, in order (none: the input
// itself). ember.compile rebuilds such outputs as views of the call's tensors (replay_view),
// so writes through them reach the input, as eagerly.
struct ViewChain {
  int64_t source = -1;
  std::vector<int64_t> steps;
};
std::vector<ViewChain> view_chains(const Graph& g); // one per output
// The view steps `steps` of g applied eagerly to `source`: a view of it, recorded by autograd
// as eagerly.
Tensor replay_view(const Graph& g, const std::vector<int64_t>& steps, const Tensor& source);

} // namespace ember
