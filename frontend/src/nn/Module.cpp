#include "ember/nn/Module.h"

#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <cstdlib>
#include <cxxabi.h>
#include <functional>
#include <typeinfo>
#include <vector>

namespace ember {

StateDict::StateDict(std::initializer_list<Item> items) {
  for (const Item& it : items) insert(it.first, it.second);
}

void StateDict::insert(const std::string& key, const Tensor& value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    items_[it->second].second = value;
    return;
  }
  index_.emplace(key, items_.size());
  items_.emplace_back(key, value);
}

const Tensor& StateDict::at(const std::string& key) const {
  const Tensor* t = find(key);
  EMBER_CHECK(t != nullptr, Index, "ember::StateDict::at", "no entry '", key, "' (", size(),
              " entries)");
  return *t;
}

const Tensor* StateDict::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

bool StateDict::erase(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  items_.erase(items_.begin() + std::ptrdiff_t(it->second));
  index_.clear();
  for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].first, i);
  return true;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  for (const Item& it : items_) out.push_back(it.first);
  return out;
}

} // namespace ember

namespace ember::nn {

Tensor Module::forward(const Tensor&) {
  fail(ErrorKind::NotImplemented, "ember::nn::" + name() + "::forward",
       "this module has no one-input forward (a ModuleList holds modules for your own forward; "
       "a loss takes (input, target))");
}

std::string Module::name() const {
  int status = 0;
  const char* raw = typeid(*this).name();
  char* demangled = abi::__cxa_demangle(raw, nullptr, nullptr, &status);
  std::string full = status == 0 && demangled ? demangled : raw;
  std::free(demangled);
  const size_t colon = full.rfind("::");
  return colon == std::string::npos ? full : full.substr(colon + 2);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters("", recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(const std::string& prefix,
                                                                     bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : params_)
    if (t.defined()) out.emplace_back(prefix + name, t);
  if (recurse)
    for (const auto& [name, m] : children_)
      for (auto& p : m->named_parameters(prefix + name + ".")) out.push_back(std::move(p));
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers("", recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(const std::string& prefix,
                                                                  bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : buffers_)
    if (t.defined()) out.emplace_back(prefix + name, t);
  if (recurse)
    for (const auto& [name, m] : children_)
      for (auto& p : m->named_buffers(prefix + name + ".")) out.push_back(std::move(p));
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, m] : children_) out.push_back(m);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules(const std::string& prefix) {
  std::vector<std::pair<std::string, Module*>> out{{prefix, this}};
  for (auto& [name, m] : children_)
    for (auto& p : m->named_modules(prefix.empty() ? name : prefix + "." + name))
      out.push_back(std::move(p));
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

void Module::zero_grad(bool set_to_none) {
  GradModeGuard no_grad(false);
  for (Tensor& t : parameters()) {
    Tensor g = t.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      t.set_grad(Tensor());
    } else {
      g.detach_();
      copy_(g, scalar(0));
    }
  }
}

void set_data(const Tensor& t, const Tensor& src) {
  TensorImpl* a = t.unsafe_impl();
  const TensorImpl* b = src.unsafe_impl();
  a->storage = b->storage;
  a->shape = b->shape;
  a->strides = b->strides;
  a->offset = b->offset;
  a->dtype = b->dtype;
}

namespace {

void convert(Module& m, const std::function<Tensor(const Tensor&)>& f) {
  GradModeGuard no_grad(false);
  for (auto& [name, t] : m.named_parameters()) {
    EMBER_CHECK(!t.is_symbolic(), Value, "ember::nn::Module::to", "parameter '", name,
                "' is a traced tensor");
    Tensor g = t.grad();
    set_data(t, f(t));
    if (g.defined()) set_data(g, f(g));
  }
  for (auto& [name, t] : m.named_buffers()) set_data(t, f(t));
}
} // namespace

Module& Module::to(Device device) {
  convert(*this, [&](const Tensor& t) { return t.to(device); });
  return *this;
}

Module& Module::to(DType dtype) {
  EMBER_CHECK(is_floating(dtype), Type, "ember::nn::Module::to",
              "nn.Module.to only accepts floating point dtypes, but got desired dtype=",
              dtype_name(dtype));
  convert(*this, [&](const Tensor& t) { return is_floating(t.dtype()) ? t.to(dtype) : t; });
  return *this;
}

StateDict Module::state_dict() const {
  StateDict out;
  // PyTorch's order: each module's parameters, then its buffers, then its children's.
  std::function<void(const std::string&, const Module&)> visit =
      [&](const std::string& prefix, const Module& m) {
        for (const auto& [name, t] : m.params_)
          if (t.defined()) out.insert(prefix + name, t.detach());
        for (const auto& [name, t] : m.buffers_)
          if (t.defined()) out.insert(prefix + name, t.detach());
        for (const auto& [name, c] : m.children_) visit(prefix + name + ".", *c);
      };
  visit("", *this);
  return out;
}

Module::LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  LoadResult result;
  std::vector<std::string> mismatches;
  StateDict mine = state_dict();
  for (const auto& [key, dst] : mine) {
    const Tensor* src = state.find(key);
    if (src == nullptr) {
      result.missing_keys.push_back(key);
      continue;
    }
    EMBER_CHECK(src->defined(), Value, "ember::nn::Module::load_state_dict", "entry '", key,
                "' is an undefined tensor");
    if (src->shape() != dst.shape())
      mismatches.push_back("size mismatch for " + key + ": copying a param with shape " +
                           shape_str(src->shape()) + " from checkpoint, the shape in current "
                           "model is " + shape_str(dst.shape()) + ".");
  }
  for (const auto& [key, t] : state)
    if (!mine.contains(key)) result.unexpected_keys.push_back(key);
  auto quoted = [](const std::vector<std::string>& keys) {
    std::string s;
    for (const std::string& k : keys) s += (s.empty() ? "\"" : ", \"") + k + "\"";
    return s;
  };
  std::vector<std::string> errors;
  if (strict && !result.missing_keys.empty())
    errors.push_back("Missing key(s) in state_dict: " + quoted(result.missing_keys) + ".");
  if (strict && !result.unexpected_keys.empty())
    errors.push_back("Unexpected key(s) in state_dict: " + quoted(result.unexpected_keys) + ".");
  errors.insert(errors.end(), mismatches.begin(), mismatches.end());
  if (!errors.empty()) {
    std::string msg = "Error(s) in loading state_dict for " + name() + ":";
    for (const std::string& e : errors) msg += "\n\t" + e;
    fail(ErrorKind::Runtime, "ember::nn::Module::load_state_dict", msg);
  }
  // Nothing is written unless every entry fits.
  GradModeGuard no_grad(false);
  for (const auto& [key, dst] : mine)
    if (const Tensor* src = state.find(key)) {
      Tensor d = dst;
      copy_(d, *src);
    }
  return result;
}

Tensor& Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  if (t.defined() && requires_grad) t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return buffers_.back().second;
}

