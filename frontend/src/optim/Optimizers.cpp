// C++ ember::optim: the optimizers' bookkeeping (state, checks); the math is the fused kernels
// in frontend/src/Optim.cpp, shared with ember.optim, for CPU float32/float64 contiguous
// parameters, and the same formulas in ember ops elsewhere (CUDA, strided parameters), as
// ember.optim does.
#include "ember/optim/Optimizers.h"

#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Optim.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <initializer_list>
#include <utility>

namespace ember::optim {
namespace {

// Whether the fused kernel can update p: concrete CPU float32/float64, p and its state
// contiguous, everything of p's dtype and size (the gradient may have any layout).
bool fusable(const Tensor& p, const Tensor& grad, std::initializer_list<const Tensor*> state) {
  if (p.is_symbolic() || p.is_cuda() || !p.is_contiguous()) return false;
  if (p.dtype() != DType::Float32 && p.dtype() != DType::Float64) return false;
  if (grad.is_symbolic() || grad.is_cuda() || grad.dtype() != p.dtype() ||
      grad.numel() != p.numel())
    return false;
  for (const Tensor* t : state)
    if (t->defined() && (t->is_symbolic() || t->is_cuda() || !t->is_contiguous() ||
                         t->dtype() != p.dtype() || t->numel() != p.numel()))
      return false;
  return true;
}

Tensor s(double v) { return scalar(v); }

// Writes value into t's memory (t is a parameter or a state tensor).
void assign(const Tensor& t, const Tensor& value) {
  Tensor dst = t;
  copy_(dst, value);
}

Tensor zeros_for(const Tensor& p) { return zeros(p.shape(), p.dtype(), p.device()); }

} // namespace

Optimizer::Optimizer(std::vector<Tensor> params, double lr_, const char* op)
    : lr(lr_), params_(std::move(params)) {
  EMBER_CHECK(lr >= 0, Value, op, "Invalid learning rate: ", lr);
  EMBER_CHECK(!params_.empty(), Value, op, "optimizer got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i)
    EMBER_CHECK(params_[i].defined(), Value, op, "parameter ", i, " is an undefined tensor");
}

void Optimizer::zero_grad(bool set_to_none) {
  GradModeGuard no_grad(false);
  for (Tensor& p : params_) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      g.detach_();
      copy_(g, scalar(0));
    }
  }
}

SGD::SGD(std::vector<Tensor> params, double lr_, double momentum_, double dampening_,
         double weight_decay_, bool nesterov_, bool maximize_)
    : Optimizer(std::move(params), lr_, "ember::optim::SGD"), momentum(momentum_),
      dampening(dampening_), weight_decay(weight_decay_), nesterov(nesterov_),
      maximize(maximize_), buffers_(params_.size()) {
  const char* op = "ember::optim::SGD";
  EMBER_CHECK(momentum >= 0, Value, op, "Invalid momentum value: ", momentum);
  EMBER_CHECK(weight_decay >= 0, Value, op, "Invalid weight_decay value: ", weight_decay);
  EMBER_CHECK(!nesterov || (momentum > 0 && dampening == 0), Value, op,
              "Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    const Tensor& p = params_[i];
    const bool first = momentum != 0 && !buffers_[i].defined();
    if (first) buffers_[i] = zeros_for(p);
    const Tensor buf = momentum != 0 ? buffers_[i] : Tensor();
    if (fusable(p, g, {&buf})) {
      sgd_step_(p, g.contiguous(), buf, lr, momentum, dampening, weight_decay, nesterov,
                maximize, first);
      continue;
    }
    Tensor d = maximize ? neg(g) : g;
    if (weight_decay != 0) d = add(d, mul(p, s(weight_decay)));
    if (momentum != 0) {
      assign(buf, first ? d : add(mul(buf, s(momentum)), mul(d, s(1 - dampening))));
      d = nesterov ? add(d, mul(buf, s(momentum))) : buf;
    }
    assign(p, sub(p, mul(d, s(lr))));
  }
}

