// The learning-rate schedulers (ember/optim/Schedulers.h): ports of PyTorch's recursive forms,
// as in frontend/python/ember/optim/lr_scheduler.py.
#include "ember/optim/Schedulers.h"

#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ember::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt) {
  for (const ParamGroup& g : opt.param_groups()) base_lrs_.push_back(g.lr());
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  std::vector<ParamGroup>& groups = opt_.param_groups();
  EMBER_CHECK(groups.size() == base_lrs_.size(), Value, "ember::optim::LRScheduler",
              "the optimizer has ", groups.size(), " parameter groups, the scheduler was made for ",
              base_lrs_.size(), " (make the scheduler after add_param_group)");
  last_lrs_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    groups[g].lr() = get_lr(g, groups[g].lr(), base_lrs_[g]);
    last_lrs_.push_back(groups[g].lr());
  }
}

namespace {
const Tensor& entry(const StateDict& sd, const std::string& key, const char* op) {
  const Tensor* t = sd.find(key);
  EMBER_CHECK(t != nullptr, Value, op, "missing key ", key, " (the state dict has: ",
              [&] {
                std::string s;
                for (const auto& k : sd.keys()) s += (s.empty() ? "" : ", ") + k;
                return s;
              }(),
              ")");
  return *t;
}
int64_t entry_int(const StateDict& sd, const std::string& key, const char* op) {
  const Tensor& t = entry(sd, key, op);
  EMBER_CHECK(t.numel() == 1, Value, op, key, " must hold one number, got shape ",
              shape_str(t.shape()));
  return int64_t(std::llround(t.item()));
}
Tensor vec(const std::vector<double>& v) {
  Tensor t = zeros({int64_t(v.size())}, DType::Float64);
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}
} // namespace

StateDict LRScheduler::state_dict() const {
  return StateDict{{"last_epoch", full({}, double(last_epoch_), DType::Int64)},
                   {"_step_count", full({}, double(step_count_), DType::Int64)},
                   {"base_lrs", vec(base_lrs_)},
                   {"_last_lr", vec(last_lrs_)}};
}

void LRScheduler::load_state_dict(const StateDict& sd) {
  const char* op = "ember::optim::LRScheduler::load_state_dict";
  const int64_t epoch = entry_int(sd, "last_epoch", op), count = entry_int(sd, "_step_count", op);
  std::vector<std::vector<double>> lists;
  for (const char* key : {"base_lrs", "_last_lr"}) {
    Tensor t = entry(sd, key, op).to(DType::Float64).contiguous();
    EMBER_CHECK(t.dim() == 1 && t.numel() == int64_t(base_lrs_.size()), Value, op, key,
                " has shape ", shape_str(t.shape()), ", the optimizer has ", base_lrs_.size(),
                " parameter groups");
    lists.emplace_back(t.data<double>(), t.data<double>() + t.numel());
  }
  for (const auto& k : sd.keys())
    EMBER_CHECK(k == "last_epoch" || k == "_step_count" || k == "base_lrs" || k == "_last_lr",
                Value, op, "unexpected key '", k, "'");
  last_epoch_ = epoch;
  step_count_ = count;
  base_lrs_ = lists[0];
  last_lrs_ = lists[1];
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  EMBER_CHECK(step_size > 0, Value, "ember::optim::StepLR", "step_size must be positive, got ",
              step_size);
  initial_step();
}
double StepLR::get_lr(size_t, double lr, double) {
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lr;
  return lr * gamma_;
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  initial_step();
}
double MultiStepLR::get_lr(size_t, double lr, double) {
  const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  return hits == 0 ? lr : lr * std::pow(gamma_, double(hits));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : LRScheduler(opt), gamma_(gamma) {
  initial_step();
}
double ExponentialLR::get_lr(size_t, double lr, double) { return last_epoch_ == 0 ? lr : lr * gamma_; }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min)
    : LRScheduler(opt), t_max_(T_max), eta_min_(eta_min) {
  EMBER_CHECK(T_max > 0, Value, "ember::optim::CosineAnnealingLR", "T_max must be positive, got ",
              T_max);
  initial_step();
}
double CosineAnnealingLR::get_lr(size_t, double lr, double base_lr) {
  const double e = double(last_epoch_), T = double(t_max_);
  if (last_epoch_ == 0) return lr;
  if ((last_epoch_ - 1 - t_max_) % (2 * t_max_) == 0)
    return lr + (base_lr - eta_min_) * (1 - std::cos(M_PI / T)) / 2;
  return (1 + std::cos(M_PI * e / T)) / (1 + std::cos(M_PI * (e - 1) / T)) * (lr - eta_min_) +
         eta_min_;
}

