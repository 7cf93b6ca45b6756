// C++ ember::optim: the optimizers' bookkeeping (state, checks); the math is the fused kernels
// in frontend/src/Optim.cpp, shared with ember.optim, for CPU float32/float64 contiguous
// parameters, and the same formulas in ember ops elsewhere (CUDA, strided parameters), as
// ember.optim does.
#include "ember/optim/Optimizers.h"

#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Optim.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <initializer_list>
#include <utility>

namespace ember::optim {
namespace {

// Whether the fused update (ember/Optim.h: a CPU loop, or one generated CUDA kernel) can
// update p: concrete float32/float64, p and its state contiguous, everything on p's device, of
// p's dtype and size (the gradient may have any layout).
bool fusable(const Tensor& p, const Tensor& grad, std::initializer_list<const Tensor*> state) {
  if (p.is_symbolic() || !p.is_contiguous()) return false;
  if (p.dtype() != DType::Float32 && p.dtype() != DType::Float64) return false;
  if (grad.is_symbolic() || grad.device() != p.device() || grad.dtype() != p.dtype() ||
      grad.numel() != p.numel())
    return false;
  for (const Tensor* t : state)
    if (t->defined() && (t->is_symbolic() || t->device() != p.device() || !t->is_contiguous() ||
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

Options::Options(std::initializer_list<std::pair<std::string, double>> items) {
  for (const auto& [k, v] : items) set(k, v);
}

Options& Options::set(const std::string& key, double value) {
  for (auto& [k, v] : items_)
    if (k == key) {
      v = value;
      return *this;
    }
  items_.emplace_back(key, value);
  return *this;
}

bool Options::contains(const std::string& key) const {
  for (const auto& kv : items_)
    if (kv.first == key) return true;
  return false;
}

namespace {
std::string option_names(const Options& o) {
  std::string s;
  for (const auto& kv : o.items()) s += (s.empty() ? "" : ", ") + kv.first;
  return s;
}
} // namespace

double Options::at(const std::string& key) const {
  for (const auto& kv : items_)
    if (kv.first == key) return kv.second;
  fail(ErrorKind::Index, "ember::optim::Options", "no option '", key, "' (options: ",
       option_names(*this), ")");
}

double& Options::at(const std::string& key) {
  for (auto& kv : items_)
    if (kv.first == key) return kv.second;
  fail(ErrorKind::Index, "ember::optim::Options", "no option '", key, "' (options: ",
       option_names(*this), ")");
}

void Optimizer::init_groups(std::vector<ParamGroup> groups) {
  check_options(defaults_);
  EMBER_CHECK(!groups.empty(), Value, op_, "optimizer got an empty parameter list");
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
  for (const auto& kv : group.options.items())
    EMBER_CHECK(defaults_.contains(kv.first), Value, op_, "parameter group ", groups_.size(),
                " sets an unknown option '", kv.first, "' (valid: ", option_names(defaults_),
                ")");
  Options full_options;
  for (const auto& [k, v] : defaults_.items())
    full_options.set(k, group.options.contains(k) ? group.options.at(k) : v);
  check_options(full_options);
  EMBER_CHECK(!group.params.empty(), Value, op_, "parameter group ", groups_.size(),
              " has no parameters");
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    EMBER_CHECK(p.defined(), Value, op_, "parameter ", i, " of group ", groups_.size(),
                " is an undefined tensor");
    EMBER_CHECK(p.is_leaf(), Value, op_, "can't optimize a non-leaf Tensor (parameter ", i,
                " of group ", groups_.size(), ")");
    for (size_t j = 0; j < i; ++j)
      EMBER_CHECK(group.params[j].unsafe_impl() != p.unsafe_impl(), Value, op_,
                  "optimizer contains a parameter group with duplicate parameters (", j,
                  " and ", i, " of group ", groups_.size(), ")");
    for (size_t g = 0; g < groups_.size(); ++g)
      for (const Tensor& q : groups_[g].params)
        EMBER_CHECK(q.unsafe_impl() != p.unsafe_impl(), Value, op_,
                    "some parameters appear in more than one parameter group (parameter ", i,
                    " of the new group is already in group ", g, ")");
  }
  group.options = std::move(full_options);
  const size_t first = state_.size();
  state_.resize(first + group.params.size());
  groups_.push_back(std::move(group));
  const ParamGroup& g = groups_.back();
  for (size_t i = 0; i < g.params.size(); ++i) init_state(first + i, g.params[i], g.options);
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const ParamGroup& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

void Optimizer::zero_grad(bool set_to_none) {
  GradModeGuard no_grad(false);
  for (ParamGroup& group : groups_)
    for (Tensor& p : group.params) {
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

StateDict Optimizer::state_dict() const {
  GradModeGuard no_grad(false);
  StateDict out;
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState& st = state_[i];
    if (st.empty()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (counts_steps_) out.insert(prefix + "step", full({}, double(st.step), DType::Float32));
    for (const auto& [name, t] : st.tensors) out.insert(prefix + name, clone(t.detach()));
  }
  size_t first = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    for (const auto& [k, v] : groups_[g].options.items())
      out.insert(prefix + k, full({}, v, DType::Float64));
    const size_t n = groups_[g].params.size();
    Tensor ids = arange(double(first), double(first + n), 1, DType::Int64);
    out.insert(prefix + "params", ids);
    first += n;
  }
  return out;
}

void Optimizer::load_state_dict(const StateDict& sd) {
  const std::string op = std::string(op_) + "::load_state_dict";
  // Check everything first, then change state.
  std::vector<Options> options(groups_.size());
  std::vector<bool> used(sd.size(), false);
  const std::vector<std::string> keys = sd.keys();
  auto mark = [&](const std::string& key) {
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) used[i] = true;
  };
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    const Tensor* ids = sd.find(prefix + "params");
    EMBER_CHECK(ids != nullptr, Value, op, "missing key ", prefix,
                "params: the state dict has fewer parameter groups than the optimizer (",
                groups_.size(), ")");
    EMBER_CHECK(ids->dim() == 1 && ids->numel() == int64_t(groups_[g].params.size()), Value, op,
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group: group ", g, " has ", groups_[g].params.size(),
                " parameters, the state dict's ", prefix, "params has shape ",
                shape_str(ids->shape()));
    mark(prefix + "params");
    for (const auto& [k, v] : defaults_.items()) {
      const Tensor* t = sd.find(prefix + k);
      EMBER_CHECK(t != nullptr && t->numel() == 1, Value, op, "missing key ", prefix, k,
                  " (or not a single number)");
      options[g].set(k, t->item());
      mark(prefix + k);
    }
    check_options(options[g]);
  }
  std::vector<std::pair<size_t, std::string>> entries; // (parameter, state name) per key
  const std::vector<Tensor> params = parameters();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (used[i]) continue;
    const std::string& key = keys[i];
    size_t n = 0, pos = 6;
    const bool is_state = key.compare(0, 6, "state.") == 0;
    while (is_state && pos < key.size() && key[pos] >= '0' && key[pos] <= '9')
      n = n * 10 + size_t(key[pos++] - '0');
    const bool ok = is_state && pos > 6 && pos + 1 < key.size() && key[pos] == '.';
    EMBER_CHECK(ok, Value, op, "unexpected key '", key,
                "' (expected state.<i>.<name> and param_groups.<g>.<option> for ",
                groups_.size(), " groups)");
    EMBER_CHECK(n < params.size(), Value, op, "unexpected key '", key, "': the optimizer has ",
                params.size(), " parameters");
    const std::string name = key.substr(pos + 1);
    const Tensor& t = sd.at(key);
    if (name == "step") {
      EMBER_CHECK(counts_steps_ && t.numel() == 1, Value, op, "unexpected key '", key, "'");
    } else {
      bool known = false;
      std::string valid = counts_steps_ ? "step" : "";
      for (const std::string& s : state_names_) {
        known = known || s == name;
        valid += (valid.empty() ? "" : ", ") + s;
      }
      EMBER_CHECK(known, Value, op, "unexpected key '", key, "' (", op_, " keeps ", valid, ")");
      EMBER_CHECK(t.shape() == params[n].shape(), Value, op, "size mismatch for ", key,
                  ": copying a state of shape ", shape_str(t.shape()),
                  ", the shape of parameter ", n, " is ", shape_str(params[n].shape()));
    }
    entries.emplace_back(n, name);
  }
  // Every state entry of a parameter must come with its step (when steps are counted).
  for (const auto& [n, name] : entries) {
    const std::string step_key = "state." + std::to_string(n) + ".step";
    EMBER_CHECK(!counts_steps_ || sd.contains(step_key), Value, op, "missing key ", step_key);
  }

  GradModeGuard no_grad(false);
  std::vector<ParamState> fresh(params.size());
  for (const auto& [n, name] : entries) {
    const Tensor& t = sd.at("state." + std::to_string(n) + "." + name);
    if (name == "step") {
      fresh[n].step = int64_t(std::llround(t.item()));
      continue;
    }
    const Tensor& p = params[n];
    Tensor v = t.to(p.device());
    if (is_floating(p.dtype()) && is_floating(v.dtype())) v = v.to(p.dtype());
    fresh[n].tensors.insert(name, clone(v));
  }
  state_ = std::move(fresh);
  size_t i = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].options = std::move(options[g]);
    for (size_t k = 0; k < groups_[g].params.size(); ++k, ++i)
      if (state_[i].empty()) init_state(i, groups_[g].params[k], groups_[g].options);
  }
}

namespace {
bool flag(const Options& o, const char* key) { return o.at(key) != 0; }
} // namespace

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, bool maximize)
    : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, lr, momentum, dampening,
          weight_decay, nesterov, maximize) {}

