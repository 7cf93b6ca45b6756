// ember::nn::functional: activations, losses and layers' math, written with ember's primitives
// (so autograd and, where the primitives compile, the compiler need nothing new).
#pragma once

#include "ember/Ops.h"

#include <optional>
#include <string>

namespace ember::nn::functional {

enum class Reduction { None, Mean, Sum };
// "none" | "mean" | "sum", else ember::Error.
Reduction reduction_from(const std::string& name, const char* op);

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor silu(const Tensor& x);
Tensor mish(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
Tensor logsigmoid(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1);
Tensor selu(const Tensor& x);
Tensor celu(const Tensor& x, double alpha = 1);
Tensor hardtanh(const Tensor& x, double min = -1, double max = 1);
Tensor relu6(const Tensor& x);
Tensor hardsigmoid(const Tensor& x);
Tensor hardswish(const Tensor& x);

// [..., num_classes] one-hot rows of an integer tensor (num_classes < 0: max + 1).
Tensor one_hot(const Tensor& target, int64_t num_classes = -1);
Tensor embedding(const Tensor& indices, const Tensor& weight);
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                      double beta = 1);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                  double delta = 1);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            Reduction r = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction r = Reduction::Mean);
// log-probabilities [N, C] (or [C]) and class indices [N] (or []).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction r = Reduction::Mean);
// Logits [N, C] (or [C]); target class indices, or class probabilities of the input's shape.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction r = Reduction::Mean,
                     double label_smoothing = 0);
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
              bool log_target = false);

} // namespace ember::nn::functional
