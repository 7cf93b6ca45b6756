// Fused optimizer updates: one pass over each parameter's memory that reads the gradient and the
// state and writes the parameter and the state in place, with PyTorch's update math (its
// single-tensor implementations), on the CPU or on one CUDA device. ember.optim (Python) calls
// them for float32/float64 contiguous parameters and falls back to ember ops elsewhere.
#pragma once

#include "ember/Tensor.h"

namespace ember::optim {

// momentum == 0: `buf` may be undefined. first: the momentum buffer is initialised to the gradient.
void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
               double momentum, double dampening, double weight_decay, bool nesterov,
               bool maximize, bool first);

// `step` is the step count after this update (1 on the first). max_exp_avg_sq: amsgrad only.
void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled_weight_decay,
                bool amsgrad, bool maximize, int64_t step);

// grad_avg: centered only; momentum_buffer: momentum > 0 only.
void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& grad_avg, const Tensor& momentum_buffer, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered, bool maximize);

void adagrad_step_(const Tensor& param, const Tensor& grad, const Tensor& sum, double clr,
                   double weight_decay, double eps, bool maximize);

} // namespace ember::optim
