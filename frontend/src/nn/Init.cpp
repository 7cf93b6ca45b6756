// ember::nn::init (ember/nn/Init.h) and ember::nn::utils (ember/nn/Utils.h): ports of
// torch.nn.init and torch.nn.utils.clip_grad_*, as in frontend/python/ember/nn/init.py.
#include "ember/nn/Init.h"
#include "ember/nn/Utils.h"

#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/PointwiseOps.h"
#include "ember/ReductionOps.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ember::nn::init {
namespace {

void check_defined(const Tensor& t, const char* op) {
  EMBER_CHECK(t.defined(), Value, op, "the tensor is undefined");
  EMBER_CHECK(is_floating(t.dtype()), Type, op, "needs a floating point tensor, got ",
              dtype_name(t.dtype()));
}

// Writes value into t's memory under no_grad (a parameter stays the same leaf).
Tensor write(Tensor t, const Tensor& value) {
  GradModeGuard no_grad(false);
  copy_(t, value);
  return t;
}

int64_t correct_fan(const Tensor& t, const std::string& mode, const char* op) {
  EMBER_CHECK(mode == "fan_in" || mode == "fan_out", Value, op, "Mode ", mode,
              " not supported, please use one of fan_in, fan_out");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return mode == "fan_in" ? fan_in : fan_out;
}

} // namespace

double calculate_gain(const std::string& n, std::optional<double> param) {
  if (n == "linear" || n == "conv1d" || n == "conv2d" || n == "conv3d" ||
      n == "conv_transpose1d" || n == "conv_transpose2d" || n == "conv_transpose3d" ||
      n == "sigmoid")
    return 1;
  if (n == "tanh") return 5.0 / 3;
  if (n == "relu") return std::sqrt(2.0);
  if (n == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1 + slope * slope));
  }
  if (n == "selu") return 3.0 / 4;
  fail(ErrorKind::Value, "ember::nn::init::calculate_gain", "Unsupported nonlinearity ", n,
       " (valid: linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, "
       "conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu)");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  EMBER_CHECK(t.defined() && t.dim() >= 2, Value, "ember::nn::init",
              "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
              "(got shape ", t.defined() ? shape_str(t.shape()) : "undefined", ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.shape()[size_t(d)];
  return {t.shape()[1] * receptive, t.shape()[0] * receptive};
}

Tensor uniform_(Tensor t, double a, double b) {
  check_defined(t, "ember::nn::init::uniform_");
  Tensor v = empty(t.shape(), t.dtype(), t.device());
  ember::uniform_(v, a, b);
  return write(t, v);
}

Tensor normal_(Tensor t, double mean, double std) {
  check_defined(t, "ember::nn::init::normal_");
  Tensor v = empty(t.shape(), t.dtype(), t.device());
  ember::normal_(v, mean, std);
  return write(t, v);
}

Tensor trunc_normal_(Tensor t, double mean, double std, double a, double b) {
  const char* op = "ember::nn::init::trunc_normal_";
  check_defined(t, op);
  EMBER_CHECK(a < b && std > 0, Value, op, "needs a < b and std > 0, got a=", a, ", b=", b,
              ", std=", std);
  auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lo = cdf((a - mean) / std), hi = cdf((b - mean) / std);
  Tensor u = empty(t.shape(), t.dtype(), t.device());
  ember::uniform_(u, 2 * lo - 1, 2 * hi - 1);
  Tensor v = add(mul(erfinv(u), scalar(std * std::sqrt(2.0))), scalar(mean));
  return write(t, clamp(v, scalar(a), scalar(b)));
}

Tensor constant_(Tensor t, double value) {
  check_defined(t, "ember::nn::init::constant_");
  return write(t, scalar(value));
}
Tensor zeros_(Tensor t) { return constant_(std::move(t), 0); }
Tensor ones_(Tensor t) { return constant_(std::move(t), 1); }

Tensor eye_(Tensor t) {
  check_defined(t, "ember::nn::init::eye_");
  EMBER_CHECK(t.dim() == 2, Value, "ember::nn::init::eye_",
              "Only tensors with 2 dimensions are supported, got shape ", shape_str(t.shape()));
  return write(t, eye(t.shape()[0], t.shape()[1]).to(t.device()));
}

Tensor xavier_uniform_(Tensor t, double gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const double a = std::sqrt(3.0) * gain * std::sqrt(2.0 / double(fan_in + fan_out));
  return uniform_(std::move(t), -a, a);
}

