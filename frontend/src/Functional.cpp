#include "ember/Functional.h"

#include "FusedNorm.h"

#include "ember/Autocast.h"
#include "ember/Creation.h"
#include "ember/PointwiseOps.h"
#include "ember/ShapeOps.h"
#include "ember/runtime/Error.h"

#include <cmath>

namespace ember::nn::functional {
namespace {
// num / den for a mean over the elements that count (weights of the targets not ignored). Its
// gradient treats a zero den as 1: when every target is ignored the loss is NaN (0 / 0, as in
// PyTorch) but the gradient is 0, not 0 * inf = NaN in every input (one fully padded batch
// would poison the weights).
Tensor weighted_mean(const Tensor& num, const Tensor& den) {
  Tensor safe = where(eq(den, scalar(0)), ones_like(den), den);
  Tensor q = div(num, safe);
  return add(q, sub(div(num, den), q).detach());
}

Tensor reduce(const Tensor& loss, Reduction r) {
  switch (r) {
  case Reduction::None: return loss;
  case Reduction::Sum: return sum(loss);
  case Reduction::Mean: return mean(loss);
  case Reduction::BatchMean:
    return loss.dim() ? div(sum(loss), scalar(double(loss.shape()[0]))) : sum(loss);
  }
  return loss;
}

void same_shape(const Tensor& a, const Tensor& b, const char* op) {
  EMBER_CHECK(a.shape() == b.shape(), Value, op, "input of shape ", shape_str(a.shape()),
              " and target of shape ", shape_str(b.shape()), " differ; they must match");
}

} // namespace

Reduction reduction_from(const std::string& name, const char* op) {
  if (name == "none") return Reduction::None;
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  // 'batchmean' (sum / batch size) is kl_div's alone, as in PyTorch.
  if (name == "batchmean" && std::string(op).find("kl_div") != std::string::npos)
    return Reduction::BatchMean;
  fail(ErrorKind::Value, op, "'", name, "' is not a valid value for reduction; use 'none', 'mean' or 'sum'");
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  EMBER_CHECK(min || max, Value, "ember.clamp", "at least one of 'min' or 'max' must not be None");
  // The tensor-bound clamp with the numbers as wrapped scalars (PyTorch's rules for number
  // bounds: a value at a bound gets no gradient).
  return clamp(x, min ? scalar(*min) : Tensor(), max ? scalar(*max) : Tensor());
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (autocast::Scope s{autocast::Op::Linear, {x, weight, bias}}) return linear(s[0], s[1], s[2]);
  Tensor y = matmul(x, transpose(weight, 0, 1));
  return bias.defined() ? add(y, bias) : y;
}

// One primitive each (ops/Elementwise.def): one eager kernel, one fused op when compiled.
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return tanh_approximation ? ember::gelu_tanh(x) : ember::gelu(x);
}

Tensor silu(const Tensor& x) { return ember::silu(x); }
Tensor mish(const Tensor& x) { return mul(x, tanh(softplus(x))); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (autocast::Scope s{autocast::Op::Softplus, {x}}) return softplus(s[0], beta, threshold);
  Tensor bx = mul(x, scalar(beta));
  // Above the threshold softplus is the identity (and exp would overflow).
  Tensor safe = minimum(bx, scalar(threshold));
  return where(gt(bx, scalar(threshold)), x, div(log1p(exp(safe)), scalar(beta)));
}

Tensor logsigmoid(const Tensor& x) { return neg(softplus(neg(x))); }

Tensor leaky_relu(const Tensor& x, double slope) {
  return where(gt(x, scalar(0)), x, mul(x, scalar(slope)));
}

Tensor elu(const Tensor& x, double alpha) {
  return where(gt(x, scalar(0)), x, mul(expm1(minimum(x, scalar(0))), scalar(alpha)));
}

Tensor selu(const Tensor& x) {
  return mul(elu(x, 1.6732632423543772848170429916717), scalar(1.0507009873554804934193349852946));
}

Tensor celu(const Tensor& x, double alpha) {
  return where(gt(x, scalar(0)), x,
               mul(expm1(div(minimum(x, scalar(0)), scalar(alpha))), scalar(alpha)));
}

Tensor hardtanh(const Tensor& x, double min, double max) { return clamp(x, min, max); }
Tensor relu6(const Tensor& x) { return hardtanh(x, 0, 6); }
Tensor hardsigmoid(const Tensor& x) { return clamp(add(div(x, scalar(6)), scalar(0.5)), 0, 1); }
Tensor hardswish(const Tensor& x) { return mul(x, hardsigmoid(x)); }

