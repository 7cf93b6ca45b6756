// Row-wise float32 kernels behind the eager fast paths of softmax, log_softmax and layer_norm:
// `rows` contiguous rows of n floats, split across the thread pool; exp through VecMath.
#pragma once

#include <cstdint>

namespace ember::kernels {

// y = softmax(x) (log: log_softmax(x)) along each row. A row with a NaN, or all -inf, gives NaN.
void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n, bool log);
// Their gradients from the output y: softmax dx = y * (g - sum(g * y)); log_softmax
// dx = g - exp(y) * sum(g).
void softmax_rows_backward_f32(const float* y, const float* g, float* dx, int64_t rows, int64_t n,
                               bool log);
// y = (x - mean) * rstd * w + b per row (w, b: n floats, either may be null), with the row's
// mean and rstd = 1 / sqrt(var + eps) (biased variance) written out.
void layer_norm_rows_f32(const float* x, const float* w, const float* b, float* y, float* mean,
                         float* rstd, int64_t rows, int64_t n, double eps);
// Its gradients; dx, dw, db may each be null (not wanted). dw and db are overwritten; the rows'
// partial sums are added in a fixed order, so they do not depend on which thread ran which row.
void layer_norm_rows_backward_f32(const float* x, const float* w, const float* mean,
                                  const float* rstd, const float* g, float* dx, float* dw,
                                  float* db, int64_t rows, int64_t n);

} // namespace ember::kernels