SGD::SGD(std::vector<ParamGroup> groups, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, bool maximize)
    : Optimizer({{"lr", lr}, {"momentum", momentum}, {"dampening", dampening},
                 {"weight_decay", weight_decay}, {"nesterov", double(nesterov)},
                 {"maximize", double(maximize)}},
                "ember::optim::SGD") {
  counts_steps_ = false;
  state_names_ = {"momentum_buffer"};
  init_groups(std::move(groups));
}

void SGD::check_options(const Options& o) const {
  EMBER_CHECK(o.at("lr") >= 0, Value, op_, "Invalid learning rate: ", o.at("lr"));
  EMBER_CHECK(o.at("momentum") >= 0, Value, op_, "Invalid momentum value: ", o.at("momentum"));
  EMBER_CHECK(o.at("weight_decay") >= 0, Value, op_, "Invalid weight_decay value: ",
              o.at("weight_decay"));
  EMBER_CHECK(!flag(o, "nesterov") || (o.at("momentum") > 0 && o.at("dampening") == 0), Value,
              op_, "Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  GradModeGuard no_grad(false);
  size_t i = 0;
  for (ParamGroup& group : groups_) {
    const Options& o = group.options;
    const double lr = o.at("lr"), momentum = o.at("momentum"), dampening = o.at("dampening"),
                 weight_decay = o.at("weight_decay");
    const bool nesterov = flag(o, "nesterov"), maximize = flag(o, "maximize");
    for (size_t k = 0; k < group.params.size(); ++k, ++i) {
      const Tensor& p = group.params[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      StateDict& st = state_[i].tensors;
      const bool first = momentum != 0 && !st.contains("momentum_buffer");
      if (first) st.insert("momentum_buffer", zeros_for(p));
      const Tensor buf = momentum != 0 ? st.at("momentum_buffer") : Tensor();
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
}

namespace {
Options adam_defaults(double lr, double beta1, double beta2, double eps, double weight_decay,
                      bool amsgrad, bool maximize) {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"amsgrad", double(amsgrad)},
          {"maximize", double(maximize)}};
}
} // namespace

Adam::Adam(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps,
           double weight_decay, bool amsgrad, bool maximize)
    : Adam(std::vector<ParamGroup>{ParamGroup(std::move(params))}, lr, beta1, beta2, eps,
           weight_decay, amsgrad, maximize) {}

Adam::Adam(std::vector<ParamGroup> groups, double lr, double beta1, double beta2, double eps,
           double weight_decay, bool amsgrad, bool maximize)
    : Adam(std::move(groups),
           adam_defaults(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize),
           "ember::optim::Adam") {}

Adam::Adam(std::vector<ParamGroup> groups, Options defaults, const char* op)
    : Optimizer(std::move(defaults), op) {
  state_names_ = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  init_groups(std::move(groups));
}

void Adam::check_options(const Options& o) const {
  EMBER_CHECK(o.at("lr") >= 0, Value, op_, "Invalid learning rate: ", o.at("lr"));
  EMBER_CHECK(o.at("eps") >= 0, Value, op_, "Invalid epsilon value: ", o.at("eps"));
  EMBER_CHECK(o.at("beta1") >= 0 && o.at("beta1") < 1, Value, op_,
              "Invalid beta parameter at index 0: ", o.at("beta1"));
  EMBER_CHECK(o.at("beta2") >= 0 && o.at("beta2") < 1, Value, op_,
              "Invalid beta parameter at index 1: ", o.at("beta2"));
  EMBER_CHECK(o.at("weight_decay") >= 0, Value, op_, "Invalid weight_decay value: ",
              o.at("weight_decay"));
}

void Adam::step() {
  GradModeGuard no_grad(false);
  size_t i = 0;
  for (ParamGroup& group : groups_) {
    const Options& o = group.options;
    const double lr = o.at("lr"), beta1 = o.at("beta1"), beta2 = o.at("beta2"),
                 eps = o.at("eps"), weight_decay = o.at("weight_decay");
    const bool amsgrad = flag(o, "amsgrad"), maximize = flag(o, "maximize");
    for (size_t k = 0; k < group.params.size(); ++k, ++i) {
      const Tensor& p = group.params[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      ParamState& ps = state_[i];
      StateDict& st = ps.tensors;
      if (!st.contains("exp_avg")) {
        st.insert("exp_avg", zeros_for(p));
        st.insert("exp_avg_sq", zeros_for(p));
      }
      if (amsgrad && !st.contains("max_exp_avg_sq")) st.insert("max_exp_avg_sq", zeros_for(p));
      ++ps.step;
      const Tensor m = st.at("exp_avg"), v = st.at("exp_avg_sq");
      const Tensor vmax = amsgrad ? st.at("max_exp_avg_sq") : Tensor();
      if (fusable(p, g, {&m, &v, &vmax})) {
        adam_step_(p, g.contiguous(), m, v, vmax, lr, beta1, beta2, eps, weight_decay,
                   decoupled_, amsgrad, maximize, ps.step);
        continue;
      }
      Tensor d = maximize ? neg(g) : g;
      if (weight_decay != 0) {
        if (decoupled_) assign(p, mul(p, s(1 - lr * weight_decay)));
        else d = add(d, mul(p, s(weight_decay)));
      }
      assign(m, add(m, mul(sub(d, m), s(1 - beta1))));
      assign(v, add(mul(v, s(beta2)), mul(mul(d, d), s(1 - beta2))));
      Tensor second = v;
      if (amsgrad) {
        assign(vmax, maximum(vmax, v));
        second = vmax;
      }
      const double bc1 = 1 - std::pow(beta1, double(ps.step));
      const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, double(ps.step)));
      Tensor denom = add(div(sqrt(second), s(bc2_sqrt)), s(eps));
      assign(p, sub(p, mul(div(m, denom), s(lr / bc1))));
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps,
             double weight_decay, bool amsgrad, bool maximize)
    : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params))}, lr, beta1, beta2, eps,
            weight_decay, amsgrad, maximize) {}

