// Internal: the plumbing of the eager fused kernels' autograd nodes (convolution, max pooling,
// softmax, layer_norm). Each records one custom node (autograd::record_custom) whose backward
// runs a fused gradient kernel, or under create_graph differentiates the op's composite (the
// primitives tracing records), so higher derivatives come from the primitives' rules.
#pragma once

#include "ember/Graph.h"

#include <memory>
#include <string>
#include <vector>

namespace ember::detail {

// Concrete float32 CPU tensors (undefined ones allowed): where the fused kernels apply.
bool fused_cpu_f32(const Tensor& a, const Tensor& b = Tensor(), const Tensor& c = Tensor());
// Concrete CUDA tensors of one device and one dtype, float32, float16 or bfloat16 (undefined
// ones allowed): where the fused CUDA row kernels apply.
bool fused_cuda_float(const Tensor& a, const Tensor& b = Tensor(), const Tensor& c = Tensor());

// A node's saved tensors; the first `checked` have their versions checked before a backward
// reads them (PyTorch's error for an in-place write in between).
struct SavedTensors {
  std::vector<Tensor> tensors;
  std::vector<uint64_t> versions;
  SavedTensors(std::vector<Tensor> ts, size_t checked);
  void check(const std::string& node) const;
};

inline bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }
inline float* data_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// Gradients of `out` (recomputed from `inputs` by the composite, recorded) for the inputs that
// require grad, undefined for the others: the create_graph path.
std::vector<Tensor> composite_grads(const Tensor& out, const std::vector<Tensor>& inputs,
                                    const Tensor& g);

// Records `y` (computed without grad from `inputs`) as the output of a node named `name` whose
// backward is `backward(g, output)`; `saved` is dropped when the graph is released. Without
// `keep_output` the node does not keep y alive. Returns y itself when nothing needs a gradient.
Tensor record_fused(const std::string& name, const Tensor& y, const std::vector<Tensor>& inputs,
                    std::shared_ptr<SavedTensors> saved,
                    std::function<std::vector<Tensor>(const Tensor&, const Tensor&)> backward,
                    bool keep_output);

} // namespace ember::detail
