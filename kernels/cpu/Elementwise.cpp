#include "ember/kernels/Elementwise.h"

#include <algorithm>
#include <cstring>

namespace ember::kernels {

void copy_f32(StridedView src, float* out, const int64_t* shape, int ndim) {
  map2_f32([](float x, float) { return x; }, src, src, out, shape, ndim);
}

void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  std::memset(c, 0, sizeof(float) * m * n);
  // Blocked i-k-j order: the inner loop streams rows of B and C and vectorizes.
  constexpr int64_t KB = 256, NB = 512;
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    const int64_t k1 = std::min(k, k0 + KB);
    for (int64_t n0 = 0; n0 < n; n0 += NB) {
      const int64_t n1 = std::min(n, n0 + NB);
      for (int64_t i = 0; i < m; ++i) {
        float* ci = c + i * n;
        for (int64_t p = k0; p < k1; ++p) {
          const float aip = a[i * k + p];
          const float* bp = b + p * n;
          for (int64_t j = n0; j < n1; ++j) ci[j] += aip * bp[j];
        }
      }
    }
  }
}

void sum_f32(const float* in, const int64_t* shape, int ndim, const bool* reduce, float* out) {
  int64_t total = 1, out_total = 1;
  for (int d = 0; d < ndim; ++d) {
    total *= shape[d];
    if (!reduce[d]) out_total *= shape[d];
  }
  std::fill(out, out + out_total, 0.f);
  if (total == 0) return;
  // Stride of each input dimension in the output (0 for reduced dimensions).
  std::vector<int64_t> ostride(ndim, 0), idx(ndim, 0);
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; --d)
    if (!reduce[d]) {
      ostride[d] = s;
      s *= shape[d];
    }
  const int64_t inner = ndim ? shape[ndim - 1] : 1;
  const bool inner_reduced = ndim && reduce[ndim - 1];
  for (int64_t base = 0; base < total; base += inner) {
    int64_t o = 0;
    for (int d = 0; d < ndim - 1; ++d) o += idx[d] * ostride[d];
    const float* p = in + base;
    if (inner_reduced) {
      float acc = 0.f;
      for (int64_t i = 0; i < inner; ++i) acc += p[i];
      out[o] += acc;
    } else {
      for (int64_t i = 0; i < inner; ++i) out[o + i] += p[i];
    }
    for (int d = ndim - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

} // namespace ember::kernels