AdamW::AdamW(std::vector<ParamGroup> groups, double lr, double beta1, double beta2, double eps,
             double weight_decay, bool amsgrad, bool maximize)
    : Adam(std::move(groups),
           adam_defaults(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize),
           "ember::optim::AdamW") {
  decoupled_ = true;
}

RMSprop::RMSprop(std::vector<Tensor> params, double lr, double alpha, double eps,
                 double weight_decay, double momentum, bool centered, bool maximize)
    : RMSprop(std::vector<ParamGroup>{ParamGroup(std::move(params))}, lr, alpha, eps,
              weight_decay, momentum, centered, maximize) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, double lr, double alpha, double eps,
                 double weight_decay, double momentum, bool centered, bool maximize)
    : Optimizer({{"lr", lr},
                 {"alpha", alpha},
                 {"eps", eps},
                 {"weight_decay", weight_decay},
                 {"momentum", momentum},
                 {"centered", double(centered)},
                 {"maximize", double(maximize)}},
                "ember::optim::RMSprop") {
  state_names_ = {"square_avg", "momentum_buffer", "grad_avg"};
  init_groups(std::move(groups));
}

void RMSprop::check_options(const Options& o) const {
  EMBER_CHECK(o.at("lr") >= 0, Value, op_, "Invalid learning rate: ", o.at("lr"));
  EMBER_CHECK(o.at("eps") >= 0, Value, op_, "Invalid epsilon value: ", o.at("eps"));
  EMBER_CHECK(o.at("momentum") >= 0, Value, op_, "Invalid momentum value: ", o.at("momentum"));
  EMBER_CHECK(o.at("weight_decay") >= 0, Value, op_, "Invalid weight_decay value: ",
              o.at("weight_decay"));
  EMBER_CHECK(o.at("alpha") >= 0, Value, op_, "Invalid alpha value: ", o.at("alpha"));
}