LinearLR::LinearLR(Optimizer& opt, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(opt), start_(start_factor), end_(end_factor), total_(total_iters) {
  const char* op = "ember::optim::LinearLR";
  EMBER_CHECK(start_factor > 0 && start_factor <= 1, Value, op,
              "Starting multiplicative factor expected to be greater than 0 and less or equal "
              "to 1, got ", start_factor);
  EMBER_CHECK(end_factor >= 0 && end_factor <= 1, Value, op,
              "Ending multiplicative factor expected to be between 0 and 1, got ", end_factor);
  EMBER_CHECK(total_iters > 0, Value, op, "total_iters must be positive, got ", total_iters);
  initial_step();
}
double LinearLR::get_lr(size_t, double lr, double) {
  if (last_epoch_ == 0) return lr * start_;
  if (last_epoch_ > total_) return lr;
  const double d = end_ - start_;
  return lr * (1.0 + d / (double(total_) * start_ + double(last_epoch_ - 1) * d));
}

LambdaLR::LambdaLR(Optimizer& opt, std::function<double(int64_t)> lr_lambda)
    : LRScheduler(opt), lambda_(std::move(lr_lambda)) {
  EMBER_CHECK(bool(lambda_), Value, "ember::optim::LambdaLR", "lr_lambda is empty");
  initial_step();
}
double LambdaLR::get_lr(size_t, double, double base_lr) { return base_lr * lambda_(last_epoch_); }

OneCycleLR::OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start,
                       const std::string& anneal_strategy, bool cycle_momentum,
                       double base_momentum, double max_momentum, double div_factor,
                       double final_div_factor, bool three_phase)
    : LRScheduler(opt), total_steps_(total_steps), cos_(anneal_strategy == "cos"),
      cycle_momentum_(cycle_momentum) {
  const char* op = "ember::optim::OneCycleLR";
  EMBER_CHECK(total_steps > 0, Value, op, "Expected positive integer total_steps, but got ",
              total_steps);
  EMBER_CHECK(pct_start >= 0 && pct_start <= 1, Value, op,
              "Expected float between 0 and 1 pct_start, but got ", pct_start);
  EMBER_CHECK(anneal_strategy == "cos" || anneal_strategy == "linear", Value, op,
              "anneal_strategy must be one of 'cos' or 'linear', instead got ", anneal_strategy);
  EMBER_CHECK(!cycle_momentum || opt.momentum_option() != nullptr, Value, op,
              "optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
  enum { Initial, Max, Min, BaseMom, MaxMom };
  const double n = double(total_steps);
  if (three_phase)
    phases_ = {{pct_start * n - 1, Initial, Max, MaxMom, BaseMom},
               {2 * pct_start * n - 2, Max, Initial, BaseMom, MaxMom},
               {n - 1, Initial, Min, MaxMom, MaxMom}};
  else
    phases_ = {{pct_start * n - 1, Initial, Max, MaxMom, BaseMom},
               {n - 1, Max, Min, BaseMom, MaxMom}};
  values_[Initial] = max_lr / div_factor;
  values_[Max] = max_lr;
  values_[Min] = values_[Initial] / final_div_factor;
  values_[BaseMom] = base_momentum;
  values_[MaxMom] = max_momentum;
  if (cycle_momentum)
    for (ParamGroup& g : opt.param_groups()) g.options.at(opt.momentum_option()) = max_momentum;
  for (double& b : base_lrs_) b = values_[Initial];
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (cos_) return end + (start - end) / 2.0 * (std::cos(M_PI * pct) + 1);
  return (end - start) * pct + start;
}

double OneCycleLR::get_lr(size_t group, double, double) {
  const int64_t step = last_epoch_;
  EMBER_CHECK(step <= total_steps_, Value, "ember::optim::OneCycleLR", "Tried to step ", step,
              " times. The specified number of total steps is ", total_steps_);
  double start = 0, lr = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (double(step) <= ph.end_step || i + 1 == phases_.size()) {
      const double pct = (double(step) - start) / (ph.end_step - start);
      lr = anneal(values_[ph.start_lr], values_[ph.end_lr], pct);
      if (cycle_momentum_)
        opt_.param_groups()[group].options.at(opt_.momentum_option()) =
            anneal(values_[ph.start_momentum], values_[ph.end_momentum], pct);
      break;
    }
    start = ph.end_step;
  }
  return lr;
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, const std::string& mode, double factor,
                                     int64_t patience, double threshold,
                                     const std::string& threshold_mode, int64_t cooldown,
                                     double min_lr, double eps)
    : opt_(opt), min_mode_(mode == "min"), rel_(threshold_mode == "rel"), factor_(factor),
      threshold_(threshold), min_lr_(min_lr), eps_(eps), patience_(patience),
      cooldown_(cooldown) {
  const char* op = "ember::optim::ReduceLROnPlateau";
  EMBER_CHECK(factor < 1.0, Value, op, "Factor should be < 1.0, got ", factor);
  EMBER_CHECK(mode == "min" || mode == "max", Value, op, "mode ", mode,
              " is unknown! (use \"min\" or \"max\")");
  EMBER_CHECK(threshold_mode == "rel" || threshold_mode == "abs", Value, op, "threshold mode ",
              threshold_mode, " is unknown! (use \"rel\" or \"abs\")");
  best_ = min_mode_ ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
}

