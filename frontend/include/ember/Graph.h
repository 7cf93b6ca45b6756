// The dynamic graph: one node type for autograd and for tracing. A node is a primitive applied
// to input tensors; its output tensor points back to it (grad_fn).
#pragma once

#include "ember/Ops.h"

#include <functional>
#include <memory>
#include <vector>

namespace ember {

struct Node {
  Prim prim;
  Attrs attrs;
  std::vector<Tensor> inputs; // kept alive while the node is: what the VJP rules need
  Shape shape;                // the output's shape
  DType dtype = DType::Float32; // the output's dtype
};

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
                         bool allow_unused = false);

} // namespace autograd

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
};

// Turns the constants that are in `candidates`, or that require grad (parameters), into graph
// inputs after the existing ones, so a compiled graph reads their current values at each call
// instead of baking the values it saw when tracing. Returns them in input order.
std::vector<Tensor> lift_constants(Graph& g, const std::vector<Tensor>& candidates);

// Calls `fn` on symbolic tensors of `input_shapes` and records what it computes.
// `requires_grad[i]` marks inputs that `fn` may differentiate with respect to.
Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
            const std::vector<Shape>& input_shapes, const std::vector<bool>& requires_grad = {},
            const std::vector<DType>& input_dtypes = {});

// The nodes reachable from `roots`, inputs before users; the walk autograd and tracing share.
std::vector<Graph::Step> topological_order(const std::vector<Tensor>& roots);

// Runs a graph eagerly on concrete inputs (the reference the compiler is checked against).
std::vector<Tensor> run_graph(const Graph& g, const std::vector<Tensor>& inputs);

} // namespace ember
