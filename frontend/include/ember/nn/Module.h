// ember::nn for C++ users: modules that own parameters, buffers and submodules (PyTorch's
// nn.Module: named_parameters/named_buffers/named_modules, train/eval, state_dict and
// load_state_dict) and the first layers (Linear, Conv2d, ReLU, MaxPool2d, Flatten, Sequential).
// More layers and the losses: ember/nn/Layers.h (recurrent layers: ember/nn/Recurrent.h;
// attention and the transformer encoder: ember/nn/Transformer.h); initialisers: ember/nn/Init.h;
// gradient clipping: ember/nn/Utils.h; optimizers and schedulers: ember/optim/;
// datasets and the DataLoader: ember/data/; ember::save / ember::load: ember/Serialization.h.
// The layers call ember::nn::functional, so they share its kernels and gradients.
#pragma once

#include "ember/StateDict.h"
#include "ember/Tensor.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ember::nn {

// t keeps its identity and autograd state but takes src's memory, shape and dtype (PyTorch's
// t.data = src; Module::to and Tensor.data in Python use it).
void set_data(const Tensor& t, const Tensor& src);

class Module {
public:
  virtual ~Module() = default;
  // The one-input forward; modules without one (ModuleList, losses) raise ember::Error.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }
  // The class name without namespaces ("Linear"), for messages.
  std::string name() const;

  // Every parameter (buffer), this module's first, then its submodules' in registration order;
  // the names are dotted paths ("0.weight"). recurse = false: this module's own only.
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "",
                                                               bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(const std::string& prefix = "",
                                                            bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module (named prefix, "" by default) and every descendant, depth first.
  std::vector<std::pair<std::string, Module*>> named_modules(const std::string& prefix = "");

  // Sets training mode here and in every submodule (Dropout, BatchNorm read it).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // PyTorch's zero_grad: drops every parameter's .grad, or zeroes it in place when
  // set_to_none is false.
  void zero_grad(bool set_to_none = true);

  // Moves every parameter, buffer and gradient to `device`, or converts the floating ones to
  // `dtype` (integer buffers such as num_batches_tracked keep theirs), in place: they stay the
  // same tensors, so layers' fields and optimizers built before see the change.
  Module& to(Device device);
  Module& to(DType dtype);

  // Parameters and buffers by dotted name, sharing memory with the module (detached).
  StateDict state_dict() const;
  struct LoadResult {
    std::vector<std::string> missing_keys, unexpected_keys;
  };
  // Copies each entry into the matching parameter or buffer (in place, converting the dtype).
  // A shape mismatch is always an ember::Error; with strict, so are missing and unexpected keys
  // (one error lists them all, as PyTorch's does). Returns the keys that did not match.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);

protected:
  // An undefined tensor registers nothing (PyTorch's register_parameter(name, None)).
  Tensor& register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    EMBER_CHECK(m != nullptr, Value, "ember::nn::Module::register_module", "module '", name,
                "' is null");
    for (auto& child : children_) // a name registered again is replaced in place (PyTorch)
      if (child.first == name) {
        child.second = m;
        return m;
      }
    children_.emplace_back(name, m);
    return m;
  }

private:
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
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

// PyTorch's argument order (a bool in dilation's place is refused: dilation must be >= 1).
class Conv2d : public Module {
public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t stride, padding, dilation, groups;
};

class ReLU : public Module {
public:
  Tensor forward(const Tensor& x) override;
};

// stride 0 means stride = kernel_size (PyTorch's None); padding is -inf padding.
class MaxPool2d : public Module {
public:
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0,
                     int64_t dilation = 1, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override;
  // The output and the flat index of each maximum within its input plane (return_indices).
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x);
  int64_t kernel_size, stride, padding, dilation;
  bool ceil_mode;
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
  size_t size() const { return layers_.size(); }
  // The i-th layer (negative counts from the end); ember::Error (Index) out of range.
  std::shared_ptr<Module> operator[](int64_t i) const;

private:
  std::vector<std::shared_ptr<Module>> layers_;
};

} // namespace ember::nn

// The C++ API that used to live in this header.
#include "ember/data/Data.h"
#include "ember/nn/Init.h"
#include "ember/nn/Layers.h"
#include "ember/nn/Utils.h"
#include "ember/optim/Optimizers.h"
#include "ember/optim/Schedulers.h"
