// C++ ember::optim: the optimizers' bookkeeping (state, checks); the math is the fused kernels
// in frontend/src/Optim.cpp, shared with ember.optim.
#include "ember/optim/Optimizers.h"

#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Optim.h"
#include "ember/runtime/Error.h"

#include <utility>

namespace ember::optim {

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
    const bool first = momentum != 0 && !buffers_[i].defined();
    if (first) buffers_[i] = zeros(params_[i].shape(), params_[i].dtype());
    sgd_step_(params_[i], g.contiguous(), momentum != 0 ? buffers_[i] : Tensor(), lr, momentum,
              dampening, weight_decay, nesterov, maximize, first);
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
    State& s = state_[i];
    const Tensor& p = params_[i];
    if (s.step == 0) {
      s.exp_avg = zeros(p.shape(), p.dtype());
      s.exp_avg_sq = zeros(p.shape(), p.dtype());
    }
    if (amsgrad && !s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = zeros(p.shape(), p.dtype());
    ++s.step;
    adam_step_(p, g.contiguous(), s.exp_avg, s.exp_avg_sq, amsgrad ? s.max_exp_avg_sq : Tensor(),
               lr, beta1, beta2, eps, weight_decay, decoupled_, amsgrad, maximize, s.step);
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
    State& s = state_[i];
    const Tensor& p = params_[i];
    if (s.step == 0) s.square_avg = zeros(p.shape(), p.dtype());
    if (momentum > 0 && !s.momentum_buffer.defined())
      s.momentum_buffer = zeros(p.shape(), p.dtype());
    if (centered && !s.grad_avg.defined()) s.grad_avg = zeros(p.shape(), p.dtype());
    ++s.step;
    rmsprop_step_(p, g.contiguous(), s.square_avg, centered ? s.grad_avg : Tensor(),
                  momentum > 0 ? s.momentum_buffer : Tensor(), lr, alpha, eps, weight_decay,
                  momentum, centered, maximize);
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
    state_[i].sum = full(params_[i].shape(), initial_accumulator_value, params_[i].dtype());
}

void Adagrad::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    State& s = state_[i];
    ++s.step;
    const double clr = lr / (1 + double(s.step - 1) * lr_decay);
    adagrad_step_(params_[i], g.contiguous(), s.sum, clr, weight_decay, eps, maximize);
  }
}

} // namespace ember::optim
