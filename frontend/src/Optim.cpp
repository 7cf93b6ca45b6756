// Fused optimizer updates (see Optim.h): each is one element loop, split across threads, or on
// CUDA one generated kernel with the same formulas (kernels/CudaSource.h, optimizer_kernel).
#include "ember/Optim.h"

#include "CudaOps.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <cmath>

namespace ember::optim {
namespace {

constexpr int64_t kGrain = 1 << 14;

// Every tensor the update touches: defined ones must be on param's device (the CPU, or one
// CUDA device: a generated kernel, kernels/CudaSource.h, with the same formulas as the loops
// below), contiguous, of param's dtype and numel, and must not be traced.
void check(const char* op, const Tensor& param, std::initializer_list<const Tensor*> others) {
  EMBER_CHECK(param.defined() && !param.is_symbolic(), Value, op,
              "the fused update needs a concrete parameter");
  EMBER_CHECK(param.dtype() == DType::Float32 || param.dtype() == DType::Float64, Type, op,
              "the fused update supports float32 and float64 parameters, got ",
              dtype_name(param.dtype()));
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    EMBER_CHECK(!t->is_symbolic() && t->device() == param.device() && t->is_contiguous() &&
                    t->dtype() == param.dtype() && t->numel() == param.numel(),
                Value, op, "every state tensor must be a contiguous ", param.device().str(), " ",
                dtype_name(param.dtype()), " tensor of ", param.numel(),
                " elements, like the parameter");
  }
  EMBER_CHECK(param.is_contiguous(), Value, op, "the parameter must be contiguous");
}

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Runs body<T>(begin, end) over the parameter's elements for its dtype.
template <typename F>
void run(const Tensor& param, F&& body) {
  const int64_t n = param.numel();
  if (param.dtype() == DType::Float32)
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) { body(float(), b, e); });
  else
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) { body(double(), b, e); });
}

} // namespace

void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
               double momentum, double dampening, double weight_decay, bool nesterov,
               bool maximize, bool first) {
  check("ember.optim.SGD", param, {&grad, &buf});
  EMBER_CHECK(momentum == 0 || buf.defined(), Value, "ember.optim.SGD",
              "momentum needs a momentum buffer");
  if (param.is_cuda()) {
    const double h[8] = {lr, momentum, 1 - dampening, weight_decay};
    detail::cuda_optimizer_step("sgd", param, grad, buf, Tensor(), Tensor(), h,
                                maximize | (weight_decay != 0) << 1 | (momentum != 0) << 2 |
                                    nesterov << 3 | first << 4);
    return;
  }
  run(param, [&](auto zero, int64_t begin, int64_t end) {
    using T = decltype(zero);
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* m = ptr<T>(buf);
    const T wd = T(weight_decay), mom = T(momentum), damp = T(1 - dampening), rate = T(lr);
    for (int64_t i = begin; i < end; ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) d = d + wd * p[i];
      if (momentum != 0) {
        m[i] = first ? d : m[i] * mom + damp * d;
        d = nesterov ? d + mom * m[i] : m[i];
      }
      p[i] = p[i] - rate * d;
    }
  });
}

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled_weight_decay,
                bool amsgrad, bool maximize, int64_t step) {
  check("ember.optim.Adam", param, {&grad, &exp_avg, &exp_avg_sq, &max_exp_avg_sq});
  EMBER_CHECK(exp_avg.defined() && exp_avg_sq.defined() && (!amsgrad || max_exp_avg_sq.defined()),
              Value, "ember.optim.Adam", "missing state tensors");
  const double bc1 = 1 - std::pow(beta1, double(step));
  const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, double(step)));
  const double step_size = lr / bc1;
  if (param.is_cuda()) {
    const double h[8] = {weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2, eps,
                         bc2_sqrt, step_size};
    detail::cuda_optimizer_step("adam", param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h,
                                maximize | (weight_decay != 0) << 1 | decoupled_weight_decay << 2 |
                                    amsgrad << 3);
    return;
  }
  run(param, [&](auto zero, int64_t begin, int64_t end) {
    using T = decltype(zero);
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T *m = ptr<T>(exp_avg), *v = ptr<T>(exp_avg_sq), *vmax = ptr<T>(max_exp_avg_sq);
    const T wd = T(weight_decay), decay = T(1 - lr * weight_decay), b1 = T(1 - beta1),
            b2 = T(beta2), nb2 = T(1 - beta2), e = T(eps), bc = T(bc2_sqrt), ss = T(step_size);
    for (int64_t i = begin; i < end; ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) {
        if (decoupled_weight_decay) p[i] = p[i] * decay;
        else d = d + wd * p[i];
      }
      m[i] = m[i] + b1 * (d - m[i]);
      v[i] = v[i] * b2 + nb2 * d * d;
      T second = v[i];
      if (amsgrad) second = vmax[i] = std::max(vmax[i], v[i]);
      const T denom = std::sqrt(second) / bc + e;
      p[i] = p[i] - ss * (m[i] / denom);
    }
  });
}

