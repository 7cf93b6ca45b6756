// ember.im2col / ember.col2im, the convolution and the max pooling ops at run time: ember's threaded CPU kernels
// behind MLIR's C interface (what ember-window-to-runtime-call emits calls to). Buffers that are not row-major
// go through a row-major copy.
#include "ember/compiler/RuntimeABI.h"

#include "ember/kernels/Conv.h"

#include <vector>

using ember::compiler::abi::MemRef;

namespace {

template <int N>
bool rowMajor(const MemRef<N>* m) {
  int64_t expect = 1;
  for (int i = N - 1; i >= 0; --i) {
    if (m->sizes[i] != 1 && m->strides[i] != expect) return false;
    expect *= m->sizes[i];
  }
  return true;
}

template <int N>
int64_t numel(const MemRef<N>* m) {
  int64_t n = 1;
  for (int i = 0; i < N; ++i) n *= m->sizes[i];
  return n;
}

// Visits every element of `m` in row-major order with its offset from `m`'s base.
template <int N, typename F>
void forEach(const MemRef<N>* m, F f) {
  const int64_t total = numel(m);
  int64_t idx[N] = {};
  for (int64_t k = 0; k < total; ++k) {
    int64_t off = m->offset;
    for (int i = 0; i < N; ++i) off += idx[i] * m->strides[i];
    f(k, off);
    for (int i = N - 1; i >= 0; --i) {
      if (++idx[i] < m->sizes[i]) break;
      idx[i] = 0;
    }
  }
}

// The input as a row-major array: the buffer itself, or a packed copy in `keep`.
template <int N>
const float* packed(const MemRef<N>* m, std::vector<float>& keep) {
  if (rowMajor(m)) return m->aligned + m->offset;
  keep.resize(numel(m));
  forEach(m, [&](int64_t k, int64_t off) { keep[k] = m->aligned[off]; });
  return keep.data();
}

// Runs `kernel(out)` into `m` directly, or into a row-major scratch copied out after.
template <int N, typename F>
void intoOutput(MemRef<N>* m, F kernel) {
  if (rowMajor(m)) return kernel(m->aligned + m->offset);
  std::vector<float> tmp(numel(m));
  kernel(tmp.data());
  forEach(m, [&](int64_t k, int64_t off) { m->aligned[off] = tmp[k]; });
}

ember::kernels::Window2d geometry(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                  int64_t pl, int64_t dh, int64_t dw, int64_t oh, int64_t ow,
                                  const MemRef<4>* image) {
  return {kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, image->sizes[2], image->sizes[3]};
}

} // namespace

extern "C" void _mlir_ciface_ember_cpu_im2col_f32(MemRef<4>* image, MemRef<2>* cols, int64_t kh,
                                                  int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                                  int64_t pl, int64_t dh, int64_t dw, int64_t oh,
                                                  int64_t ow, float fill) {
  if (numel(cols) == 0) return;
  const auto g = geometry(kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, image);
  std::vector<float> keep;
  const float* img = packed(image, keep);
  intoOutput(cols, [&](float* out) {
    ember::kernels::im2col(img, out, image->sizes[0], image->sizes[1], g, fill);
  });
}

extern "C" void _mlir_ciface_ember_cpu_col2im_f32(MemRef<2>* cols, MemRef<4>* image, int64_t kh,
                                                  int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                                  int64_t pl, int64_t dh, int64_t dw, int64_t oh,
                                                  int64_t ow) {
  if (numel(image) == 0) return;
  const auto g = geometry(kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, image);
  std::vector<float> keep;
  const float* in = packed(cols, keep);
  intoOutput(image, [&](float* out) {
    ember::kernels::col2im(in, out, image->sizes[0], image->sizes[1], g);
  });
}

