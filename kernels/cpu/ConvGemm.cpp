// Convolution as an implicit GEMM: the GEMM's A operand is read straight from the (padded) image
// at base + row offset + ko[k] (row offsets in lines of evenly spaced rows), so no columns are
// ever written. The
// forward, the weight gradient and (stride 1) the input gradient are each one such product.
#include "ember/kernels/Conv.h"

#include "ember/kernels/Elementwise.h"

#include "Simd.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace ember::kernels {

namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
using namespace simd;

// The GEMM's rows, m = line * width + x, sit at base + start[line] + x * step: an output row's
// positions, a row of window taps, an image row.
struct Lines {
  const int64_t* start;
  int64_t count, width, step;
};

// C[r][0:8*NV) += sum_p row[r][ko[p]] * B[p][0:8*NV) for r < R (C rows 8*NV apart). Each row's
// base pointer sits in a register, so every A element is one broadcast load (base + index)
// wherever the tile's rows lie: tiles run across lines, never a short one at a line's end.
template <int R, int NV>
__attribute__((always_inline)) inline void tile(const float* const* row, const int64_t* ko,
                                                int64_t kc, const float* b, float* c) {
  v8f acc[R][NV] = {};
  const float* ptr[R];
  for (int r = 0; r < R; ++r) ptr[r] = row[r];
  for (int64_t p = 0; p < kc; ++p) {
    const int64_t k = ko[p];
    v8f bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load8(b + p * 8 * NV + v * 8);
    for (int r = 0; r < R; ++r) {
      const float av = ptr[r][k];
      for (int v = 0; v < NV; ++v) acc[r][v] += av * bv[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v)
      store8(c + r * 8 * NV + v * 8, load8(c + r * 8 * NV + v * 8) + acc[r][v]);
}

// A tile of `rows` (<= the full height) rows: one instantiation per height.
template <int R, int NV>
__attribute__((always_inline)) inline void tile_rows(int rows, const float* const* row,
                                                     const int64_t* ko, int64_t kc,
                                                     const float* b, float* c) {
  if constexpr (R > 1) {
    if (rows < R) return tile_rows<R - 1, NV>(rows, row, ko, kc, b, c);
  }
  tile<R, NV>(row, ko, kc, b, c);
}

// Rows per tile: 12 accumulators (6 x 2 vectors, or 8 x 1 vector: more row pointers than
// that spill).
template <int NV>
constexpr int kTileRows = NV == 2 ? 6 : 8;

// C [lines.count * lines.width][8*NV] += A @ B with A[m][p] = base[start[line] + x * step +
// ko[p]] for m = line * width + x, over the rows [m_begin, m_end) only (C rows at their own
// index), B packed [k][8*NV]. K is blocked so a block of B stays in L1.
template <int NV>
__attribute__((always_inline)) inline void implicit_gemm(const float* base, const Lines& rows,
                                                         int64_t m_begin, int64_t m,
                                                         const int64_t* ko, int64_t k,
                                                         const float* b, float* c) {
  constexpr int R = kTileRows<NV>;
  constexpr int64_t KB = 256;
  const float* row[R];
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    const int64_t kc = std::min(KB, k - k0);
    int64_t l = m_begin / rows.width, x = m_begin % rows.width; // the line and position of m0
    for (int64_t m0 = m_begin; m0 < m; m0 += R) {
      const int n = static_cast<int>(std::min<int64_t>(R, m - m0));
      for (int r = 0; r < n; ++r) {
        row[r] = base + rows.start[l] + x * rows.step;
        if (++x == rows.width) {
          x = 0;
          ++l;
        }
      }
      tile_rows<R, NV>(n, row, ko + k0, kc, b + k0 * 8 * NV, c + m0 * 8 * NV);
    }
  }
}

// out[l * ld + i] = acc[i * pw + l] for lanes l < lanes and rows i < m: a [m, pw] tile
// (positions x channels) stored channel-major, through 8x8 register transposes.
__attribute__((always_inline)) inline void store_transposed(const float* acc, int64_t m,
                                                            int64_t pw, int64_t lanes, float* out,
                                                            int64_t ld) {
  alignas(32) float tmp[64];
  const int64_t m8 = m / 8 * 8;
  for (int64_t v = 0; v * 8 < lanes; ++v) {
    const int64_t nl = std::min<int64_t>(8, lanes - v * 8);
    float* dst = out + v * 8 * ld;
    for (int64_t i = 0; i < m8; i += 8) {
      if (nl == 8) {
        transpose8x8(acc + i * pw + v * 8, pw, dst + i, ld);
        continue;
      }
      transpose8x8(acc + i * pw + v * 8, pw, tmp, 8);
      for (int64_t l = 0; l < nl; ++l) store8(dst + l * ld + i, load8(tmp + l * 8));
    }
    for (int64_t l = 0; l < nl; ++l)
      for (int64_t i = m8; i < m; ++i) dst[l * ld + i] = acc[i * pw + v * 8 + l];
  }
}

// The inverse: tile[i * pw + l] = src[l * ld + i] for i < m, zeros in lanes l >= lanes.
__attribute__((always_inline)) inline void load_transposed(const float* src, int64_t ld,
                                                           int64_t m, int64_t lanes, int64_t pw,
                                                           float* tile) {
  alignas(32) float tmp[64];
  const int64_t m8 = m / 8 * 8;
  for (int64_t v = 0; v * 8 < pw; ++v) {
    const int64_t nl = std::clamp<int64_t>(lanes - v * 8, 0, 8);
    const float* s = src + v * 8 * ld;
    for (int64_t i = 0; i < m8; i += 8) {
      if (nl == 8) {
        transpose8x8(s + i, ld, tile + i * pw + v * 8, pw);
        continue;
      }
      for (int64_t l = 0; l < 8; ++l) store8(tmp + l * 8, l < nl ? load8(s + l * ld + i) : v8f{});
      transpose8x8(tmp, 8, tile + i * pw + v * 8, pw);
    }
    for (int64_t i = m8; i < m; ++i)
      for (int64_t l = 0; l < 8; ++l) tile[i * pw + v * 8 + l] = l < nl ? s[l * ld + i] : 0.0f;
  }
}

// One copy of the kernels per instruction set, chosen at load time.
struct Isa {
  void (*gemm)(const float* base, const Lines& rows, int64_t m_begin, int64_t m_end,
               const int64_t* ko, int64_t k, const float* b, float* c, int nv);
  void (*store_t)(const float* acc, int64_t m, int64_t pw, int64_t lanes, float* out, int64_t ld);
  void (*load_t)(const float* src, int64_t ld, int64_t m, int64_t lanes, int64_t pw, float* tile);
};
#define EMBER_CONV_ISA(name, attr)                                                              \
  attr void name##_gemm(const float* base, const Lines& rows, int64_t m_begin, int64_t m_end,   \
                        const int64_t* ko, int64_t k, const float* b, float* c, int nv) {        \
    if (nv == 2) implicit_gemm<2>(base, rows, m_begin, m_end, ko, k, b, c);                     \
    else implicit_gemm<1>(base, rows, m_begin, m_end, ko, k, b, c);                             \
  }                                                                                             \
  attr void name##_store(const float* acc, int64_t m, int64_t pw, int64_t lanes, float* out,     \
                         int64_t ld) {                                                          \
    store_transposed(acc, m, pw, lanes, out, ld);                                               \
  }                                                                                             \
  attr void name##_load(const float* src, int64_t ld, int64_t m, int64_t lanes, int64_t pw,      \
                        float* tile) {                                                          \
    load_transposed(src, ld, m, lanes, pw, tile);                                               \
  }
