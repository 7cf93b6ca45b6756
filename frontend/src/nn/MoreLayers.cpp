// GroupNorm, Conv1d, ConvTranspose2d, Unflatten, ModuleDict, ParameterList and the losses
// SmoothL1Loss, HuberLoss, BCELoss, KLDivLoss (ember/nn/Layers.h): PyTorch's default
// initialisation, then the matching ember::nn::functional call.
#include "ember/nn/Layers.h"

#include "ember/Creation.h"
#include "ember/Ops.h"
#include "ember/nn/Init.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cmath>

namespace ember::nn {
namespace {

// PyTorch's default for conv weights (kaiming_uniform with a = sqrt(5), i.e. U(+-1/sqrt(fan_in)))
// and biases (U(+-1/sqrt(fan_in))).
Tensor kaiming_default(const Shape& shape) {
  Tensor w = empty(shape);
  init::kaiming_uniform_(w, std::sqrt(5.0));
  return w;
}
Tensor bias_default(int64_t n, const Tensor& weight) {
  const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
  Tensor b = empty({n});
  return init::uniform_(b, -bound, bound);
}

void check_conv(const char* op, int64_t in, int64_t out, int64_t k, int64_t s, int64_t p,
                int64_t d, int64_t g) {
  EMBER_CHECK(in > 0 && out > 0, Value, op, "in_channels and out_channels must be positive, got ",
              in, " and ", out);
  EMBER_CHECK(k > 0 && s > 0 && p >= 0 && d > 0, Value, op, "kernel_size, stride and dilation "
              "must be positive and padding non-negative, got kernel_size=", k, ", stride=", s,
              ", padding=", p, ", dilation=", d);
  EMBER_CHECK(g > 0 && in % g == 0 && out % g == 0, Value, op, "in_channels (", in,
              ") and out_channels (", out, ") must be divisible by groups (", g, ")");
}

} // namespace

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps_, bool affine)
    : num_groups(groups), num_channels(channels), eps(eps_) {
  EMBER_CHECK(groups > 0 && channels > 0 && channels % groups == 0, Value, "ember::nn::GroupNorm",
              "num_channels (", channels, ") must be divisible by num_groups (", groups, ")");
  weight = register_parameter("weight", affine ? ones({channels}) : Tensor());
  bias = register_parameter("bias", affine ? zeros({channels}) : Tensor());
}
Tensor GroupNorm::forward(const Tensor& x) {
  EMBER_CHECK(x.dim() >= 2 && x.shape()[1] == num_channels, Value, "ember::nn::GroupNorm",
              "expected input [N, ", num_channels, ", *], got shape ", shape_str(x.shape()));
  return functional::group_norm(x, num_groups, weight, bias, eps);
}

Conv1d::Conv1d(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d, int64_t g,
               bool with_bias)
    : stride(s), padding(p), dilation(d), groups(g) {
  check_conv("ember::nn::Conv1d", in, out, k, s, p, d, g);
  weight = register_parameter("weight", kaiming_default({out, in / g, k}));
  bias = register_parameter("bias", with_bias ? bias_default(out, weight) : Tensor());
}
Tensor Conv1d::forward(const Tensor& x) {
  return functional::conv1d(x, weight, bias, {stride}, {padding}, {dilation}, groups);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p,
                                 int64_t op_, int64_t g, bool with_bias, int64_t d)
    : stride(s), padding(p), output_padding(op_), groups(g), dilation(d) {
  const char* op = "ember::nn::ConvTranspose2d";
  check_conv(op, in, out, k, s, p, d, g);
  EMBER_CHECK(op_ >= 0 && (op_ < s || op_ < d), Value, op, "output padding must be smaller than "
              "either stride or dilation, got output_padding=", op_, ", stride=", s,
              ", dilation=", d);
  weight = register_parameter("weight", kaiming_default({in, out / g, k, k}));
  bias = register_parameter("bias", with_bias ? bias_default(out, weight) : Tensor());
}
Tensor ConvTranspose2d::forward(const Tensor& x) {
  return functional::conv_transpose2d(x, weight, bias, {stride}, {padding}, {output_padding},
                                      groups, {dilation});
}

