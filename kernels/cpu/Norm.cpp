#include "ember/kernels/Norm.h"

#include "ember/kernels/Elementwise.h"
#include "ember/kernels/VecMath.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ember::kernels {

namespace {
// Rows per task: a few thousand floats' worth, at least one row.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, n)); }

// Sums in 8 interleaved partials (vectorizable without reassociation flags).
template <typename F>
double sum8(int64_t n, F f) {
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) part[l] += f(i + l);
  double s = 0;
  for (int l = 0; l < 8; ++l) s += part[l];
  for (; i < n; ++i) s += f(i);
  return s;
}

float row_max(const float* x, int64_t n) {
  float part[8];
  std::fill(part, part + 8, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) part[l] = x[i + l] > part[l] ? x[i + l] : part[l];
  float m = -std::numeric_limits<float>::infinity();
  for (int l = 0; l < 8; ++l) m = part[l] > m ? part[l] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m; // NaNs are skipped here; they reach the result through the sum below
}
} // namespace

void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  const VecIsa isa = vec_isa();
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(log ? n : 0);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      const float m = row_max(xr, n);
      float* e = log ? tmp.data() : yr;
      for (int64_t i = 0; i < n; ++i) e[i] = xr[i] - m;
      if (log) {
        vec_span_f32(isa, VecOp::Exp, e, 1, nullptr, 0, e, n);
        const float lse = static_cast<float>(std::log(sum8(n, [&](int64_t i) { return e[i]; })));
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - m) - lse;
      } else {
        vec_span_f32(isa, VecOp::Exp, yr, 1, nullptr, 0, yr, n);
        const float inv = static_cast<float>(1.0 / sum8(n, [&](int64_t i) { return yr[i]; }));
        for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
      }
    }
  });
}

void softmax_rows_backward_f32(const float* y, const float* g, float* dx, int64_t rows, int64_t n,
                               bool log) {
  const VecIsa isa = vec_isa();
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * n;
      const float* gr = g + r * n;
      float* d = dx + r * n;
      if (log) {
        const float s = static_cast<float>(sum8(n, [&](int64_t i) { return gr[i]; }));
        vec_span_f32(isa, VecOp::Exp, yr, 1, nullptr, 0, d, n);
        for (int64_t i = 0; i < n; ++i) d[i] = gr[i] - d[i] * s;
      } else {
        const float s = static_cast<float>(sum8(n, [&](int64_t i) { return gr[i] * yr[i]; }));
        for (int64_t i = 0; i < n; ++i) d[i] = yr[i] * (gr[i] - s);
      }
    }
  });
}

void layer_norm_rows_f32(const float* x, const float* w, const float* b, float* y, float* mean,
                         float* rstd, int64_t rows, int64_t n, double eps) {
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      const float mu = static_cast<float>(sum8(n, [&](int64_t i) { return xr[i]; }) / double(n));
      const double var = sum8(n, [&](int64_t i) { return (xr[i] - mu) * (xr[i] - mu); }) / double(n);
      const float rs = static_cast<float>(1.0 / std::sqrt(var + eps));
      mean[r] = mu;
      rstd[r] = rs;
      if (w && b) for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * rs * w[i] + b[i];
      else if (w) for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * rs * w[i];
      else if (b) for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * rs + b[i];
      else for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * rs;
    }
  });
}

void layer_norm_rows_backward_f32(const float* x, const float* w, const float* mean,
                                  const float* rstd, const float* g, float* dx, float* dw,
                                  float* db, int64_t rows, int64_t n) {
  // Rows go in `slots` fixed runs; each run's dw/db partials are added in run order.
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), rows));
  std::vector<float> part((dw || db) ? slots * 2 * n : 0, 0.0f);
  parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      float* pw = part.empty() ? nullptr : part.data() + s * 2 * n;
      float* pb = pw ? pw + n : nullptr;
      for (int64_t r = s * rows / slots; r < (s + 1) * rows / slots; ++r) {
        const float* xr = x + r * n;
        const float* gr = g + r * n;
        const float mu = mean[r], rs = rstd[r];
        if (dw) for (int64_t i = 0; i < n; ++i) pw[i] += gr[i] * (xr[i] - mu) * rs;
        if (db) for (int64_t i = 0; i < n; ++i) pb[i] += gr[i];
        if (!dx) continue;
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * w.
        const double a = sum8(n, [&](int64_t i) { return gr[i] * (w ? w[i] : 1.0f); }) / double(n);
        const double c = sum8(n, [&](int64_t i) {
          return gr[i] * (w ? w[i] : 1.0f) * (xr[i] - mu) * rs;
        }) / double(n);
        const float af = static_cast<float>(a), cf = static_cast<float>(c);
        float* d = dx + r * n;
        for (int64_t i = 0; i < n; ++i)
          d[i] = rs * (gr[i] * (w ? w[i] : 1.0f) - af - (xr[i] - mu) * rs * cf);
      }
    }
  });
  for (int64_t i = 0; dw && i < n; ++i) {
    float s = 0;
    for (int64_t t = 0; t < slots; ++t) s += part[t * 2 * n + i];
    dw[i] = s;
  }
  for (int64_t i = 0; db && i < n; ++i) {
    float s = 0;
    for (int64_t t = 0; t < slots; ++t) s += part[t * 2 * n + n + i];
    db[i] = s;
  }
}

} // namespace ember::kernels