EMBER_CONV_ISA(avx2, __attribute__((target("avx2,fma"))))
EMBER_CONV_ISA(generic, )
#undef EMBER_CONV_ISA

Isa pick() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {avx2_gemm, avx2_store, avx2_load};
  return {generic_gemm, generic_store, generic_load};
}

// Forward GEMM rows per group of small images (see conv2d_forward_f32).
constexpr int64_t kGroupRows = 512;

// Panel width (in 8-float vectors) for n output columns: one vector when 8 are enough.
int nv_for(int64_t n) { return n <= 8 ? 1 : 2; }

// Runs body(image, slot) for every image: with at least two threads and two images, `slots`
// contiguous runs of images go to the pool (each slot one run, so whatever a slot accumulates is
// the same for the same thread count) and kernels inside run serially; otherwise the images run
// here in turn.
template <typename Body>
int64_t for_each_image(int64_t n, const Body& body) {
  const int64_t slots = std::min<int64_t>(get_num_threads(), n);
  if (slots <= 1) {
    for (int64_t b = 0; b < n; ++b) body(b, 0);
    return 1;
  }
  parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t b = s * n / slots; b < (s + 1) * n / slots; ++b) body(b, s);
  });
  return slots;
}

// Runs body(first, last, slot) over runs of at most `group` consecutive images, each slot's
// images (as for_each_image assigns them) in order.
template <typename Body>
void for_each_group(int64_t n, int64_t group, const Body& body) {
  const int64_t slots = std::min<int64_t>(get_num_threads(), n);
  auto run = [&](int64_t b0, int64_t b1, int64_t slot) {
    for (int64_t b = b0; b < b1; b += group) body(b, std::min(b1, b + group), slot);
  };
  if (slots <= 1) return run(0, n, 0);
  parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) run(s * n / slots, (s + 1) * n / slots, s);
  });
}