Unflatten::Unflatten(int64_t d, Shape s) : dim(d), sizes(std::move(s)) {
  const char* op = "ember::nn::Unflatten";
  EMBER_CHECK(!sizes.empty(), Value, op, "unflattened_size must be non-empty");
  int unknown = 0;
  for (int64_t v : sizes) {
    EMBER_CHECK(v == -1 || v >= 0, Value, op, "unflattened_size entries must be >= 0 or -1, got ",
                shape_str(sizes));
    unknown += v == -1;
  }
  EMBER_CHECK(unknown <= 1, Value, op, "only one entry of unflattened_size can be -1, got ",
              shape_str(sizes));
}
Tensor Unflatten::forward(const Tensor& x) {
  const char* op = "ember::nn::Unflatten";
  const int64_t n = x.dim();
  EMBER_CHECK(dim >= -n && dim < n, Index, op, "dim ", dim, " is out of range for an input of "
              "shape ", shape_str(x.shape()));
  const int64_t d = dim < 0 ? dim + n : dim;
  const int64_t size = x.shape()[size_t(d)];
  int64_t known = 1;
  for (int64_t v : sizes)
    if (v != -1) known *= v;
  const bool has_unknown = std::find(sizes.begin(), sizes.end(), -1) != sizes.end();
  EMBER_CHECK(has_unknown ? (known > 0 && size % known == 0) : known == size, Value, op,
              "unflattened_size ", shape_str(sizes), " does not multiply to the size of dim ", d,
              " of the input (", size, "; input shape ", shape_str(x.shape()), ")");
  Shape out(x.shape().begin(), x.shape().begin() + d);
  for (int64_t v : sizes) out.push_back(v == -1 ? size / known : v);
  out.insert(out.end(), x.shape().begin() + d + 1, x.shape().end());
  return reshape(x, out);
}

ModuleDict::ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules) {
  for (auto& [k, m] : modules) insert(k, std::move(m));
}
ModuleDict& ModuleDict::insert(const std::string& key, std::shared_ptr<Module> m) {
  const char* op = "ember::nn::ModuleDict::insert";
  EMBER_CHECK(!key.empty() && key.find('.') == std::string::npos, Value, op,
              "module name can't be empty or contain \".\", got \"", key, "\"");
  EMBER_CHECK(m != nullptr, Value, op, "got a null module for key \"", key, "\"");
  register_module(key, std::move(m));
  return *this;
}
bool ModuleDict::contains(const std::string& key) const {
  for (const auto& kv : named_children())
    if (kv.first == key) return true;
  return false;
}
std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : named_children()) out.push_back(kv.first);
  return out;
}
std::shared_ptr<Module> ModuleDict::operator[](const std::string& key) const {
  for (const auto& kv : named_children())
    if (kv.first == key) return kv.second;
  std::string have;
  for (const auto& kv : named_children()) have += (have.empty() ? "" : ", ") + kv.first;
  fail(ErrorKind::Index, "ember::nn::ModuleDict", "no module '", key, "' (keys: ", have, ")");
}

ParameterList::ParameterList(std::vector<Tensor> parameters) {
  for (Tensor& p : parameters) append(std::move(p));
}
ParameterList& ParameterList::append(Tensor p) {
  EMBER_CHECK(p.defined() && is_floating(p.dtype()), Value, "ember::nn::ParameterList::append",
              "a parameter must be a defined floating point tensor");
  if (!p.is_leaf()) p = p.detach();
  items_.push_back(register_parameter(std::to_string(items_.size()), p));
  return *this;
}
Tensor ParameterList::operator[](int64_t i) const {
  const int64_t n = int64_t(items_.size());
  EMBER_CHECK(i >= -n && i < n, Index, "ember::nn::ParameterList", "index ", i,
              " is out of range for a ParameterList of ", n, " parameters");
  return items_[size_t(i < 0 ? i + n : i)];
}

SmoothL1Loss::SmoothL1Loss(std::string r, double beta_)
    : Loss(std::move(r), "ember::nn::SmoothL1Loss"), beta(beta_) {
  EMBER_CHECK(beta >= 0, Value, "ember::nn::SmoothL1Loss", "beta must be non-negative, got ",
              beta);
}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) {
  return functional::smooth_l1_loss(input, target, reduction_, beta);
}

HuberLoss::HuberLoss(std::string r, double delta_)
    : Loss(std::move(r), "ember::nn::HuberLoss"), delta(delta_) {
  EMBER_CHECK(delta > 0, Value, "ember::nn::HuberLoss", "delta must be positive, got ", delta);
}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::huber_loss(input, target, reduction_, delta);
}

BCELoss::BCELoss(Tensor w, std::string r) : Loss(std::move(r), "ember::nn::BCELoss") {
  weight = register_buffer("weight", w);
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return functional::binary_cross_entropy(input, target, reduction_, weight);
}

KLDivLoss::KLDivLoss(std::string r, bool log_target_)
    : Loss(r == "batchmean" ? "sum" : r, "ember::nn::KLDivLoss"), log_target(log_target_) {
  if (r == "batchmean") {
    reduction = r;
    reduction_ = functional::Reduction::BatchMean;
  }
}
Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::kl_div(input, target, reduction_, log_target);
}

} // namespace ember::nn