Tensor one_hot(const Tensor& target, int64_t num_classes) {
  // RuntimeError for bad dtypes and class values, as in PyTorch.
  EMBER_CHECK(target.dtype() == DType::Int64, Runtime, "ember.one_hot",
              "one_hot is only applicable to index tensors (int64), got ", dtype_name(target.dtype()));
  // Without num_classes the shape depends on the values: a traced target breaks the graph here.
  if (num_classes < 0) num_classes = target.numel() ? int64_t(amax(target).item()) + 1 : 0;
  if (target.numel() && !target.is_symbolic())
    EMBER_CHECK(amin(target).item() >= 0 && amax(target).item() < num_classes, Runtime,
                "ember.one_hot", "class values must be in [0, ", num_classes, ")");
  // A scatter of ones (CPU, CUDA and compiled alike; compiled, each class value is checked
  // against num_classes).
  Shape shape = target.shape();
  shape.push_back(num_classes);
  return scatter(zeros(shape, DType::Int64), -1, unsqueeze(target, -1), 1.0);
}

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx) {
  EMBER_CHECK(weight.dim() == 2, Value, "ember.embedding", "weight must be 2-D, got ",
              shape_str(weight.shape()));
  Shape out = indices.shape();
  out.push_back(weight.shape()[1]);
  Tensor flat = reshape(indices, {-1});
  Tensor rows = index_select(weight, 0, flat);
  if (padding_idx) {
    const int64_t n = weight.shape()[0];
    int64_t p = *padding_idx;
    EMBER_CHECK(p >= -n && p < n, Value, "ember.embedding", "padding_idx ", p,
                " must be within num_embeddings (", n, ")");
    if (p < 0) p += n;
    // The padding row's entries are read without a gradient.
    Tensor is_pad = unsqueeze(eq(flat, wrapped_scalar(double(p), DType::Int64)), 1);
    rows = where(is_pad, index_select(weight.detach(), 0, flat), rows);
  }
  return reshape(rows, out);
}

Tensor dropout(const Tensor& x, double p, bool training) {
  EMBER_CHECK(p >= 0 && p <= 1, Value, "ember.dropout", "dropout probability has to be between 0 "
              "and 1, but got ", p);
  if (!training || p == 0) return x;
  if (p == 1) return mul(x, scalar(0));
  Tensor keep = bernoulli(full(x.shape(), 1 - p, x.dtype(), x.device()));
  return mul(x, mul(keep, scalar(1 / (1 - p))));
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  if (autocast::Scope s{autocast::Op::LayerNorm, {x, weight, bias}})
    return layer_norm(s[0], normalized_shape, s[1], s[2], eps);
  if (autocast::mixed_norm(x, {weight, bias}))
    return cast(layer_norm(cast(x, DType::Float32), normalized_shape, weight, bias, eps), x.dtype());
  const int64_t k = int64_t(normalized_shape.size());
  EMBER_CHECK(k >= 1 && k <= x.dim() &&
                  Shape(x.shape().end() - k, x.shape().end()) == normalized_shape,
              Value, "ember.layer_norm", "normalized_shape ", shape_str(normalized_shape),
              " must be the trailing dimensions of the input's shape ", shape_str(x.shape()));
  Shape dims;
  int64_t n = 1;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) {
    dims.push_back(d);
    n *= x.shape()[d];
  }
  auto composite = [dims, eps](const Tensor& x, const Tensor& weight, const Tensor& bias) {
    Tensor centered = sub(x, mean(x, dims, true));
    Tensor y = mul(centered, rsqrt(add(var(x, dims, 0, true), scalar(eps))));
    if (weight.defined()) y = mul(y, weight);
    return bias.defined() ? add(y, bias) : y;
  };
  // Eagerly, float32 CPU tensors take the fused row kernel (FusedNorm.h).
  Tensor y = detail::layer_norm_fused(x, n, weight, bias, eps, composite);
  return y.defined() ? y : composite(x, weight, bias);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  if (autocast::Scope s{autocast::Op::MseLoss, {input, target}}) return mse_loss(s[0], s[1], r);
  same_shape(input, target, "ember.mse_loss");
  Tensor d = sub(input, target);
  return reduce(mul(d, d), r);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  if (autocast::Scope s{autocast::Op::L1Loss, {input, target}}) return l1_loss(s[0], s[1], r);
  same_shape(input, target, "ember.l1_loss");
  return reduce(abs(sub(input, target)), r);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta) {
  if (autocast::Scope s{autocast::Op::SmoothL1Loss, {input, target}})
    return smooth_l1_loss(s[0], s[1], r, beta);
  same_shape(input, target, "ember.smooth_l1_loss");
  EMBER_CHECK(beta >= 0, Runtime, "ember.smooth_l1_loss",
              "smooth_l1_loss does not support negative values for beta (got ", beta, ")");
  Tensor d = abs(sub(input, target));
  if (beta == 0) return reduce(d, r);
  return reduce(where(lt(d, scalar(beta)), div(mul(mul(d, d), scalar(0.5)), scalar(beta)),
                      sub(d, scalar(0.5 * beta))), r);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r, double delta) {
  if (autocast::Scope s{autocast::Op::HuberLoss, {input, target}})
    return huber_loss(s[0], s[1], r, delta);
  same_shape(input, target, "ember.huber_loss");
  EMBER_CHECK(delta > 0, Runtime, "ember.huber_loss",
              "huber_loss does not support non-positive values for delta (got ", delta, ")");
  Tensor d = abs(sub(input, target));
  return reduce(where(lt(d, scalar(delta)), mul(mul(d, d), scalar(0.5)),
                      mul(sub(d, scalar(0.5 * delta)), scalar(delta))), r);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, Reduction r,
                            const Tensor& weight) {
  if (autocast::Scope s{autocast::Op::BinaryCrossEntropy, {input, target, weight}})
    return binary_cross_entropy(s[0], s[1], r, s[2]);
  same_shape(input, target, "ember.binary_cross_entropy");
  // PyTorch clamps the logs at -100 so 0 and 1 give finite losses, and its gradient is
  // (x - t) / max((1 - x) x, 1e-12): finite at x = 0 and 1 (through the clamped logs it was
  // 0 * inf = NaN, so one saturated sigmoid turned the model NaN). The value comes from the
  // detached input; (input - x) * g, zero in value, carries that gradient (first order only).
  Tensor x = input.detach();
  Tensor lp = maximum(log(x), scalar(-100));
  Tensor lq = maximum(log1p(neg(x)), scalar(-100));
  Tensor loss = neg(add(mul(target, lp), mul(sub(scalar(1), target), lq)));
  if (input.requires_grad()) {
    Tensor g = div(sub(x, target), maximum(mul(sub(scalar(1), x), x), scalar(1e-12))).detach();
    loss = add(loss, mul(sub(input, x), g));
  }
  return reduce(weight.defined() ? mul(loss, weight) : loss, r);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, Reduction r,
                                        const Tensor& weight, const Tensor& pos_weight) {
  if (autocast::Scope s{autocast::Op::BinaryCrossEntropyWithLogits,
                        {input, target, weight, pos_weight}})
    return binary_cross_entropy_with_logits(s[0], s[1], r, s[2], s[3]);
  same_shape(input, target, "ember.binary_cross_entropy_with_logits");
  // (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), stable for large |x|.
  Tensor sp = softplus(neg(input));
  if (pos_weight.defined()) sp = mul(add(mul(sub(pos_weight, scalar(1)), target), scalar(1)), sp);
  Tensor loss = add(mul(sub(scalar(1), target), input), sp);
  return reduce(weight.defined() ? mul(loss, weight) : loss, r);
}