// The padded image geometry: every window of every output position lies inside it.
struct Padded {
  int64_t hp, wp;
  bool needed; // false: the image itself serves
};
Padded padded(const Window2d& g) {
  const int64_t hp = std::max(g.h + g.pt, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1);
  const int64_t wp = std::max(g.w + g.pl, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1);
  return {hp, wp, g.pt || g.pl || hp != g.h || wp != g.w};
}

// img [c, h, w] into dst [c, hp, wp] at (top, left), zeros around it.
void pad_image(const float* img, float* dst, int64_t c, int64_t h, int64_t w, int64_t hp,
               int64_t wp, int64_t top, int64_t left) {
  std::memset(dst, 0, sizeof(float) * c * hp * wp);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(dst + (ch * hp + y + top) * wp + left, img + (ch * h + y) * w, sizeof(float) * w);
}

// Offsets of the output positions (y, x) and of the window taps (c, i, j) in a padded image
// (the GEMM's k index, in the weight gradient and the forward).
std::vector<int64_t> position_offsets(const Window2d& g, int64_t wp) {
  std::vector<int64_t> v;
  v.reserve(g.oh * g.ow);
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) v.push_back(y * g.sh * wp + x * g.sw);
  return v;
}
std::vector<int64_t> tap_offsets(const Window2d& g, int64_t c, int64_t hp, int64_t wp) {
  std::vector<int64_t> v;
  v.reserve(c * g.kh * g.kw);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) v.push_back(ch * hp * wp + i * g.dh * wp + j * g.dw);
  return v;
}

// The GEMM rows as lines: their starts (kept alive here) and the shape.
struct LineTable {
  std::vector<int64_t> start;
  int64_t width = 0, step = 1;
  Lines lines() const { return {start.data(), static_cast<int64_t>(start.size()), width, step}; }
  int64_t rows() const { return static_cast<int64_t>(start.size()) * width; }
};
// Output positions (y, x): one line per output row.
LineTable position_lines(const Window2d& g, int64_t wp) {
  LineTable t{{}, g.ow, g.sw};
  for (int64_t y = 0; y < g.oh; ++y) t.start.push_back(y * g.sh * wp);
  return t;
}
// Window taps (c, i, j): one line per (c, i).
LineTable tap_lines(const Window2d& g, int64_t c, int64_t hp, int64_t wp) {
  LineTable t{{}, g.kw, g.dw};
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < g.kh; ++i) t.start.push_back(ch * hp * wp + i * g.dh * wp);
  return t;
}

const Isa isa = pick();

} // namespace

