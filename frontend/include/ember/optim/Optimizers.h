// ember::optim for C++ users: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's arguments,
// defaults and update math (its single-tensor algorithms). Each parameter's update is one
// fused pass over its memory (ember/Optim.h, the kernels ember.optim calls from Python): CPU
// float32/float64 parameters. State is created at a parameter's first step; parameters without
// a gradient are skipped.
//
// Parameters come in groups, as in PyTorch: each ParamGroup holds its parameters and its
// hyperparameters (Options, by PyTorch's names; an option a group does not set takes the
// optimizer's default, i.e. its constructor argument). Schedulers and users change them between
// steps through param_groups(). state_dict() / load_state_dict() save and restore the groups'
// hyperparameters and every parameter's state (a flat StateDict that ember::save writes).
#pragma once

#include "ember/StateDict.h"
#include "ember/Tensor.h"

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace ember::optim {

// A parameter group's hyperparameters by name, in insertion order: "lr", "momentum",
// "weight_decay", ...; flags (nesterov, amsgrad, maximize, centered) are 0 or 1 and Adam's
// betas are "beta1" and "beta2".
class Options {
public:
  Options() = default;
  Options(std::initializer_list<std::pair<std::string, double>> items);
  // Adds key or replaces its value.
  Options& set(const std::string& key, double value);
  bool contains(const std::string& key) const;
  // The value of key; ember::Error (Index) naming the key and the ones present when absent.
  double at(const std::string& key) const;
  double& at(const std::string& key);
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }

private:
  std::vector<std::pair<std::string, double>> items_;
};

struct ParamGroup {
  ParamGroup(std::vector<Tensor> params_, Options options_ = {})
      : params(std::move(params_)), options(std::move(options_)) {}
  std::vector<Tensor> params;
  Options options;
  double& lr() { return options.at("lr"); }
  double lr() const { return options.at("lr"); }
};

class Optimizer {
public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  // Drops every parameter's .grad, or zeroes it in place when set_to_none is false.
  void zero_grad(bool set_to_none = true);
  // Appends a group; the options it leaves out take the optimizer's defaults. An unknown
  // option, an invalid value, or a parameter already in a group is an ember::Error.
  void add_param_group(ParamGroup group);
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // The constructor's hyperparameters (what groups fall back on).
  const Options& defaults() const { return defaults_; }
  // Every parameter, in group order (the numbering state_dict uses).
  std::vector<Tensor> parameters() const;
  // The option OneCycleLR cycles ("momentum"; Adam: "beta1"), or nullptr if none.
  virtual const char* momentum_option() const { return nullptr; }

  // PyTorch's {"state": {i: {...}}, "param_groups": [{..., "params": [i...]}]} flattened to
  // dotted keys: "state.<i>.<name>" (the state tensors; "step" as a 0-d float32 tensor, as
  // torch stores it), "param_groups.<g>.<option>" (0-d float64) and "param_groups.<g>.params"
  // (int64 parameter numbers). The tensors are copies.
  StateDict state_dict() const;
  // Restores what state_dict() saved, for the same parameters in the same groups: hyperparameters
  // and state (copied onto each parameter's device and dtype). A missing, unexpected or
  // mis-shaped entry, or groups that do not match, is an ember::Error naming them; nothing is
  // changed then.
  void load_state_dict(const StateDict& state);

protected:
  Optimizer(Options defaults, const char* op) : defaults_(std::move(defaults)), op_(op) {}
  // The derived constructor's last step: checks the defaults and adds each group (an empty
  // list is an error).
  void init_groups(std::vector<ParamGroup> groups);
  // Checks a group's values (the constructor's checks), naming op_.
  virtual void check_options(const Options& o) const = 0;
  // Called for each parameter (number i) of a group that joins (Adagrad creates its state).
  virtual void init_state(size_t /*i*/, const Tensor& /*p*/, const Options& /*group*/) {}
  // A parameter's state: its tensors by PyTorch's names and the step count (for the optimizers
  // that count steps).
  struct ParamState {
    StateDict tensors;
    int64_t step = 0;
    bool empty() const { return tensors.empty() && step == 0; }
  };
  std::vector<ParamGroup> groups_;
  std::vector<ParamState> state_; // per parameter, numbered in group order
  Options defaults_;
  const char* op_;
  bool counts_steps_ = true; // SGD's state has no "step", as in torch
  std::vector<std::string> state_names_; // the state tensors' names (load_state_dict checks)
};

// Stochastic gradient descent with momentum, dampening, Nesterov momentum, L2 weight decay and
// maximize.
class SGD : public Optimizer {
public:
  SGD(std::vector<Tensor> params, double lr = 1e-3, double momentum = 0, double dampening = 0,
      double weight_decay = 0, bool nesterov = false, bool maximize = false);
  SGD(std::vector<ParamGroup> groups, double lr = 1e-3, double momentum = 0,
      double dampening = 0, double weight_decay = 0, bool nesterov = false,
      bool maximize = false);
  void step() override;
  const char* momentum_option() const override { return "momentum"; }

protected:
  void check_options(const Options& o) const override;
};

// Adam with L2 weight decay, AMSGrad and maximize (AdamW: decoupled weight decay).
class Adam : public Optimizer {
public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false);
  Adam(std::vector<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9,
       double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false,
       bool maximize = false);
  void step() override;
  const char* momentum_option() const override { return "beta1"; }
  // The steps parameter i (in group order) has taken.
  int64_t steps_taken(size_t param) const { return state_.at(param).step; }

protected:
  Adam(std::vector<ParamGroup> groups, Options defaults, const char* op);
  void check_options(const Options& o) const override;
  bool decoupled_ = false; // AdamW: decay the parameter, not the gradient
};

// Adam with decoupled weight decay (default 1e-2): p *= 1 - lr * weight_decay.
class AdamW : public Adam {
public:
  AdamW(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false,
        bool maximize = false);
  AdamW(std::vector<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9,
        double beta2 = 0.999, double eps = 1e-8, double weight_decay = 1e-2,
        bool amsgrad = false, bool maximize = false);
};

// RMSprop with momentum, centering, L2 weight decay and maximize.
class RMSprop : public Optimizer {
public:
  RMSprop(std::vector<Tensor> params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
          double weight_decay = 0, double momentum = 0, bool centered = false,
          bool maximize = false);
  RMSprop(std::vector<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99,
          double eps = 1e-8, double weight_decay = 0, double momentum = 0,
          bool centered = false, bool maximize = false);
  void step() override;
  const char* momentum_option() const override { return "momentum"; }

protected:
  void check_options(const Options& o) const override;
};

// Adagrad with learning-rate decay (lr / (1 + (step - 1) * lr_decay)), L2 weight decay, an
// initial accumulator value and maximize. Its state ("sum", step 0) exists from the start; like
// torch, every group's sum starts at the constructor's initial_accumulator_value.
class Adagrad : public Optimizer {
public:
  Adagrad(std::vector<Tensor> params, double lr = 1e-2, double lr_decay = 0,
          double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10,
          bool maximize = false);
  Adagrad(std::vector<ParamGroup> groups, double lr = 1e-2, double lr_decay = 0,
          double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10,
          bool maximize = false);
  void step() override;

protected:
  void check_options(const Options& o) const override;
  void init_state(size_t i, const Tensor& p, const Options& group) override;
};

} // namespace ember::optim