namespace {

// [N, C, d1, ...] scores as rows [N*d1*..., C] and the target flattened to match; `loss_shape`
// is the shape of the per-element loss ([N, d1, ...]; [] for unbatched [C]).
struct ClassRows {
  Tensor rows, target;
  Shape loss_shape;
};

ClassRows class_rows(const Tensor& x, const Tensor& target, const char* op) {
  EMBER_CHECK(x.dim() >= 1, Value, op, "input must have a class dimension, got a 0-d tensor");
  Shape loss_shape = x.shape();
  if (x.dim() == 1) {
    loss_shape.clear();
  } else {
    loss_shape.erase(loss_shape.begin() + 1);
  }
  EMBER_CHECK(target.shape() == loss_shape, Value, op, "expected target of shape ",
              shape_str(loss_shape), " for input of shape ", shape_str(x.shape()), ", got ",
              shape_str(target.shape()));
  const int64_t classes = x.dim() == 1 ? x.shape()[0] : x.shape()[1];
  Tensor rows = x;
  if (x.dim() > 2) {
    Shape order{0};
    for (int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
    order.push_back(1);
    rows = permute(x, order);
  }
  return {reshape(rows, {-1, classes}), reshape(target, {-1}), loss_shape};
}

} // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, Reduction r) {
  if (autocast::Scope s{autocast::Op::NllLoss, {log_probs, target, weight}})
    return nll_loss(s[0], s[1], s[2], ignore_index, r);
  const char* op = "ember.nll_loss";
  EMBER_CHECK(target.dtype() == DType::Int64, Type, op, "target must hold class indices (int64), got ",
              dtype_name(target.dtype()));
  ClassRows c = class_rows(log_probs, target, op);
  const Tensor &lp = c.rows, &t = c.target;
  const int64_t classes = lp.shape()[1];
  EMBER_CHECK(!weight.defined() || (weight.dim() == 1 && weight.shape()[0] == classes), Value, op,
              "weight must be a 1-D tensor of ", classes, " class weights, got ",
              shape_str(weight.shape()));
  Tensor valid = ne(t, wrapped_scalar(double(ignore_index), DType::Int64));
  Tensor safe = where(valid, t, zeros_like(t));
  // Checked here when the values are known; a traced (compiled) call checks them in gather.
  if (t.numel() && !safe.is_symbolic())
    EMBER_CHECK(amin(safe).item() >= 0 && amax(safe).item() < classes, Index, op,
                "target values must be in [0, ", classes, ") or equal ignore_index ", ignore_index);
  // The target's log-probability: a gather (its gradient a scatter_add; compiled, each index is
  // checked against its row), not a one-hot product, so a -inf elsewhere in the row stays out.
  Tensor picked = reshape(gather(lp, 1, unsqueeze(safe, 1)), {-1});
  Tensor w = weight.defined() ? index_select(weight, 0, safe) : ones(picked.shape(), lp.dtype(), lp.device());
  w = mul(w, cast(valid, lp.dtype()));
  Tensor loss = neg(mul(picked, w));
  if (r == Reduction::Mean) return weighted_mean(sum(loss), sum(w));
  return reduce(reshape(loss, c.loss_shape), r);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, Reduction r, double label_smoothing) {
  if (autocast::Scope s{autocast::Op::CrossEntropy, {input, target, weight}})
    return cross_entropy(s[0], s[1], s[2], ignore_index, r, label_smoothing);
  const char* op = "ember.cross_entropy";
  EMBER_CHECK(label_smoothing >= 0 && label_smoothing <= 1, Value, op,
              "label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  EMBER_CHECK(input.dim() >= 1, Value, op, "input must have a class dimension, got a 0-d tensor");
  const int64_t cdim = input.dim() == 1 ? 0 : 1, classes = input.shape()[cdim];
  EMBER_CHECK(!weight.defined() || (weight.dim() == 1 && weight.shape()[0] == classes), Value, op,
              "weight must be a 1-D tensor of ", classes, " class weights, got ",
              shape_str(weight.shape()));
  Tensor lp = log_softmax(input, cdim);
  // The class weights shaped to broadcast along the class dim.
  Tensor wb;
  if (weight.defined()) {
    Shape ws(input.dim(), 1);
    ws[cdim] = classes;
    wb = reshape(weight, ws);
  }
  if (is_floating(target.dtype())) { // class probabilities
    EMBER_CHECK(target.shape() == input.shape(), Value, op, "probability targets must have the "
                "input's shape ", shape_str(input.shape()), ", got ", shape_str(target.shape()));
    Tensor t = label_smoothing > 0 ? add(mul(target, scalar(1 - label_smoothing)),
                                         scalar(label_smoothing / double(classes)))
                                   : target;
    Tensor prod_ = mul(lp, t);
    if (wb.defined()) prod_ = mul(prod_, wb);
    Tensor loss = neg(sum(prod_, {cdim}));
    if (r == Reduction::Mean)
      return div(sum(loss), scalar(double(input.numel() / std::max<int64_t>(classes, 1))));
    return reduce(loss, r);
  }
  Tensor nll = nll_loss(lp, target, weight, ignore_index, r);
  if (label_smoothing == 0) return nll;
  // Smoothing mixes in the (weighted) mean negative log-probability over classes; ignored
  // elements contribute nothing.
  Tensor valid = ne(target, wrapped_scalar(double(ignore_index), DType::Int64));
  Tensor smooth = neg(sum(wb.defined() ? mul(lp, wb) : lp, {cdim}));
  smooth = where(valid, smooth, zeros_like(smooth));
  Tensor s;
  if (r == Reduction::Mean) {
    Tensor denom;
    if (weight.defined()) {
      Tensor flat = reshape(target, {-1}), v = reshape(valid, {-1});
      Tensor picked = index_select(weight, 0, where(v, flat, zeros_like(flat)));
      denom = sum(mul(picked, cast(v, picked.dtype())));
    } else {
      denom = sum(cast(valid, lp.dtype()));
    }
    s = weighted_mean(sum(smooth), denom);
  } else {
    s = reduce(smooth, r);
  }
  return add(mul(nll, scalar(1 - label_smoothing)), mul(s, scalar(label_smoothing / double(classes))));
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r, bool log_target) {
  if (autocast::Scope s{autocast::Op::KlDiv, {input, target}}) return kl_div(s[0], s[1], r, log_target);
  same_shape(input, target, "ember.kl_div");
  Tensor loss = log_target ? mul(exp(target), sub(target, input))
                           : where(gt(target, scalar(0)), mul(target, sub(log(target), input)),
                                   zeros_like(input));
  return reduce(loss, r);
}

} // namespace ember::nn::functional
