#include "ember/kernels/Conv.h"

#include "ember/kernels/Elementwise.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace ember::kernels {

namespace {
// The output columns x in [lo, hi) whose input column x*sw - pl + off lies in [0, w).
inline void valid_range(int64_t off, int64_t sw, int64_t pl, int64_t w, int64_t ow, int64_t& lo,
                        int64_t& hi) {
  // x*sw >= pl - off  and  x*sw < w + pl - off
  const int64_t a = pl - off, b = w + pl - off;
  lo = a <= 0 ? 0 : (a + sw - 1) / sw;
  hi = b <= 0 ? 0 : (b + sw - 1) / sw;
  lo = std::min(lo, ow);
  hi = std::clamp(hi, lo, ow);
}

// dst[0:len) = src[0:len) for the short rows of a window (a LeNet row is 10 floats): 32-byte
// moves, the last one overlapping, instead of a memcpy call or a loop with a scalar tail.
template <typename T>
inline void copy_short(T* dst, const T* src, int64_t len) {
  constexpr int64_t V = 32 / sizeof(T);
  if (len < V) {
    for (int64_t x = 0; x < len; ++x) dst[x] = src[x];
    return;
  }
  int64_t x = 0;
  for (; x + V <= len; x += V) __builtin_memcpy(dst + x, src + x, 32);
  if (x < len) __builtin_memcpy(dst + len - V, src + len - V, 32);
}
} // namespace

template <typename T>
void im2col(const T* img, T* cols, int64_t n, int64_t c, const Window2d& g, T fill) {
  const int64_t rows = c * g.kh * g.kw, plane = g.h * g.w, len = n * g.oh * g.ow;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, len));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t ch = r / (g.kh * g.kw), i = r / g.kw % g.kh, j = r % g.kw;
      int64_t lo, hi;
      valid_range(j * g.dw, g.sw, g.pl, g.w, g.ow, lo, hi);
      T* out = cols + r * len;
      for (int64_t b = 0; b < n; ++b) {
        const T* src = img + (b * c + ch) * plane;
        for (int64_t y = 0; y < g.oh; ++y, out += g.ow) {
          const int64_t iy = y * g.sh - g.pt + i * g.dh;
          if (iy < 0 || iy >= g.h) {
            std::fill(out, out + g.ow, fill);
            continue;
          }
          const T* row = src + iy * g.w + j * g.dw - g.pl;
          std::fill(out, out + lo, fill);
          if (g.sw == 1) copy_short(out + lo, row + lo, hi - lo);
          else for (int64_t x = lo; x < hi; ++x) out[x] = row[x * g.sw];
          std::fill(out + hi, out + g.ow, fill);
        }
      }
    }
  });
}

template <typename T>
void col2im(const T* cols, T* img, int64_t n, int64_t c, const Window2d& g) {
  const int64_t plane = g.h * g.w, len = n * g.oh * g.ow, kk = g.kh * g.kw;
  std::memset(img, 0, sizeof(T) * n * c * plane);
  // Each (image, channel) plane gathers from its own kh*kw rows: no two chunks write alike.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, kk * g.oh * g.ow));
  parallel_for(n * c, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t b = p / c, ch = p % c;
      T* dst = img + p * plane;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          int64_t lo, hi;
          valid_range(j * g.dw, g.sw, g.pl, g.w, g.ow, lo, hi);
          const T* in = cols + (ch * kk + i * g.kw + j) * len + b * g.oh * g.ow;
          for (int64_t y = 0; y < g.oh; ++y, in += g.ow) {
            const int64_t iy = y * g.sh - g.pt + i * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            T* row = dst + iy * g.w + j * g.dw - g.pl;
            if (g.sw == 1) for (int64_t x = lo; x < hi; ++x) row[x] += in[x];
            else for (int64_t x = lo; x < hi; ++x) row[x * g.sw] += in[x];
          }
        }
    }
  });
}

template void im2col<float>(const float*, float*, int64_t, int64_t, const Window2d&, float);
template void im2col<double>(const double*, double*, int64_t, int64_t, const Window2d&, double);
template void col2im<float>(const float*, float*, int64_t, int64_t, const Window2d&);
template void col2im<double>(const double*, double*, int64_t, int64_t, const Window2d&);

} // namespace ember::kernels
