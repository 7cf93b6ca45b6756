// ember::nn for C++ users: modules that own parameters and submodules (PyTorch's nn.Module in
// miniature), the common layers, SGD, Adam/AdamW, StepLR, and a Fashion-MNIST/MNIST reader with
// a batch iterator.
// The layers call ember::nn::functional, so they share its kernels and gradients.
#pragma once

#include "ember/Tensor.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ember::nn {

class Module {
public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Every parameter, this module's first, then its submodules' in registration order.
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "") const;
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops every parameter's .grad (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

private:
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// y = x W^T + b, PyTorch's default initialisation (kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(fan_in), ..)).
class Linear : public Module {
public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

class Conv2d : public Module {
public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t stride, padding;
};

class ReLU : public Module {
public:
  Tensor forward(const Tensor& x) override;
};

class MaxPool2d : public Module {
public:
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0);
  Tensor forward(const Tensor& x) override;
  int64_t kernel_size, stride;
};

// Flattens every dimension after the first.
class Flatten : public Module {
public:
  Tensor forward(const Tensor& x) override;
};

class Sequential : public Module {
public:
  Sequential() = default;
  // Appends a module (named "0", "1", ...) and returns *this.
  Sequential& add(std::shared_ptr<Module> m);
  Tensor forward(const Tensor& x) override;

private:
  std::vector<std::shared_ptr<Module>> layers_;
};

} // namespace ember::nn

namespace ember::optim {

// PyTorch's SGD (momentum, dampening, nesterov, weight_decay), one fused pass per parameter.
class SGD {
public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0, double dampening = 0,
      double weight_decay = 0, bool nesterov = false);
  void step();
  void zero_grad();
  double lr;

private:
  std::vector<Tensor> params_, buffers_;
  double momentum_, dampening_, weight_decay_;
  bool nesterov_;
};

// PyTorch's Adam (L2 weight decay, amsgrad), one fused pass per parameter; state (the moment
// estimates and the step count) is created at a parameter's first step.
class Adam {
public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0, bool amsgrad = false);
  void step();
  void zero_grad();
  int64_t steps_taken(size_t param) const { return state_.at(param).step; }
  double lr;

protected:
  bool decoupled_ = false; // AdamW: decay the parameter, not the gradient

private:
  struct State {
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<Tensor> params_;
  std::vector<State> state_;
  double beta1_, beta2_, eps_, weight_decay_;
  bool amsgrad_;
};

// PyTorch's AdamW: Adam with decoupled weight decay (default 1e-2).
class AdamW : public Adam {
public:
  AdamW(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false);
};

// PyTorch's StepLR for any optimizer with a public `lr`: multiplies it by gamma every
// step_size calls of step() (call it once per epoch, after the optimizer's steps).
template <typename Optimizer>
class StepLR {
public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1)
      : opt_(opt), base_(opt.lr), step_size_(step_size), gamma_(gamma) {
    EMBER_CHECK(step_size > 0, Value, "ember::optim::StepLR", "step_size must be positive, got ",
                step_size);
  }
  void step() {
    ++epoch_;
    opt_.lr = base_ * std::pow(gamma_, double(epoch_ / step_size_));
  }
  double get_last_lr() const { return opt_.lr; }

private:
  Optimizer& opt_;
  double base_;
  int64_t step_size_, epoch_ = 0;
  double gamma_;
};

} // namespace ember::optim

namespace ember::data {

// An IDX image/label set (MNIST's format, gzipped or not): images as float32 [N, 1, 28, 28]
// normalised with (x / 255 - mean) / std, labels int64 [N]. A missing file is an ember::Error
// naming it.
struct ImageSet {
  Tensor images, labels;
  int64_t size() const { return labels.numel(); }
};
// `split` is "train" or "t10k"; dir defaults to Debian's dataset-fashion-mnist location.
ImageSet load_fashion_mnist(const std::string& split,
                            const std::string& dir = "/usr/share/datasets/fashion-mnist",
                            double mean = 0.2860, double std = 0.3530);

// Batches of an ImageSet in a (seeded, ember::manual_seed) random order when shuffle is set.
class BatchIterator {
public:
  BatchIterator(const ImageSet& set, int64_t batch_size, bool shuffle, bool drop_last = true);
  // The next (images, labels) batch; false after the last one.
  bool next(Tensor& images, Tensor& labels);

private:
  const ImageSet& set_;
  int64_t batch_, at_ = 0;
  bool drop_last_;
  Tensor order_;
};

} // namespace ember::data
