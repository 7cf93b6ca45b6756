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

// A float32 convolution (groups 1) one image at a time: each image's columns
// [c*kh*kw, oh*ow] are built in a buffer that stays in cache and multiplied by the weight
// [o, c*kh*kw] straight into that image's [o, oh*ow] block of y (NCHW): no columns for the whole
// batch, no transpose of the output. Threads split the batch (or, for fewer images than
// threads, each image's work). bias (null: none) is y's starting value.
void conv2d_forward_f32(const float* x, const float* w, const float* bias, float* y, int64_t n,
                        int64_t c, int64_t o, const Window2d& g);
// Its gradients from dy [n, o, oh, ow], each optional (null: not wanted): dx [n, c, h, w],
// dw [o, c*kh*kw] and db [o], all overwritten. The per-image weight gradients are summed in a
// fixed order, so the result does not depend on which thread ran which image.
void conv2d_backward_f32(const float* x, const float* w, const float* dy, float* dx, float* dw,
                         float* db, int64_t n, int64_t c, int64_t o, const Window2d& g);

// Max pooling of `planes` float32 planes [h, w] over g's windows (padding never wins): y and
// idx [planes, oh, ow], idx the flat h*w position of each window's maximum, PyTorch's pick (the
// first maximum in scan order, a NaN always; a window of -inf points at its first position).
// idx may be null (values only). Every window must hold a pixel of the image.
void max_pool2d_f32(const float* x, float* y, int64_t* idx, int64_t planes, const Window2d& g);
// Its gradient: dx [planes, h, w] (overwritten) gets each dy at its idx.
void max_pool2d_backward_f32(const float* dy, const int64_t* idx, float* dx, int64_t planes,
                             const Window2d& g);
// The same gradient without indices: each window's pick is found again in x [planes, h, w] (the
// forward's rule, so the result equals max_pool2d_f32's indices fed to the function above).
void max_pool2d_backward_from_input_f32(const float* x, const float* dy, float* dx,
                                        int64_t planes, const Window2d& g);

} // namespace ember::kernels