void conv2d_forward_f32(const float* x, const float* w, const float* bias, float* y, int64_t n,
                        int64_t c, int64_t o, const Window2d& g) {
  const int64_t ckk = c * g.kh * g.kw, len = g.oh * g.ow;
  const Padded pd = padded(g);
  const int nv = nv_for(o);
  const int64_t pw = 8 * nv, panels = (o + pw - 1) / pw;
  // B: the weight transposed, [panel][ckk][pw] (zero lanes past o).
  std::vector<float> wt(panels * ckk * pw, 0.0f);
  for (int64_t oc = 0; oc < o; ++oc)
    for (int64_t k = 0; k < ckk; ++k) wt[(oc / pw * ckk + k) * pw + oc % pw] = w[oc * ckk + k];
  const std::vector<int64_t> ko = tap_offsets(g, c, pd.hp, pd.wp);
  std::vector<float> start(panels * pw, 0.0f); // each panel row's starting value: the bias
  if (bias) std::copy(bias, bias + o, start.begin());
  const int64_t slots = std::min<int64_t>(get_num_threads(), std::max<int64_t>(n, 1));
  // Fewer images than threads: the threads split each image's positions instead.
  const int64_t parts = n < get_num_threads() && len >= 64 ? get_num_threads() : 1;
  // Small images go through the GEMM several at a time (their positions one run of rows), so
  // that tiles run on across images: ResNet's 7x7 maps have 49 positions, 8 tiles of 6 and a
  // tile of 1 that cost two thirds of a full one.
  const int64_t group = parts == 1 ? std::clamp<int64_t>(kGroupRows / std::max<int64_t>(len, 1), 1,
                                                         (n + slots - 1) / slots)
                                   : 1;
  const int64_t plane = c * pd.hp * pd.wp; // an image in the GEMM's base (padded or not)
  LineTable rows{{}, g.ow, g.sw};           // output rows of `group` images
  for (int64_t i = 0; i < group; ++i)
    for (int64_t yy = 0; yy < g.oh; ++yy) rows.start.push_back(i * plane + yy * g.sh * pd.wp);
  const int64_t mr = group * len, slot_floats = mr * pw + (pd.needed ? group * plane : 0);
  std::vector<float> scratch(slots * slot_floats);
  for_each_group(n, group, [&](int64_t b0, int64_t b1, int64_t slot) {
    float* acc = scratch.data() + slot * slot_floats;
    const float* base = x + b0 * c * g.h * g.w;
    if (pd.needed) {
      for (int64_t b = b0; b < b1; ++b)
        pad_image(x + b * c * g.h * g.w, acc + mr * pw + (b - b0) * plane, c, g.h, g.w, pd.hp, pd.wp,
                  g.pt, g.pl);
      base = acc + mr * pw;
    }
    const int64_t m = (b1 - b0) * len;
    auto positions = [&](int64_t m0, int64_t m1) {
      for (int64_t q = 0; q < panels; ++q) {
        for (int64_t i = m0; i < m1; ++i)
          for (int64_t v = 0; v < pw; v += 8)
            store8(acc + i * pw + v, load8(start.data() + q * pw + v));
        isa.gemm(base, rows.lines(), m0, m1, ko.data(), ckk, wt.data() + q * ckk * pw, acc, nv);
        // Back to each image's [o, len] layout.
        for (int64_t i = m0; i < m1;) {
          const int64_t b = b0 + i / len, e = std::min(m1, (i / len + 1) * len);
          isa.store_t(acc + i * pw, e - i, pw, std::min(pw, o - q * pw), y + (b * o + q * pw) * len + i % len,
                      len);
          i = e;
        }
      }
    };
    if (parts == 1) return positions(0, m);
    parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) positions(p * m / parts, (p + 1) * m / parts);
    });
  });
}

