#include "FusedNode.h"

#include "TraceState.h"
#include "ember/runtime/Error.h"

namespace ember::detail {
namespace {
// A value of the running trace: symbolic, or a state tensor (a parameter, buffer or
// closed-over tensor) that its placeholder stands for. The fused kernels compute concrete
// tensors only: handed a state tensor, they would bake its value at trace time into the graph
// (the ops of the composite record the placeholder instead).
bool traced(const Tensor& t) { return t.is_symbolic() || &traced_state(t) != &t; }
} // namespace

bool fused_cpu_f32(const Tensor& a, const Tensor& b, const Tensor& c) {
  for (const Tensor* t : {&a, &b, &c})
    if (t->defined() && (traced(*t) || t->is_cuda() || t->dtype() != DType::Float32))
      return false;
  return true;
}

bool fused_cuda_float(const Tensor& a, const Tensor& b, const Tensor& c) {
  const DType d = a.dtype();
  if (!a.defined() || !(d == DType::Float32 || d == DType::Float16 || d == DType::BFloat16))
    return false;
  for (const Tensor* t : {&a, &b, &c})
    if (t->defined() && (traced(*t) || !t->is_cuda() || t->dtype() != d ||
                         t->device() != a.device()))
      return false;
  return true;
}

SavedTensors::SavedTensors(std::vector<Tensor> ts, size_t checked) : tensors(std::move(ts)) {
  for (size_t i = 0; i < checked; ++i)
    versions.push_back(tensors[i].defined() ? tensors[i].version() : 0);
}

void SavedTensors::check(const std::string& node) const {
  for (size_t i = 0; i < versions.size(); ++i) {
    const Tensor& t = tensors[i];
    EMBER_CHECK(!t.defined() || t.version() == versions[i], Runtime, "autograd",
                "one of the variables needed for gradient computation has been modified by an "
                "inplace operation: [", dtype_name(t.dtype()), " ", shape_str(t.shape()),
                "], input ", i, " of ", node, ", is at version ", t.version(),
                "; expected version ", versions[i], " instead. Hint: use the out-of-place form "
                "of the operation (or clone() the tensor before modifying it)");
  }
}

std::vector<Tensor> composite_grads(const Tensor& out, const std::vector<Tensor>& inputs,
                                    const Tensor& g) {
  std::vector<Tensor> wanted;
  for (const Tensor& t : inputs)
    if (wants_grad(t)) wanted.push_back(t);
  std::vector<Tensor> got = autograd::grad({out}, wanted, {g}, /*create_graph=*/true,
                                           /*allow_unused=*/true);
  std::vector<Tensor> grads(inputs.size());
  for (size_t i = 0, k = 0; i < inputs.size(); ++i)
    if (wants_grad(inputs[i])) grads[i] = got[k++];
  return grads;
}

Tensor record_fused(const std::string& name, const Tensor& y, const std::vector<Tensor>& inputs,
                    std::shared_ptr<SavedTensors> saved,
                    std::function<std::vector<Tensor>(const Tensor&, const Tensor&)> backward,
                    bool keep_output) {
  bool needs = false;
  for (const Tensor& t : inputs) needs |= wants_grad(t);
  if (!needs || !grad_enabled()) return y;
  auto fn = std::make_shared<CustomBackward>();
  fn->name = name;
  if (saved) fn->release = [saved] { saved->tensors.clear(); };
  fn->backward = std::move(backward);
  std::shared_ptr<CustomBackward> keep = fn;
  Tensor out = autograd::record_custom(y, inputs, std::move(fn));
  if (!keep_output) keep->output = Tensor();
  return out;
}

} // namespace ember::detail