std::vector<double> ReduceLROnPlateau::get_last_lr() const {
  std::vector<double> out;
  for (const ParamGroup& g : opt_.param_groups()) out.push_back(g.lr());
  return out;
}

StateDict ReduceLROnPlateau::state_dict() const {
  return StateDict{{"best", full({}, best_, DType::Float64)},
                   {"num_bad_epochs", full({}, double(num_bad_epochs_), DType::Int64)},
                   {"cooldown_counter", full({}, double(cooldown_counter_), DType::Int64)},
                   {"last_epoch", full({}, double(last_epoch_), DType::Int64)}};
}

void ReduceLROnPlateau::load_state_dict(const StateDict& sd) {
  const char* op = "ember::optim::ReduceLROnPlateau::load_state_dict";
  const Tensor& best = entry(sd, "best", op);
  EMBER_CHECK(best.numel() == 1, Value, op, "best must hold one number, got shape ",
              shape_str(best.shape()));
  const int64_t bad = entry_int(sd, "num_bad_epochs", op),
                cooldown = entry_int(sd, "cooldown_counter", op),
                epoch = entry_int(sd, "last_epoch", op);
  for (const auto& k : sd.keys())
    EMBER_CHECK(k == "best" || k == "num_bad_epochs" || k == "cooldown_counter" ||
                    k == "last_epoch",
                Value, op, "unexpected key '", k, "'");
  best_ = best.item();
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown;
  last_epoch_ = epoch;
}

bool ReduceLROnPlateau::is_better(double a) const {
  if (min_mode_ && rel_) return a < best_ * (1.0 - threshold_);
  if (min_mode_) return a < best_ - threshold_;
  if (rel_) return a > best_ * (threshold_ + 1.0);
  return a > best_ + threshold_;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > patience_) {
    for (ParamGroup& g : opt_.param_groups()) {
      const double old = g.lr(), next = std::max(old * factor_, min_lr_);
      if (old - next > eps_) g.lr() = next;
    }
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
}

} // namespace ember::optim
