// ember::optim for C++ users: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's arguments,
// defaults and update math (its single-tensor algorithms). Each parameter's update is one
// fused pass over its memory (ember/Optim.h, the kernels ember.optim calls from Python): CPU
// float32/float64 parameters. State is created at a parameter's first step; parameters without
// a gradient are skipped. Hyperparameters are public members, so schedulers (and users) can
// change them between steps, like PyTorch's param_groups[0].
#pragma once

#include "ember/Tensor.h"

#include <vector>

namespace ember::optim {

class Optimizer {
public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  // Drops every parameter's .grad, or zeroes it in place when set_to_none is false.
  void zero_grad(bool set_to_none = true);
  const std::vector<Tensor>& parameters() const { return params_; }
  // The momentum OneCycleLR cycles (SGD, RMSprop: momentum; Adam: beta1); nullptr if none.
  virtual double* cycled_momentum() { return nullptr; }
  double lr;

protected:
  Optimizer(std::vector<Tensor> params, double lr, const char* op);
  std::vector<Tensor> params_;
};

// Stochastic gradient descent with momentum, dampening, Nesterov momentum, L2 weight decay and
// maximize.
class SGD : public Optimizer {
public:
  SGD(std::vector<Tensor> params, double lr = 1e-3, double momentum = 0, double dampening = 0,
      double weight_decay = 0, bool nesterov = false, bool maximize = false);
  void step() override;
  double* cycled_momentum() override { return &momentum; }
  double momentum, dampening, weight_decay;
  bool nesterov, maximize;

private:
  std::vector<Tensor> buffers_;
};

// Adam with L2 weight decay, AMSGrad and maximize (AdamW: decoupled weight decay).
class Adam : public Optimizer {
public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false);
  void step() override;
  double* cycled_momentum() override { return &beta1; }
  int64_t steps_taken(size_t param) const { return state_.at(param).step; }
  double beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize;

protected:
  bool decoupled_ = false; // AdamW: decay the parameter, not the gradient

private:
  struct State {
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<State> state_;
};

// Adam with decoupled weight decay (default 1e-2): p *= 1 - lr * weight_decay.
class AdamW : public Adam {
public:
  AdamW(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false,
        bool maximize = false);
};

// RMSprop with momentum, centering, L2 weight decay and maximize.
class RMSprop : public Optimizer {
public:
  RMSprop(std::vector<Tensor> params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
          double weight_decay = 0, double momentum = 0, bool centered = false,
          bool maximize = false);
  void step() override;
  double* cycled_momentum() override { return &momentum; }
  double alpha, eps, weight_decay, momentum;
  bool centered, maximize;

private:
  struct State {
    Tensor square_avg, grad_avg, momentum_buffer;
    int64_t step = 0;
  };
  std::vector<State> state_;
};

// Adagrad with learning-rate decay (lr / (1 + (step - 1) * lr_decay)), L2 weight decay, an
// initial accumulator value and maximize.
class Adagrad : public Optimizer {
public:
  Adagrad(std::vector<Tensor> params, double lr = 1e-2, double lr_decay = 0,
          double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10,
          bool maximize = false);
  void step() override;
  double lr_decay, weight_decay, eps;
  bool maximize;

private:
  struct State {
    Tensor sum;
    int64_t step = 0;
  };
  std::vector<State> state_;
};

} // namespace ember::optim
