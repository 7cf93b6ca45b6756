#include "FusedNorm.h"

#include "CudaOps.h"
#include "FusedNode.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/kernels/Norm.h"
#include "ember/runtime/Error.h"

namespace ember::detail {
Tensor softmax_fused(const Tensor& a, int64_t dim, bool log, UnaryComposite composite) {
  const bool cuda = fused_cuda_float(a);
  if (a.dim() == 0 || !(cuda || fused_cpu_f32(a))) return Tensor();
  if (dim < 0) dim += a.dim();
  if (dim != a.dim() - 1) return Tensor();
  const int64_t n = a.shape().back(), rows = n ? a.numel() / n : 0;
  Tensor y;
  if (cuda) {
    y = cuda_softmax_rows(a, log);
  } else {
    Tensor x = a.contiguous();
    y = empty(a.shape());
    kernels::softmax_rows_f32(x.data<float>(), y.data<float>(), rows, n, log);
  }
  // Like PyTorch's, the backward reads the output: that is what must not change in place (the
  // input is kept only for the create_graph composite).
  auto saved = std::make_shared<SavedTensors>(std::vector<Tensor>{y, a}, 1);
  const std::string name = log ? "LogSoftmaxBackward0" : "SoftmaxBackward0";
  return record_fused(
      name, y, {a}, saved,
      [saved, log, composite, rows, n, name, cuda](const Tensor& g,
                                                   const Tensor& out) -> std::vector<Tensor> {
        const Tensor& input = saved->tensors[1];
        saved->check(name);
        if (grad_enabled()) return composite_grads(composite(input), {input}, g);
        if (cuda) return {cuda_softmax_rows_backward(out, g, log)};
        Tensor gc = g.to(DType::Float32).contiguous(), yc = out.contiguous();
        Tensor dx = empty(input.shape());
        kernels::softmax_rows_backward_f32(yc.data<float>(), gc.data<float>(), dx.data<float>(),
                                           rows, n, log);
        return {dx};
      },
      /*keep_output=*/true);
}

Tensor layer_norm_fused(const Tensor& x, int64_t n, const Tensor& w, const Tensor& b, double eps,
                        NormComposite composite) {
  const bool cuda = fused_cuda_float(x, w, b);
  if (!(cuda || fused_cpu_f32(x, w, b)) || (w.defined() && w.numel() != n) ||
      (b.defined() && b.numel() != n))
    return Tensor();
  const int64_t rows = n ? x.numel() / n : 0;
  Tensor y, mean, rstd;
  if (cuda) {
    std::vector<Tensor> r = cuda_layer_norm_rows(x, n, w, b, eps);
    y = r[0], mean = r[1], rstd = r[2];
  } else {
    Tensor xc = x.contiguous(), wc = w.defined() ? w.contiguous() : w;
    Tensor bc = b.defined() ? b.contiguous() : b;
    y = empty(x.shape()), mean = empty({rows}), rstd = empty({rows});
    kernels::layer_norm_rows_f32(xc.data<float>(), data_or_null(wc), data_or_null(bc),
                                 y.data<float>(), mean.data<float>(), rstd.data<float>(), rows, n,
                                 eps);
  }
  auto saved = std::make_shared<SavedTensors>(std::vector<Tensor>{x, w, b}, 3);
  return record_fused(
      "NativeLayerNormBackward0", y, {x, w, b}, saved,
      [saved, composite, mean, rstd, rows, n, cuda](const Tensor& g,
                                                    const Tensor&) -> std::vector<Tensor> {
        saved->check("NativeLayerNormBackward0");
        const std::vector<Tensor>& in = saved->tensors;
        if (grad_enabled()) return composite_grads(composite(in[0], in[1], in[2]), in, g);
        if (cuda) {
          std::vector<Tensor> r = cuda_layer_norm_rows_backward(
              in[0], n, in[1], mean, rstd, g, wants_grad(in[0]), wants_grad(in[1]));
          std::vector<Tensor> grads = {r[0], Tensor(), Tensor()};
          if (wants_grad(in[1]))
            grads[1] = reshape(sum(r[1], {0}), in[1].shape()).to(in[1].dtype());
          if (wants_grad(in[2]))
            grads[2] = reshape(sum(reshape(g.to(DType::Float32), {rows, n}), {0}),
                               in[2].shape())
                           .to(in[2].dtype());
          return grads;
        }
        Tensor xc = in[0].contiguous(), gc = g.to(DType::Float32).contiguous();
        Tensor wc = in[1].defined() ? in[1].contiguous() : in[1];
        std::vector<Tensor> grads(3);
        for (int i = 0; i < 3; ++i)
          if (wants_grad(in[i])) grads[i] = empty(in[i].shape());
        kernels::layer_norm_rows_backward_f32(
            xc.data<float>(), data_or_null(wc), mean.data<float>(), rstd.data<float>(),
            gc.data<float>(), data_or_null(grads[0]), data_or_null(grads[1]),
            data_or_null(grads[2]), rows, n);
        return grads;
      },
      /*keep_output=*/false); // the backward reads its inputs and statistics, not its output
}

} // namespace ember::detail
