// ember::nn::init: in-place initialisers with PyTorch's names, fans, gains and defaults
// (torch.nn.init). Each writes under no_grad into the tensor's memory (a parameter keeps its
// identity) and returns it. nonlinearity: "linear", "conv1d", "conv2d", "conv3d",
// "conv_transpose1d/2d/3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"; mode: "fan_in" or
// "fan_out". The draws come from ember's generator (ember::manual_seed), as ember.nn.init's do.
#pragma once

#include "ember/Tensor.h"

#include <optional>
#include <string>
#include <utility>

namespace ember::nn::init {

// The recommended gain for a nonlinearity (param: leaky_relu's negative slope, default 0.01).
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);
// (fan_in, fan_out) of a weight of at least 2 dims: [out, in, *receptive field].
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(Tensor t, double a = 0, double b = 1);
Tensor normal_(Tensor t, double mean = 0, double std = 1);
// Normal(mean, std) truncated to [a, b] (inverse-CDF method, as PyTorch).
Tensor trunc_normal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
// The identity matrix (2-D tensors).
Tensor eye_(Tensor t);
Tensor xavier_uniform_(Tensor t, double gain = 1);
Tensor xavier_normal_(Tensor t, double gain = 1);
Tensor kaiming_uniform_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
Tensor kaiming_normal_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu");
// A (semi-)orthogonal matrix (the tensor viewed as [size(0), numel / size(0)]) times gain: the
// Q of the QR decomposition of a normal draw, with R's diagonal made positive.
Tensor orthogonal_(Tensor t, double gain = 1);

} // namespace ember::nn::init