namespace {
void check_adam(const char* op, double eps, double beta1, double beta2, double weight_decay) {
  EMBER_CHECK(eps >= 0, Value, op, "Invalid epsilon value: ", eps);
  EMBER_CHECK(beta1 >= 0 && beta1 < 1, Value, op, "Invalid beta parameter at index 0: ", beta1);
  EMBER_CHECK(beta2 >= 0 && beta2 < 1, Value, op, "Invalid beta parameter at index 1: ", beta2);
  EMBER_CHECK(weight_decay >= 0, Value, op, "Invalid weight_decay value: ", weight_decay);
}
} // namespace

Adam::Adam(std::vector<Tensor> params, double lr_, double beta1_, double beta2_, double eps_,
           double weight_decay_, bool amsgrad_, bool maximize_)
    : Optimizer(std::move(params), lr_, "ember::optim::Adam"), beta1(beta1_), beta2(beta2_),
      eps(eps_), weight_decay(weight_decay_), amsgrad(amsgrad_), maximize(maximize_),
      state_(params_.size()) {
  check_adam("ember::optim::Adam", eps, beta1, beta2, weight_decay);
}

void Adam::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    State& st = state_[i];
    const Tensor& p = params_[i];
    if (st.step == 0) {
      st.exp_avg = zeros_for(p);
      st.exp_avg_sq = zeros_for(p);
    }
    if (amsgrad && !st.max_exp_avg_sq.defined()) st.max_exp_avg_sq = zeros_for(p);
    ++st.step;
    const Tensor vmax = amsgrad ? st.max_exp_avg_sq : Tensor();
    if (fusable(p, g, {&st.exp_avg, &st.exp_avg_sq, &vmax})) {
      adam_step_(p, g.contiguous(), st.exp_avg, st.exp_avg_sq, vmax, lr, beta1, beta2, eps,
                 weight_decay, decoupled_, amsgrad, maximize, st.step);
      continue;
    }
    Tensor d = maximize ? neg(g) : g;
    if (weight_decay != 0) {
      if (decoupled_) assign(p, mul(p, s(1 - lr * weight_decay)));
      else d = add(d, mul(p, s(weight_decay)));
    }
    assign(st.exp_avg, add(st.exp_avg, mul(sub(d, st.exp_avg), s(1 - beta1))));
    assign(st.exp_avg_sq, add(mul(st.exp_avg_sq, s(beta2)), mul(mul(d, d), s(1 - beta2))));
    Tensor second = st.exp_avg_sq;
    if (amsgrad) {
      assign(vmax, maximum(vmax, st.exp_avg_sq));
      second = vmax;
    }
    const double bc1 = 1 - std::pow(beta1, double(st.step));
    const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, double(st.step)));
    Tensor denom = add(div(sqrt(second), s(bc2_sqrt)), s(eps));
    assign(p, sub(p, mul(div(st.exp_avg, denom), s(lr / bc1))));
  }
}

AdamW::AdamW(std::vector<Tensor> params, double lr_, double beta1_, double beta2_, double eps_,
             double weight_decay_, bool amsgrad_, bool maximize_)
    : Adam(std::move(params), lr_, beta1_, beta2_, eps_, weight_decay_, amsgrad_, maximize_) {
  decoupled_ = true;
}

RMSprop::RMSprop(std::vector<Tensor> params, double lr_, double alpha_, double eps_,
                 double weight_decay_, double momentum_, bool centered_, bool maximize_)
    : Optimizer(std::move(params), lr_, "ember::optim::RMSprop"), alpha(alpha_), eps(eps_),
      weight_decay(weight_decay_), momentum(momentum_), centered(centered_),
      maximize(maximize_), state_(params_.size()) {
  const char* op = "ember::optim::RMSprop";
  EMBER_CHECK(eps >= 0, Value, op, "Invalid epsilon value: ", eps);
  EMBER_CHECK(momentum >= 0, Value, op, "Invalid momentum value: ", momentum);
  EMBER_CHECK(weight_decay >= 0, Value, op, "Invalid weight_decay value: ", weight_decay);
  EMBER_CHECK(alpha >= 0, Value, op, "Invalid alpha value: ", alpha);
}

