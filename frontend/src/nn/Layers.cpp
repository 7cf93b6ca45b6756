// The layers, activations, containers and losses of ember/nn/Layers.h: PyTorch's default
// initialisation, then the matching ember::nn::functional call.
#include "ember/nn/Layers.h"

#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

namespace ember::nn {

LayerNorm::LayerNorm(Shape shape, double eps_, bool elementwise_affine, bool with_bias)
    : normalized_shape(std::move(shape)), eps(eps_) {
  EMBER_CHECK(!normalized_shape.empty(), Value, "ember::nn::LayerNorm",
              "normalized_shape must have at least one dimension");
  weight = register_parameter("weight", elementwise_affine ? ones(normalized_shape) : Tensor());
  bias = register_parameter("bias",
                            elementwise_affine && with_bias ? zeros(normalized_shape) : Tensor());
}
Tensor LayerNorm::forward(const Tensor& x) {
  return functional::layer_norm(x, normalized_shape, weight, bias, eps);
}

BatchNorm::BatchNorm(int64_t features, double eps_, std::optional<double> momentum_,
                     bool affine_, bool track, int min_dim, int max_dim)
    : num_features(features), eps(eps_), momentum(momentum_), affine(affine_),
      track_running_stats(track), min_dim_(min_dim), max_dim_(max_dim) {
  EMBER_CHECK(features > 0, Value, "ember::nn::" + name(), "num_features must be positive, got ",
              features);
  weight = register_parameter("weight", affine ? ones({features}) : Tensor());
  bias = register_parameter("bias", affine ? zeros({features}) : Tensor());
  if (track) {
    running_mean = register_buffer("running_mean", zeros({features}));
    running_var = register_buffer("running_var", ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  EMBER_CHECK(x.dim() >= min_dim_ && x.dim() <= max_dim_, Value, "ember::nn::" + name(),
              "expected ", min_dim_ == max_dim_ ? "" : (std::to_string(min_dim_) + "D or "),
              max_dim_, "D input, got shape ", shape_str(x.shape()));
  double factor = momentum.value_or(0.0);
  if (is_training() && track_running_stats) {
    GradModeGuard no_grad(false);
    Tensor n = num_batches_tracked;
    copy_(n, add(num_batches_tracked, scalar(1)));
    if (!momentum) factor = 1.0 / num_batches_tracked.item(); // cumulative moving average
  }
  const bool batch_stats = is_training() || !running_mean.defined();
  return functional::batch_norm(x, running_mean, running_var, weight, bias, batch_stats, factor,
                                eps);
}

BatchNorm1d::BatchNorm1d(int64_t f, double eps, std::optional<double> m, bool affine, bool track)
    : BatchNorm(f, eps, m, affine, track, 2, 3) {}
BatchNorm2d::BatchNorm2d(int64_t f, double eps, std::optional<double> m, bool affine, bool track)
    : BatchNorm(f, eps, m, affine, track, 4, 4) {}

Dropout::Dropout(double p_) : p(p_) {
  EMBER_CHECK(p >= 0 && p <= 1, Value, "ember::nn::Dropout",
              "dropout probability has to be between 0 and 1, but got ", p);
}
Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p, is_training()); }

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad) {
  const char* op = "ember::nn::Embedding";
  EMBER_CHECK(num > 0 && dim > 0, Value, op, "num_embeddings and embedding_dim must be positive, "
              "got ", num, " and ", dim);
  if (pad) {
    EMBER_CHECK(*pad >= -num && *pad < num, Value, op, "padding_idx ", *pad,
                " must be within num_embeddings (", num, ")");
    padding_idx = *pad < 0 ? *pad + num : *pad;
  }
  Tensor w = randn({num, dim});
  if (padding_idx) {
    Tensor row = select(w, 0, *padding_idx);
    copy_(row, scalar(0));
  }
  weight = register_parameter("weight", w);
}
Tensor Embedding::forward(const Tensor& indices) {
  return functional::embedding(indices, weight, padding_idx);
}