void conv2d_backward_f32(const float* x, const float* w, const float* dy, float* dx, float* dw,
                         float* db, int64_t n, int64_t c, int64_t o, const Window2d& g) {
  const int64_t ckk = c * g.kh * g.kw, len = g.oh * g.ow, plane = c * g.h * g.w;
  const int64_t slots = std::min<int64_t>(get_num_threads(), std::max<int64_t>(n, 1));
  const Padded pd = padded(g);

  // Weight gradient, transposed: dw^T [ckk, o] += A @ dy_b^T with A[(c,i,j)][(y,x)] the image
  // under tap (c,i,j) at output position (y,x); per slot, summed in slot order at the end.
  const int nvw = nv_for(o);
  const int64_t pww = 8 * nvw, panw = (o + pww - 1) / pww;
  const LineTable wrows = tap_lines(g, c, pd.hp, pd.wp);
  const std::vector<int64_t> wko = position_offsets(g, pd.wp);
  const int64_t wm = ckk;

  // Input gradient (stride 1, dilation 1): dx^T [(y,x), c] = A @ B with A[(y,x)][(o,i',j')] =
  // dy padded by k-1 on every side at (o, y+pt+i', x+pl+j') and B[(o,i',j')][c] the weight
  // flipped: w[o, c, kh-1-i', kw-1-j']. Other strides and dilations scatter the columns of
  // w^T @ dy_b back (col2im).
  const bool direct_dx = dx && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1;
  const int nvx = nv_for(c);
  const int64_t pwx = 8 * nvx, panx = (c + pwx - 1) / pwx;
  const int64_t hq = g.oh + 2 * (g.kh - 1), wq = g.ow + 2 * (g.kw - 1), okk = o * g.kh * g.kw;
  std::vector<float> wflip;
  LineTable xrows{{}, g.w, 1}; // input pixels, one line per image row
  std::vector<int64_t> xko;
  if (direct_dx) {
    wflip.assign(panx * okk * pwx, 0.0f);
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            wflip[(ch / pwx * okk + (oc * g.kh + i) * g.kw + j) * pwx + ch % pwx] =
                w[((oc * c + ch) * g.kh + (g.kh - 1 - i)) * g.kw + (g.kw - 1 - j)];
    for (int64_t y = 0; y < g.h; ++y) xrows.start.push_back((y + g.pt) * wq + g.pl);
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) xko.push_back(oc * hq * wq + i * wq + j);
  }
  const int64_t xm = g.h * g.w;

  // Per-slot scratch: padded image, dy^T panels, dw^T accumulators, padded dy, dx^T, columns.
  const int64_t s_img = pd.needed ? c * pd.hp * pd.wp : 0, s_dyt = dw ? len * pww : 0;
  const int64_t s_dw = dw ? panw * wm * pww : 0;
  const int64_t s_dyp = direct_dx ? o * hq * wq : 0, s_dxt = direct_dx ? xm * pwx : 0;
  const int64_t s_cols = dx && !direct_dx ? ckk * len : 0;
  const int64_t per_slot = s_img + s_dyt + s_dw + s_dyp + s_dxt + s_cols;
  std::vector<float> scratch(slots * per_slot, 0.0f);
  std::vector<double> db_part(db ? slots * o : 0, 0.0);

  const int64_t used = for_each_image(n, [&](int64_t b, int64_t slot) {
    float* img = scratch.data() + slot * per_slot;
    float* dyt = img + s_img;
    float* dwt = dyt + s_dyt;
    float* dyp = dwt + s_dw;
    float* dxt = dyp + s_dyp;
    float* cols = dxt + s_dxt;
    const float* g_b = dy + b * o * len;
    if (db)
      for (int64_t r = 0; r < o; ++r) {
        double s = 0;
        for (int64_t i = 0; i < len; ++i) s += g_b[r * len + i];
        db_part[slot * o + r] += s;
      }
    if (dw) {
      const float* base = x + b * plane;
      if (pd.needed) {
        pad_image(base, img, c, g.h, g.w, pd.hp, pd.wp, g.pt, g.pl);
        base = img;
      }
      for (int64_t q = 0; q < panw; ++q) {
        isa.load_t(g_b + q * pww * len, len, len, o - q * pww, pww, dyt);
        isa.gemm(base, wrows.lines(), 0, wm, wko.data(), len, dyt, dwt + q * wm * pww, nvw);
      }
    }
    if (direct_dx) {
      pad_image(g_b, dyp, o, g.oh, g.ow, hq, wq, g.kh - 1, g.kw - 1);
      float* out = dx + b * plane;
      for (int64_t q = 0; q < panx; ++q) {
        std::fill(dxt, dxt + xm * pwx, 0.0f);
        isa.gemm(dyp, xrows.lines(), 0, xm, xko.data(), okk, wflip.data() + q * okk * pwx, dxt, nvx);
        isa.store_t(dxt, g.h * g.w, pwx, std::min(pwx, c - q * pwx), out + q * pwx * g.h * g.w,
                         g.h * g.w);
      }
    } else if (dx) {
      std::fill(cols, cols + ckk * len, 0.0f);
      matmul_acc_f32_strided(w, 1, ckk, g_b, false, len, cols, ckk, o, len);
      col2im(cols, dx + b * plane, 1, c, g);
    }
  });
  if (dw)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t k = 0; k < ckk; ++k) {
        const int64_t at = (oc / pww * wm + k) * pww + oc % pww;
        float s = scratch[s_img + s_dyt + at];
        for (int64_t t = 1; t < used; ++t) s += scratch[t * per_slot + s_img + s_dyt + at];
        dw[oc * ckk + k] = s;
      }
  if (db)
    for (int64_t r = 0; r < o; ++r) {
      double s = 0;
      for (int64_t t = 0; t < used; ++t) s += db_part[t * o + r];
      db[r] = static_cast<float>(s);
    }
}

#pragma GCC diagnostic pop

} // namespace ember::kernels