void RMSprop::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    State& st = state_[i];
    const Tensor& p = params_[i];
    if (st.step == 0) st.square_avg = zeros_for(p);
    if (momentum > 0 && !st.momentum_buffer.defined()) st.momentum_buffer = zeros_for(p);
    if (centered && !st.grad_avg.defined()) st.grad_avg = zeros_for(p);
    ++st.step;
    const Tensor ga = centered ? st.grad_avg : Tensor();
    const Tensor buf = momentum > 0 ? st.momentum_buffer : Tensor();
    if (fusable(p, g, {&st.square_avg, &ga, &buf})) {
      rmsprop_step_(p, g.contiguous(), st.square_avg, ga, buf, lr, alpha, eps, weight_decay,
                    momentum, centered, maximize);
      continue;
    }
    Tensor d = maximize ? neg(g) : g;
    if (weight_decay != 0) d = add(d, mul(p, s(weight_decay)));
    assign(st.square_avg, add(mul(st.square_avg, s(alpha)), mul(mul(d, d), s(1 - alpha))));
    Tensor avg;
    if (centered) {
      assign(ga, add(ga, mul(sub(d, ga), s(1 - alpha))));
      avg = add(sqrt(sub(st.square_avg, mul(ga, ga))), s(eps));
    } else {
      avg = add(sqrt(st.square_avg), s(eps));
    }
    if (momentum > 0) {
      assign(buf, add(mul(buf, s(momentum)), div(d, avg)));
      assign(p, sub(p, mul(buf, s(lr))));
    } else {
      assign(p, sub(p, mul(div(d, avg), s(lr))));
    }
  }
}

Adagrad::Adagrad(std::vector<Tensor> params, double lr_, double lr_decay_, double weight_decay_,
                 double initial_accumulator_value, double eps_, bool maximize_)
    : Optimizer(std::move(params), lr_, "ember::optim::Adagrad"), lr_decay(lr_decay_),
      weight_decay(weight_decay_), eps(eps_), maximize(maximize_), state_(params_.size()) {
  const char* op = "ember::optim::Adagrad";
  EMBER_CHECK(lr_decay >= 0, Value, op, "Invalid lr_decay value: ", lr_decay);
  EMBER_CHECK(weight_decay >= 0, Value, op, "Invalid weight_decay value: ", weight_decay);
  EMBER_CHECK(initial_accumulator_value >= 0, Value, op,
              "Invalid initial_accumulator_value value: ", initial_accumulator_value);
  EMBER_CHECK(eps >= 0, Value, op, "Invalid epsilon value: ", eps);
  for (size_t i = 0; i < params_.size(); ++i)
    state_[i].sum = full(params_[i].shape(), initial_accumulator_value, params_[i].dtype(),
                         params_[i].device());
}

void Adagrad::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    State& st = state_[i];
    const Tensor& p = params_[i];
    ++st.step;
    const double clr = lr / (1 + double(st.step - 1) * lr_decay);
    if (fusable(p, g, {&st.sum})) {
      adagrad_step_(p, g.contiguous(), st.sum, clr, weight_decay, eps, maximize);
      continue;
    }
    Tensor d = maximize ? neg(g) : g;
    if (weight_decay != 0) d = add(d, mul(p, s(weight_decay)));
    assign(st.sum, add(st.sum, mul(d, d)));
    assign(p, sub(p, mul(div(d, add(sqrt(st.sum), s(eps))), s(clr))));
  }
}

} // namespace ember::optim