Tensor xavier_normal_(Tensor t, double gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return normal_(std::move(t), 0, gain * std::sqrt(2.0 / double(fan_in + fan_out)));
}

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode,
                        const std::string& nonlinearity) {
  if (t.defined() && t.numel() == 0) return t;
  const int64_t fan = correct_fan(t, mode, "ember::nn::init::kaiming_uniform_");
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(double(fan));
  return uniform_(std::move(t), -bound, bound);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode,
                       const std::string& nonlinearity) {
  if (t.defined() && t.numel() == 0) return t;
  const int64_t fan = correct_fan(t, mode, "ember::nn::init::kaiming_normal_");
  return normal_(std::move(t), 0, calculate_gain(nonlinearity, a) / std::sqrt(double(fan)));
}

Tensor orthogonal_(Tensor t, double gain) {
  const char* op = "ember::nn::init::orthogonal_";
  check_defined(t, op);
  EMBER_CHECK(t.dim() >= 2, Value, op,
              "Only tensors with 2 or more dimensions are supported, got shape ",
              shape_str(t.shape()));
  if (t.numel() == 0) return t;
  const int64_t rows = t.shape()[0], cols = t.numel() / rows;
  // A normal [rows, cols] draw (as ember.nn.init does), orthonormalised along its longer side.
  std::vector<float> draw = randn({rows, cols}).to_vector();
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols; // a is m x n, m >= n
  std::vector<double> q(size_t(m * n));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double v = draw[size_t(i * cols + j)];
      if (wide) q[size_t(j * n + i)] = v;
      else q[size_t(i * n + j)] = v;
    }
  // Gram-Schmidt with reorthogonalisation: column k of q becomes Q's, R's diagonal positive
  // (numpy's QR with the sign of diag(R) folded in).
  for (int64_t k = 0; k < n; ++k) {
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < k; ++j) {
        double r = 0;
        for (int64_t i = 0; i < m; ++i) r += q[size_t(i * n + j)] * q[size_t(i * n + k)];
        for (int64_t i = 0; i < m; ++i) q[size_t(i * n + k)] -= r * q[size_t(i * n + j)];
      }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += q[size_t(i * n + k)] * q[size_t(i * n + k)];
    norm = std::sqrt(norm);
    EMBER_CHECK(norm > 0, Runtime, op, "the random draw was rank deficient");
    for (int64_t i = 0; i < m; ++i) q[size_t(i * n + k)] /= norm;
  }
  std::vector<float> out(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[size_t(i * cols + j)] =
          float(gain * (wide ? q[size_t(j * n + i)] : q[size_t(i * n + j)]));
  return write(t, reshape(from_vector(out, {rows, cols}), t.shape()).to(t.device()));
}

} // namespace ember::nn::init

namespace ember::nn::utils {

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  const char* op = "ember::nn::utils::clip_grad_norm_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> grads, norms;
  for (const Tensor& p : parameters) {
    EMBER_CHECK(p.defined(), Value, op, "a parameter is an undefined tensor");
    Tensor g = p.grad();
    if (g.defined()) grads.push_back(g);
  }
  if (grads.empty()) return 0.0;
  const Device device = grads[0].device();
  for (const Tensor& g : grads) norms.push_back(vector_norm(g, norm_type).to(device));
  const Tensor total = std::isinf(norm_type) && norm_type > 0
                           ? amax(stack(norms))
                           : vector_norm(stack(norms), norm_type);
  const double total_norm = total.item();
  EMBER_CHECK(!error_if_nonfinite || std::isfinite(total_norm), Runtime, op, "The total norm of "
              "order ", norm_type, " for gradients from `parameters` is non-finite, so it "
              "cannot be clipped. To disable this error and scale the gradients by the "
              "non-finite norm anyway, set `error_if_nonfinite=false`");
  // torch: clamp(max_norm / (total + 1e-6), max=1), applied even when it is 1.
  const Tensor coef = clamp(div(scalar(max_norm), add(total, scalar(1e-6))), Tensor(),
                            scalar(1.0));
  for (Tensor& g : grads) {
    Tensor scaled = mul(g, coef.to(g.device()));
    copy_(g, scaled);
  }
  return total_norm;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  GradModeGuard no_grad(false);
  for (const Tensor& p : parameters) {
    EMBER_CHECK(p.defined(), Value, "ember::nn::utils::clip_grad_value_",
                "a parameter is an undefined tensor");
    Tensor g = p.grad();
    if (!g.defined()) continue;
    copy_(g, clamp(g, scalar(-clip_value), scalar(clip_value)));
  }
}

} // namespace ember::nn::utils