// The convolution ops: inputs packed row-major if they are not, the output written row-major
// (directly, or through a scratch copied out); `image` carries the image size of the geometry.
template <int A, int B, int C, typename F>
void convCall(MemRef<A>* lhs, MemRef<B>* rhs, MemRef<C>* out, const MemRef<4>* image,
              const int64_t (&geo)[10], F kernel) {
  if (numel(out) == 0) return;
  const auto g = geometry(geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6], geo[7], geo[8],
                          geo[9], image);
  std::vector<float> keepL, keepR;
  const float* l = packed(lhs, keepL);
  const float* r = packed(rhs, keepR);
  intoOutput(out, [&](float* o) { kernel(l, r, o, g); });
}

#define EMBER_GEOMETRY_PARAMS                                                                   \
  int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh,           \
      int64_t dw, int64_t oh, int64_t ow
#define EMBER_GEOMETRY {kh, kw, sh, sw, pt, pl, dh, dw, oh, ow}

extern "C" void _mlir_ciface_ember_cpu_conv2d_f32(MemRef<4>* x, MemRef<2>* w, MemRef<4>* y,
                                                  EMBER_GEOMETRY_PARAMS) {
  convCall(x, w, y, x, EMBER_GEOMETRY, [&](const float* xp, const float* wp, float* out,
                                           const ember::kernels::Window2d& g) {
    ember::kernels::conv2d_forward_f32(xp, wp, nullptr, out, x->sizes[0], x->sizes[1],
                                       w->sizes[0], g);
  });
}

extern "C" void _mlir_ciface_ember_cpu_conv2d_weight_grad_f32(MemRef<4>* x, MemRef<4>* gy,
                                                              MemRef<2>* dwt,
                                                              EMBER_GEOMETRY_PARAMS) {
  convCall(x, gy, dwt, x, EMBER_GEOMETRY, [&](const float* xp, const float* gp, float* out,
                                              const ember::kernels::Window2d& g) {
    ember::kernels::conv2d_backward_f32(xp, nullptr, gp, nullptr, out, nullptr, x->sizes[0],
                                        x->sizes[1], dwt->sizes[0], g);
  });
}

extern "C" void _mlir_ciface_ember_cpu_conv2d_input_grad_f32(MemRef<4>* gy, MemRef<2>* w,
                                                             MemRef<4>* dx,
                                                             EMBER_GEOMETRY_PARAMS) {
  convCall(gy, w, dx, dx, EMBER_GEOMETRY, [&](const float* gp, const float* wp, float* out,
                                              const ember::kernels::Window2d& g) {
    ember::kernels::conv2d_backward_f32(nullptr, wp, gp, out, nullptr, nullptr, dx->sizes[0],
                                        dx->sizes[1], w->sizes[0], g);
  });
}

// Max pooling of every [H, W] plane of x [N, C, H, W] (PyTorch's pick: the first maximum, a
// NaN always), and its gradient, which finds each window's pick again in x (no indices).
extern "C" void _mlir_ciface_ember_cpu_max_pool2d_f32(MemRef<4>* x, MemRef<4>* y,
                                                      EMBER_GEOMETRY_PARAMS) {
  if (numel(y) == 0) return;
  const auto g = geometry(kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, x);
  std::vector<float> keep;
  const float* in = packed(x, keep);
  intoOutput(y, [&](float* out) {
    ember::kernels::max_pool2d_f32(in, out, nullptr, x->sizes[0] * x->sizes[1], g);
  });
}

extern "C" void _mlir_ciface_ember_cpu_max_pool2d_grad_f32(MemRef<4>* x, MemRef<4>* gy,
                                                           MemRef<4>* dx, EMBER_GEOMETRY_PARAMS) {
  convCall(x, gy, dx, x, EMBER_GEOMETRY, [&](const float* xp, const float* gp, float* out,
                                             const ember::kernels::Window2d& g) {
    ember::kernels::max_pool2d_backward_from_input_f32(xp, gp, out, x->sizes[0] * x->sizes[1], g);
  });
}
#undef EMBER_GEOMETRY
#undef EMBER_GEOMETRY_PARAMS
