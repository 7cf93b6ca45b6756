// im2col / col2im: the data movement that turns a convolution into one GEMM.
#pragma once

#include <cstdint>

namespace ember::kernels {

// The geometry of a 2-D sliding window: kernel, stride, top/left padding, dilation, the
// output grid (oh, ow) and the image (h, w). Windows outside the image read zeros.
struct Window2d {
  int64_t kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, h, w;
};

// cols[(c*kh + i)*kw + j, (n*oh + y)*ow + x] = img[n, c, y*sh - pt + i*dh, x*sw - pl + j*dw]
// for contiguous img [n, c, h, w] and cols [c*kh*kw, n*oh*ow]; `fill` outside the image.
template <typename T>
void im2col(const T* img, T* cols, int64_t n, int64_t c, const Window2d& g, T fill = T(0));
// The adjoint: img (zeroed here) [n, c, h, w] accumulates every column entry at its pixel.
template <typename T>
void col2im(const T* cols, T* img, int64_t n, int64_t c, const Window2d& g);

} // namespace ember::kernels
