// ember::nn::functional: activations, losses and layers' math, written with ember's primitives
// (so autograd and, where the primitives compile, the compiler need nothing new).
#pragma once

#include "ember/Ops.h"

#include <optional>
#include <string>

namespace ember::nn::functional {

enum class Reduction { None, Mean, Sum, BatchMean /* kl_div only */ };
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
// padding_idx (negative counts from the end): that row's output gets no gradient.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);
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
                            Reduction r = Reduction::Mean, const Tensor& weight = Tensor());
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction r = Reduction::Mean,
                                        const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor());
// log-probabilities [N, C, d1, ...] (or [C]) and class indices [N, d1, ...] (or []).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction r = Reduction::Mean);
// Logits [N, C, d1, ...] (or [C]); target class indices, or class probabilities of the input's
// shape.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction r = Reduction::Mean,
                     double label_smoothing = 0);
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
              bool log_target = false);

// Convolutions over [N, C, *spatial] (or unbatched [C, *spatial]) with weight
// [out, in / groups, *kernel]; one entry per spatial dim in stride, padding, dilation (or one
// entry for all). Written as im2col + one GEMM per group (FunctionalNN.cpp).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Shape& stride = {1}, const Shape& padding = {0}, const Shape& dilation = {1},
              int64_t groups = 1);
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Shape& stride = {1}, const Shape& padding = {0}, const Shape& dilation = {1},
              int64_t groups = 1);
// padding='same' (stride 1; the odd padding goes after, as in PyTorch) or 'valid'.
enum class PaddingMode { Same, Valid };
// "same" | "valid", else ember::Error naming `op`.
PaddingMode padding_mode_from(const std::string& name, const char* op);
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              PaddingMode padding, const Shape& dilation = {1}, int64_t groups = 1);
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Shape& stride,
              PaddingMode padding, const Shape& dilation = {1}, int64_t groups = 1);
// The adjoint of conv2d w.r.t. its input; weight [in, out / groups, *kernel].
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const Shape& stride = {1}, const Shape& padding = {0},
                        const Shape& output_padding = {0}, int64_t groups = 1,
                        const Shape& dilation = {1});
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const Shape& stride = {1}, const Shape& padding = {0},
                        const Shape& output_padding = {0}, int64_t groups = 1,
                        const Shape& dilation = {1});

// Sliding-window blocks (torch's unfold, im2col): [N, C, H, W] -> [N, C*kh*kw, L]; fold is its
// adjoint (col2im) back to [N, C, output_size].
Tensor unfold(const Tensor& x, const Shape& kernel_size, const Shape& dilation = {1},
              const Shape& padding = {0}, const Shape& stride = {1});
Tensor fold(const Tensor& cols, const Shape& output_size, const Shape& kernel_size,
            const Shape& dilation = {1}, const Shape& padding = {0}, const Shape& stride = {1});

// Pooling over [N, C, H, W] / [C, H, W] (1-d: [N, C, L] / [C, L]); empty stride = kernel_size.
// The indices (flat positions within each input plane) are the second result.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride = {},
                                                  const Shape& padding = {0},
                                                  const Shape& dilation = {1},
                                                  bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, const Shape& dilation = {1}, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride = {},
                                                  const Shape& padding = {0},
                                                  const Shape& dilation = {1},
                                                  bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, bool ceil_mode = false,
                  bool count_include_pad = true, std::optional<int64_t> divisor_override = {});
Tensor avg_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, bool ceil_mode = false,
                  bool count_include_pad = true);
// output_size entries < 0 keep the input's size (PyTorch's None).
Tensor adaptive_avg_pool2d(const Tensor& x, const Shape& output_size);
Tensor adaptive_avg_pool1d(const Tensor& x, const Shape& output_size);

// running_mean / running_var (optional) are updated in place when training.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, double momentum = 0.1, double eps = 1e-5);
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
Tensor instance_norm(const Tensor& x, const Tensor& weight = Tensor(),
                     const Tensor& bias = Tensor(), double eps = 1e-5);

// torch.nn.functional.pad: `pad` = (last dim before, last dim after, previous dim ...);
// mode "constant" (negative entries crop), "reflect", "replicate" or "circular".
Tensor pad(const Tensor& x, const Shape& pad, const std::string& mode = "constant",
           double value = 0);
// Resizes the spatial dims of [N, C, *spatial] to `size` (or by scale_factor, one per dim):
// mode "nearest", "nearest-exact", "linear" (1-d), "bilinear" (2-d); align_corners for the
// linear modes.
Tensor interpolate(const Tensor& x, const Shape& size, const std::vector<double>& scale_factor,
                   const std::string& mode = "nearest", bool align_corners = false);

// softmax(q k^T * scale + mask) v over [..., L, E] / [..., S, E] / [..., S, Ev]; attn_mask is bool
// (true = attend) or added; scale defaults to 1/sqrt(E).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

} // namespace ember::nn::functional
