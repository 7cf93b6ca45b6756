#include "FusedNorm.h"

#include "ConvOps.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/kernels/Norm.h"
#include "ember/runtime/Error.h"

namespace ember::detail {
namespace {

// A node's saved tensors; the first `checked` have their versions checked before a backward
// reads them (PyTorch's error for an in-place write in between).
struct Saved {
  std::vector<Tensor> tensors;
  std::vector<uint64_t> versions;
  Saved(std::vector<Tensor> ts, size_t checked) : tensors(std::move(ts)) {
    for (size_t i = 0; i < checked; ++i) versions.push_back(tensors[i].defined() ? tensors[i].version() : 0);
  }
  void check(const char* node) const {
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
};

bool wants(const Tensor& t) { return t.defined() && t.requires_grad(); }
float* data_or_null(Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
const float* data_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// Gradients of `out` (recomputed from the inputs by the composite, recorded) for the inputs
// that require grad: the create_graph path.
std::vector<Tensor> composite_grads(const Tensor& out, const std::vector<Tensor>& inputs,
                                    const Tensor& g) {
  std::vector<Tensor> wanted;
  for (const Tensor& t : inputs)
    if (wants(t)) wanted.push_back(t);
  std::vector<Tensor> got = autograd::grad({out}, wanted, {g}, true, true);
  std::vector<Tensor> grads(inputs.size());
  for (size_t i = 0, k = 0; i < inputs.size(); ++i)
    if (wants(inputs[i])) grads[i] = got[k++];
  return grads;
}

} // namespace

Tensor softmax_fused(const Tensor& a, int64_t dim, bool log, UnaryComposite composite) {
  if (a.dim() == 0 || !conv2d_fusable(a, Tensor(), Tensor())) return Tensor();
  if (dim < 0) dim += a.dim();
  if (dim != a.dim() - 1) return Tensor();
  const int64_t n = a.shape().back(), rows = n ? a.numel() / n : 0;
  Tensor x = a.contiguous(), y = empty(a.shape());
  kernels::softmax_rows_f32(x.data<float>(), y.data<float>(), rows, n, log);
  if (!(grad_enabled() && a.requires_grad())) return y;
  auto fn = std::make_shared<CustomBackward>();
  fn->name = log ? "LogSoftmaxBackward0" : "SoftmaxBackward0";
  // Like PyTorch's, the backward reads the output: that is what must not change in place (the
  // input is kept only for the create_graph composite).
  auto saved = std::make_shared<Saved>(std::vector<Tensor>{y, a}, 1);
  fn->release = [saved] { saved->tensors.clear(); };
  fn->backward = [saved, log, composite, rows, n, name = fn->name](
                     const Tensor& g, const Tensor& out) -> std::vector<Tensor> {
    const Tensor& input = saved->tensors[1];
    saved->check(name.c_str());
    if (grad_enabled()) return composite_grads(composite(input), {input}, g);
    Tensor gc = g.to(DType::Float32).contiguous(), yc = out.contiguous();
    Tensor dx = empty(input.shape());
    kernels::softmax_rows_backward_f32(yc.data<float>(), gc.data<float>(), dx.data<float>(), rows,
                                       n, log);
    return {dx};
  };
  return autograd::record_custom(y, {a}, std::move(fn));
}

Tensor layer_norm_fused(const Tensor& x, int64_t n, const Tensor& w, const Tensor& b, double eps,
                        NormComposite composite) {
  if (!conv2d_fusable(x, w, b) || (w.defined() && w.numel() != n) ||
      (b.defined() && b.numel() != n))
    return Tensor();
  const int64_t rows = n ? x.numel() / n : 0;
  Tensor xc = x.contiguous(), wc = w.defined() ? w.contiguous() : w;
  Tensor bc = b.defined() ? b.contiguous() : b;
  Tensor y = empty(x.shape()), mean = empty({rows}), rstd = empty({rows});
  kernels::layer_norm_rows_f32(xc.data<float>(), data_or_null(wc), data_or_null(bc),
                               y.data<float>(), mean.data<float>(), rstd.data<float>(), rows, n,
                               eps);
  if (!(grad_enabled() && (wants(x) || wants(w) || wants(b)))) return y;
  auto fn = std::make_shared<CustomBackward>();
  fn->name = "NativeLayerNormBackward0";
  auto saved = std::make_shared<Saved>(std::vector<Tensor>{x, w, b}, 3);
  fn->release = [saved] { saved->tensors.clear(); };
  fn->backward = [saved, composite, mean, rstd, rows, n](const Tensor& g,
                                                         const Tensor&) -> std::vector<Tensor> {
    saved->check("NativeLayerNormBackward0");
    const std::vector<Tensor>& in = saved->tensors;
    if (grad_enabled()) return composite_grads(composite(in[0], in[1], in[2]), in, g);
    Tensor xc = in[0].contiguous(), gc = g.to(DType::Float32).contiguous();
    Tensor wc = in[1].defined() ? in[1].contiguous() : in[1];
    std::vector<Tensor> grads(3);
    if (wants(in[0])) grads[0] = empty(in[0].shape());
    if (wants(in[1])) grads[1] = empty(in[1].shape());
    if (wants(in[2])) grads[2] = empty(in[2].shape());
    kernels::layer_norm_rows_backward_f32(xc.data<float>(), data_or_null(wc), mean.data<float>(),
                                          rstd.data<float>(), gc.data<float>(),
                                          data_or_null(grads[0]), data_or_null(grads[1]),
                                          data_or_null(grads[2]), rows, n);
    return grads;
  };
  std::shared_ptr<CustomBackward> keep = fn;
  Tensor out = autograd::record_custom(y, {x, w, b}, std::move(fn));
  keep->output = Tensor(); // the backward reads its inputs and statistics, not its output
  return out;
}

} // namespace ember::detail
