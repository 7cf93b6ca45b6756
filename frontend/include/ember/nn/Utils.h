// ember::nn::utils: gradient clipping with PyTorch's semantics (torch.nn.utils).
#pragma once

#include "ember/Tensor.h"

#include <vector>

namespace ember::nn::utils {

// Scales the parameters' gradients in place so that their total norm (the norm_type norm of
// the per-gradient norms; norm_type may be INFINITY) is at most max_norm: each is multiplied
// by min(1, max_norm / (total + 1e-6)). Parameters without a gradient are skipped. Returns the
// total norm before clipping; with error_if_nonfinite, a NaN or infinite total is an
// ember::Error (and nothing is scaled).
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
// Clamps every gradient in place to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

} // namespace ember::nn::utils
