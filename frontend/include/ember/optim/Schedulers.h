// Learning-rate schedulers with PyTorch's names, defaults and formulas (its recursive get_lr
// forms, so they match torch.optim.lr_scheduler step by step). Each sets the "lr" of every
// parameter group of its optimizer (each from its own base rate) at construction (epoch 0) and
// at every step(); call step() after the optimizer's step.
#pragma once

#include "ember/optim/Optimizers.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ember::optim {

class LRScheduler {
public:
  virtual ~LRScheduler() = default;
  void step();
  // Every group's rate after the last step.
  const std::vector<double>& get_last_lr() const { return last_lrs_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // The scheduler's progress: "last_epoch" and "_step_count" (int64), "base_lrs" and
  // "_last_lr" (float64, one per group). To resume as PyTorch does: build the optimizer and the
  // scheduler, then load the optimizer's state (the constructor's step sets the rates), then
  // the scheduler's. A state for another number of groups is an ember::Error.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

protected:
  explicit LRScheduler(Optimizer& opt);
  // One group's rate for last_epoch_, from its current rate and its base rate (PyTorch's
  // get_lr, per group); group is its index.
  virtual double get_lr(size_t group, double lr, double base_lr) = 0;
  // The constructor's step (derived constructors call it once their fields are set).
  void initial_step() { step(); }
  Optimizer& opt_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1, step_count_ = 0;

private:
  std::vector<double> last_lrs_;
};

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  int64_t step_size_;
  double gamma_;
};

// lr *= gamma at each milestone (a milestone listed twice counts twice).
class MultiStepLR : public LRScheduler {
public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr *= gamma every epoch.
class ExponentialLR : public LRScheduler {
public:
  ExponentialLR(Optimizer& opt, double gamma);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  double gamma_;
};

// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, recursively.
class CosineAnnealingLR : public LRScheduler {
public:
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  int64_t t_max_;
  double eta_min_;
};

// The factor on base_lr goes linearly from start_factor to end_factor over total_iters.
class LinearLR : public LRScheduler {
public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  double start_, end_;
  int64_t total_;
};

// lr = base_lr * lr_lambda(epoch).
class LambdaLR : public LRScheduler {
public:
  LambdaLR(Optimizer& opt, std::function<double(int64_t)> lr_lambda);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;
  std::function<double(int64_t)> lambda_;
};

// The 1cycle policy: lr warms from max_lr/div_factor to max_lr over pct_start of total_steps,
// then anneals ("cos" or "linear") to that / final_div_factor; with cycle_momentum the
// optimizer's momentum (Adam: beta1) goes the other way between max_momentum and base_momentum.
// Every group follows the same schedule.
// Step it after every batch; stepping past total_steps is an ember::Error.
class OneCycleLR : public LRScheduler {
public:
  OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start = 0.3,
             const std::string& anneal_strategy = "cos", bool cycle_momentum = true,
             double base_momentum = 0.85, double max_momentum = 0.95, double div_factor = 25.0,
             double final_div_factor = 1e4, bool three_phase = false);

protected:
  double get_lr(size_t group, double lr, double base_lr) override;

private:
  struct Phase {
    double end_step;
    int start_lr, end_lr, start_momentum, end_momentum; // indices into values_
  };
  double anneal(double start, double end, double pct) const;
  int64_t total_steps_;
  bool cos_, cycle_momentum_;
  std::vector<Phase> phases_;
  double values_[5]; // initial_lr, max_lr, min_lr, base_momentum, max_momentum
};

// lr *= factor when the metric passed to step(metric) has not improved for patience epochs
// (mode "min" or "max", threshold_mode "rel" or "abs"), then waits cooldown epochs. Every
// group's rate is reduced (not below min_lr).
class ReduceLROnPlateau {
public:
  ReduceLROnPlateau(Optimizer& opt, const std::string& mode = "min", double factor = 0.1,
                    int64_t patience = 10, double threshold = 1e-4,
                    const std::string& threshold_mode = "rel", int64_t cooldown = 0,
                    double min_lr = 0, double eps = 1e-8);
  void step(double metric);
  std::vector<double> get_last_lr() const;
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  double best() const { return best_; }
  // "best" (float64), "num_bad_epochs", "cooldown_counter", "last_epoch" (int64).
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

private:
  bool is_better(double a) const;
  Optimizer& opt_;
  bool min_mode_, rel_;
  double factor_, threshold_, min_lr_, eps_, best_;
  int64_t patience_, cooldown_, cooldown_counter_ = 0, num_bad_epochs_ = 0, last_epoch_ = 0;
};

} // namespace ember::optim