namespace {
// U(-bound, bound) with bound = 1 / sqrt(fan_in): PyTorch's default for Linear and Conv weights
// (kaiming_uniform with a = sqrt(5)) and biases.
Tensor uniform_param(const Shape& shape, int64_t fan_in) {
  Tensor t = empty(shape);
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
  uniform_(t, -bound, bound);
  return t;
}
} // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter("weight", uniform_param({out_features, in_features}, in_features));
  bias = register_parameter("bias", with_bias ? uniform_param({out_features}, in_features) : Tensor());
}
Tensor Linear::forward(const Tensor& x) { return functional::linear(x, weight, bias); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t k, int64_t s, int64_t p,
               int64_t d, int64_t g, bool with_bias)
    : stride(s), padding(p), dilation(d), groups(g) {
  const char* op = "ember::nn::Conv2d";
  EMBER_CHECK(k > 0 && s > 0 && p >= 0 && d > 0, Value, op, "kernel_size, stride and dilation "
              "must be positive and padding non-negative, got kernel_size=", k, ", stride=", s,
              ", padding=", p, ", dilation=", d);
  EMBER_CHECK(g > 0 && in_channels % g == 0 && out_channels % g == 0, Value, op,
              "in_channels (", in_channels, ") and out_channels (", out_channels,
              ") must be divisible by groups (", g, ")");
  const int64_t fan_in = in_channels / g * k * k;
  weight = register_parameter("weight",
                              uniform_param({out_channels, in_channels / g, k, k}, fan_in));
  bias = register_parameter("bias", with_bias ? uniform_param({out_channels}, fan_in) : Tensor());
}
Tensor Conv2d::forward(const Tensor& x) {
  return functional::conv2d(x, weight, bias, {stride}, {padding}, {dilation}, groups);
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p, int64_t d, bool ceil)
    : kernel_size(k), stride(s ? s : k), padding(p), dilation(d), ceil_mode(ceil) {
  EMBER_CHECK(k > 0 && s >= 0 && d > 0 && p >= 0 && 2 * p <= k, Value, "ember::nn::MaxPool2d",
              "needs kernel_size > 0, stride >= 0 (0: kernel_size), dilation > 0 and "
              "0 <= padding <= kernel_size / 2, got kernel_size=", k, ", stride=", s,
              ", padding=", p, ", dilation=", d);
}
Tensor MaxPool2d::forward(const Tensor& x) {
  return functional::max_pool2d(x, {kernel_size}, {stride}, {padding}, {dilation}, ceil_mode);
}
std::pair<Tensor, Tensor> MaxPool2d::forward_with_indices(const Tensor& x) {
  return functional::max_pool2d_with_indices(x, {kernel_size}, {stride}, {padding}, {dilation},
                                             ceil_mode);
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, 1, -1); }

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  EMBER_CHECK(m != nullptr, Value, "ember::nn::Sequential::add", "got a null module");
  layers_.push_back(register_module(std::to_string(layers_.size()), std::move(m)));
  return *this;
}
std::shared_ptr<Module> Sequential::operator[](int64_t i) const {
  const int64_t n = int64_t(layers_.size());
  EMBER_CHECK(i >= -n && i < n, Index, "ember::nn::Sequential", "index ", i,
              " is out of range for a Sequential of ", n, " modules");
  return layers_[size_t(i < 0 ? i + n : i)];
}
Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : layers_) h = (*m)(h);
  return h;
}

} // namespace ember::nn