void RMSprop::step() {
  GradModeGuard no_grad(false);
  size_t i = 0;
  for (ParamGroup& group : groups_) {
    const Options& o = group.options;
    const double lr = o.at("lr"), alpha = o.at("alpha"), eps = o.at("eps"),
                 weight_decay = o.at("weight_decay"), momentum = o.at("momentum");
    const bool centered = flag(o, "centered"), maximize = flag(o, "maximize");
    for (size_t k = 0; k < group.params.size(); ++k, ++i) {
      const Tensor& p = group.params[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      ParamState& ps = state_[i];
      StateDict& st = ps.tensors;
      if (!st.contains("square_avg")) st.insert("square_avg", zeros_for(p));
      if (momentum > 0 && !st.contains("momentum_buffer"))
        st.insert("momentum_buffer", zeros_for(p));
      if (centered && !st.contains("grad_avg")) st.insert("grad_avg", zeros_for(p));
      ++ps.step;
      const Tensor sq = st.at("square_avg");
      const Tensor ga = centered ? st.at("grad_avg") : Tensor();
      const Tensor buf = momentum > 0 ? st.at("momentum_buffer") : Tensor();
      if (fusable(p, g, {&sq, &ga, &buf})) {
        rmsprop_step_(p, g.contiguous(), sq, ga, buf, lr, alpha, eps, weight_decay, momentum,
                      centered, maximize);
        continue;
      }
      Tensor d = maximize ? neg(g) : g;
      if (weight_decay != 0) d = add(d, mul(p, s(weight_decay)));
      assign(sq, add(mul(sq, s(alpha)), mul(mul(d, d), s(1 - alpha))));
      Tensor avg;
      if (centered) {
        assign(ga, add(ga, mul(sub(d, ga), s(1 - alpha))));
        avg = add(sqrt(sub(sq, mul(ga, ga))), s(eps));
      } else {
        avg = add(sqrt(sq), s(eps));
      }
      if (momentum > 0) {
        assign(buf, add(mul(buf, s(momentum)), div(d, avg)));
        assign(p, sub(p, mul(buf, s(lr))));
      } else {
        assign(p, sub(p, mul(div(d, avg), s(lr))));
      }
    }
  }
}

Adagrad::Adagrad(std::vector<Tensor> params, double lr, double lr_decay, double weight_decay,
                 double initial_accumulator_value, double eps, bool maximize)
    : Adagrad(std::vector<ParamGroup>{ParamGroup(std::move(params))}, lr, lr_decay,
              weight_decay, initial_accumulator_value, eps, maximize) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, double lr, double lr_decay,
                 double weight_decay, double initial_accumulator_value, double eps,
                 bool maximize)
    : Optimizer({{"lr", lr},
                 {"lr_decay", lr_decay},
                 {"weight_decay", weight_decay},
                 {"initial_accumulator_value", initial_accumulator_value},
                 {"eps", eps},
                 {"maximize", double(maximize)}},
                "ember::optim::Adagrad") {
  state_names_ = {"sum"};
  init_groups(std::move(groups));
}

