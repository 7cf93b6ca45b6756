#include "ember/kernels/Conv.h"

#include "ember/kernels/Elementwise.h"

#include <algorithm>
#include <cstring>
#include <limits>
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

namespace {
// Each output row's (or column's) first in-image window index and its end: PyTorch's clamping.
std::vector<std::pair<int64_t, int64_t>> window_ranges(int64_t count, int64_t s, int64_t pad,
                                                       int64_t k, int64_t d, int64_t size) {
  std::vector<std::pair<int64_t, int64_t>> r(count);
  for (int64_t o = 0; o < count; ++o) {
    int64_t lo = o * s - pad;
    const int64_t hi = std::min(lo + (k - 1) * d + 1, size);
    while (lo < 0) lo += d;
    r[o] = {lo, hi};
  }
  return r;
}

// Calls f(planes p0..p1, scan) on the thread pool, where scan(p, visit) calls visit(o, best, m)
// for each window o of plane p: m its maximum and best its flat h*w position, PyTorch's pick
// (the first maximum in scan order, a NaN always; a window of -inf points at its first position).
// `extra` is work per plane besides the scan (the gradient's zeroing), for the grain.
template <typename F>
void for_window_maxima(const float* x, int64_t planes, const Window2d& g, int64_t extra, F f) {
  const auto ry = window_ranges(g.oh, g.sh, g.pt, g.kh, g.dh, g.h);
  const auto rx = window_ranges(g.ow, g.sw, g.pl, g.kw, g.dw, g.w);
  auto scan = [&](int64_t p, auto&& visit) {
    const float* in = x + p * g.h * g.w;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const auto [y0, y1] = ry[oy];
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const auto [x0, x1] = rx[ox];
        // Branch-free: a compare per element mispredicts half the time on real data. The
        // strict > keeps the first maximum; a NaN (the last one met) overrides at the end.
        int64_t best = y0 * g.w + x0, nan_at = -1;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t iy = y0; iy < y1; iy += g.dh)
          for (int64_t ix = x0; ix < x1; ix += g.dw) {
            const int64_t pos = iy * g.w + ix;
            const float v = in[pos];
            const bool gt = v > m;
            best = gt ? pos : best;
            m = gt ? v : m;
            nan_at = v != v ? pos : nan_at;
          }
        if (nan_at >= 0) {
          best = nan_at;
          m = in[nan_at];
        }
        visit(oy * g.ow + ox, best, m);
      }
    }
  };
  const int64_t work = g.oh * g.ow * g.kh * g.kw + extra;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work));
  parallel_for(planes, grain, [&](int64_t p0, int64_t p1) { f(p0, p1, scan); });
}

// Max pooling values tap by tap: for one output row, each window tap (row iy, column tap j) is
// one pass over the row's windows, so the loops over the windows vectorize. A window's taps
// come in for_window_maxima's order, so its value is the same (NaN when it holds one).
class PoolRows {
 public:
  explicit PoolRows(const Window2d& g)
      : g_(g), ry_(window_ranges(g.oh, g.sh, g.pt, g.kh, g.dh, g.h)), taps_(g.kw) {
    for (int64_t j = 0; j < g.kw; ++j)
      valid_range(j * g.dw, g.sw, g.pl, g.w, g.ow, taps_[j].first, taps_[j].second);
  }

  // m[0, ow): the maxima of output row oy of the plane `in`.
  void row(const float* in, int64_t oy, float* m) const {
    const Window2d& g = g_;
    const auto [y0, y1] = ry_[oy];
    std::fill(m, m + g.ow, -std::numeric_limits<float>::infinity());
    for (int64_t iy = y0; iy < y1; iy += g.dh) {
      const float* r = in + iy * g.w;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t lo = taps_[j].first, hi = taps_[j].second, off = j * g.dw - g.pl, sw = g.sw;
        for (int64_t ox = lo; ox < hi; ++ox) {
          const float v = r[ox * sw + off];
          m[ox] = (v > m[ox] || v != v) ? v : m[ox];
        }
      }
    }
  }

 private:
  const Window2d& g_;
  std::vector<std::pair<int64_t, int64_t>> ry_, taps_;
};
} // namespace

void max_pool2d_f32(const float* x, float* y, int64_t* idx, int64_t planes, const Window2d& g) {
  const int64_t len = g.oh * g.ow;
  if (!idx) { // values only: tap by tap
    const PoolRows rows(g);
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, len * g.kh * g.kw));
    parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t oy = 0; oy < g.oh; ++oy)
          rows.row(x + p * g.h * g.w, oy, y + p * len + oy * g.ow);
    });
    return;
  }
  for_window_maxima(x, planes, g, 0, [&](int64_t p0, int64_t p1, auto& scan) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = y + p * len;
      int64_t* at = idx + p * len;
      scan(p, [&](int64_t o, int64_t best, float m) { out[o] = m, at[o] = best; });
    }
  });
}

void max_pool2d_backward_f32(const float* dy, const int64_t* idx, float* dx, int64_t planes,
                             const Window2d& g) {
  const int64_t len = g.oh * g.ow, plane = g.h * g.w;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, plane));
  parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
    std::memset(dx + p0 * plane, 0, sizeof(float) * (p1 - p0) * plane);
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t i = 0; i < len; ++i) dx[p * plane + idx[p * len + i]] += dy[p * len + i];
  });
}

void max_pool2d_backward_from_input_f32(const float* x, const float* dy, float* dx,
                                        int64_t planes, const Window2d& g) {
  const int64_t len = g.oh * g.ow, plane = g.h * g.w;
  for_window_maxima(x, planes, g, plane, [&](int64_t p0, int64_t p1, auto& scan) {
    std::memset(dx + p0 * plane, 0, sizeof(float) * (p1 - p0) * plane);
    for (int64_t p = p0; p < p1; ++p) {
      float* d = dx + p * plane;
      const float* gy = dy + p * len;
      scan(p, [&](int64_t o, int64_t best, float) { d[best] += gy[o]; });
    }
  });
}

template void im2col<float>(const float*, float*, int64_t, int64_t, const Window2d&, float);
template void im2col<double>(const double*, double*, int64_t, int64_t, const Window2d&, double);
template void col2im<float>(const float*, float*, int64_t, int64_t, const Window2d&);
template void col2im<double>(const double*, double*, int64_t, int64_t, const Window2d&);

} // namespace ember::kernels