void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& grad_avg, const Tensor& momentum_buffer, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  check("ember.optim.RMSprop", param, {&grad, &square_avg, &grad_avg, &momentum_buffer});
  EMBER_CHECK(square_avg.defined() && (!centered || grad_avg.defined()) &&
                  (momentum == 0 || momentum_buffer.defined()),
              Value, "ember.optim.RMSprop", "missing state tensors");
  if (param.is_cuda()) {
    const double h[8] = {lr, alpha, 1 - alpha, eps, weight_decay, momentum};
    detail::cuda_optimizer_step("rmsprop", param, grad, square_avg, grad_avg, momentum_buffer, h,
                                maximize | (weight_decay != 0) << 1 | centered << 2 |
                                    (momentum > 0) << 3);
    return;
  }
  run(param, [&](auto zero, int64_t begin, int64_t end) {
    using T = decltype(zero);
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T *sq = ptr<T>(square_avg), *ga = ptr<T>(grad_avg), *buf = ptr<T>(momentum_buffer);
    const T wd = T(weight_decay), a = T(alpha), na = T(1 - alpha), e = T(eps), rate = T(lr),
            mom = T(momentum);
    for (int64_t i = begin; i < end; ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) d = d + wd * p[i];
      sq[i] = sq[i] * a + na * d * d;
      T avg;
      if (centered) {
        ga[i] = ga[i] + na * (d - ga[i]);
        avg = std::sqrt(sq[i] - ga[i] * ga[i]) + e;
      } else {
        avg = std::sqrt(sq[i]) + e;
      }
      if (momentum > 0) {
        buf[i] = buf[i] * mom + d / avg;
        p[i] = p[i] - rate * buf[i];
      } else {
        p[i] = p[i] - rate * (d / avg);
      }
    }
  });
}

void adagrad_step_(const Tensor& param, const Tensor& grad, const Tensor& sum, double clr,
                   double weight_decay, double eps, bool maximize) {
  check("ember.optim.Adagrad", param, {&grad, &sum});
  EMBER_CHECK(sum.defined(), Value, "ember.optim.Adagrad", "missing state tensors");
  if (param.is_cuda()) {
    const double h[8] = {clr, weight_decay, eps};
    detail::cuda_optimizer_step("adagrad", param, grad, sum, Tensor(), Tensor(), h,
                                maximize | (weight_decay != 0) << 1);
    return;
  }
  run(param, [&](auto zero, int64_t begin, int64_t end) {
    using T = decltype(zero);
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* s = ptr<T>(sum);
    const T wd = T(weight_decay), e = T(eps), rate = T(clr);
    for (int64_t i = begin; i < end; ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) d = d + wd * p[i];
      s[i] = s[i] + d * d;
      p[i] = p[i] - rate * (d / (std::sqrt(s[i]) + e));
    }
  });
}

} // namespace ember::optim