void Adagrad::check_options(const Options& o) const {
  EMBER_CHECK(o.at("lr") >= 0, Value, op_, "Invalid learning rate: ", o.at("lr"));
  EMBER_CHECK(o.at("lr_decay") >= 0, Value, op_, "Invalid lr_decay value: ", o.at("lr_decay"));
  EMBER_CHECK(o.at("weight_decay") >= 0, Value, op_, "Invalid weight_decay value: ",
              o.at("weight_decay"));
  EMBER_CHECK(o.at("initial_accumulator_value") >= 0, Value, op_,
              "Invalid initial_accumulator_value value: ", o.at("initial_accumulator_value"));
  EMBER_CHECK(o.at("eps") >= 0, Value, op_, "Invalid epsilon value: ", o.at("eps"));
}

// As torch, the constructor's initial_accumulator_value, whatever a group sets.
void Adagrad::init_state(size_t i, const Tensor& p, const Options&) {
  state_[i].tensors.insert(
      "sum", full(p.shape(), defaults_.at("initial_accumulator_value"), p.dtype(), p.device()));
}

void Adagrad::step() {
  GradModeGuard no_grad(false);
  size_t i = 0;
  for (ParamGroup& group : groups_) {
    const Options& o = group.options;
    const double lr = o.at("lr"), lr_decay = o.at("lr_decay"),
                 weight_decay = o.at("weight_decay"), eps = o.at("eps");
    const bool maximize = flag(o, "maximize");
    for (size_t k = 0; k < group.params.size(); ++k, ++i) {
      const Tensor& p = group.params[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      ParamState& ps = state_[i];
      const Tensor sum = ps.tensors.at("sum");
      ++ps.step;
      const double clr = lr / (1 + double(ps.step - 1) * lr_decay);
      if (fusable(p, g, {&sum})) {
        adagrad_step_(p, g.contiguous(), sum, clr, weight_decay, eps, maximize);
        continue;
      }
      Tensor d = maximize ? neg(g) : g;
      if (weight_decay != 0) d = add(d, mul(p, s(weight_decay)));
      assign(sum, add(sum, mul(d, d)));
      assign(p, sub(p, mul(div(d, add(sqrt(sum), s(eps))), s(clr))));
    }
  }
}

} // namespace ember::optim