AvgPool2d::AvgPool2d(Shape k, Shape s, Shape p, bool ceil, bool include_pad,
                     std::optional<int64_t> divisor)
    : kernel_size(std::move(k)), stride(std::move(s)), padding(std::move(p)), ceil_mode(ceil),
      count_include_pad(include_pad), divisor_override(divisor) {}
Tensor AvgPool2d::forward(const Tensor& x) {
  return functional::avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                divisor_override);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Shape size) : output_size(std::move(size)) {
  EMBER_CHECK(output_size.size() == 1 || output_size.size() == 2, Value,
              "ember::nn::AdaptiveAvgPool2d", "output_size needs 1 or 2 entries, got ",
              output_size.size());
  if (output_size.size() == 1) output_size.push_back(output_size[0]);
}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return functional::adaptive_avg_pool2d(x, output_size);
}

GELU::GELU(std::string a) : approximate(std::move(a)) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", Value, "ember::nn::GELU",
              "approximate must be \"none\" or \"tanh\", got \"", approximate, "\"");
}
Tensor GELU::forward(const Tensor& x) { return functional::gelu(x, approximate == "tanh"); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor SiLU::forward(const Tensor& x) { return functional::silu(x); }
LeakyReLU::LeakyReLU(double slope) : negative_slope(slope) {}
Tensor LeakyReLU::forward(const Tensor& x) { return functional::leaky_relu(x, negative_slope); }
Softmax::Softmax(int64_t d) : dim(d) {}
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
LogSoftmax::LogSoftmax(int64_t d) : dim(d) {}
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }

ModuleList::ModuleList(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) push_back(std::move(m));
}
ModuleList& ModuleList::push_back(std::shared_ptr<Module> m) {
  EMBER_CHECK(m != nullptr, Value, "ember::nn::ModuleList::push_back", "got a null module");
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(m)));
  return *this;
}
std::shared_ptr<Module> ModuleList::operator[](int64_t i) const {
  const int64_t n = int64_t(modules_.size());
  EMBER_CHECK(i >= -n && i < n, Index, "ember::nn::ModuleList", "index ", i,
              " is out of range for a ModuleList of ", n, " modules");
  return modules_[size_t(i < 0 ? i + n : i)];
}

Loss::Loss(std::string r, const char* op)
    : reduction(std::move(r)), reduction_(functional::reduction_from(reduction, op)) {}

CrossEntropyLoss::CrossEntropyLoss(Tensor w, int64_t ignore, std::string r, double smoothing)
    : Loss(std::move(r), "ember::nn::CrossEntropyLoss"), ignore_index(ignore),
      label_smoothing(smoothing) {
  EMBER_CHECK(smoothing >= 0 && smoothing <= 1, Value, "ember::nn::CrossEntropyLoss",
              "label_smoothing must be between 0.0 and 1.0, got ", smoothing);
  weight = register_buffer("weight", w);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, weight, ignore_index, reduction_,
                                   label_smoothing);
}

NLLLoss::NLLLoss(Tensor w, int64_t ignore, std::string r)
    : Loss(std::move(r), "ember::nn::NLLLoss"), ignore_index(ignore) {
  weight = register_buffer("weight", w);
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target, weight, ignore_index, reduction_);
}

MSELoss::MSELoss(std::string r) : Loss(std::move(r), "ember::nn::MSELoss") {}
Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return functional::mse_loss(input, target, reduction_);
}

L1Loss::L1Loss(std::string r) : Loss(std::move(r), "ember::nn::L1Loss") {}
Tensor L1Loss::forward(const Tensor& input, const Tensor& target) {
  return functional::l1_loss(input, target, reduction_);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(Tensor w, std::string r, Tensor pw)
    : Loss(std::move(r), "ember::nn::BCEWithLogitsLoss") {
  weight = register_buffer("weight", w);
  pos_weight = register_buffer("pos_weight", pw);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::binary_cross_entropy_with_logits(input, target, reduction_, weight,
                                                      pos_weight);
}

} // namespace ember::nn
