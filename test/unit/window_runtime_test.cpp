// The sliding-window entry points compiled code calls (WindowRuntime.cpp): registered for the
// JIT by name, and equal to ember's kernels on row-major and on strided (non-contiguous)
// buffers, as MLIR passes them; and a convolution + pooling training graph compiled from C++.
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/compiler/Compile.h"
#include "ember/compiler/JitRuntime.h"
#include "ember/compiler/RuntimeABI.h"
#include "ember/kernels/Conv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using ember::compiler::abi::MemRef;

namespace {

using Im2ColFn = void (*)(MemRef<4>*, MemRef<2>*, int64_t, int64_t, int64_t, int64_t, int64_t,
                          int64_t, int64_t, int64_t, int64_t, int64_t, float);
using Col2ImFn = void (*)(MemRef<2>*, MemRef<4>*, int64_t, int64_t, int64_t, int64_t, int64_t,
                          int64_t, int64_t, int64_t, int64_t, int64_t);

void* symbol(const char* name) {
  for (auto& [n, p] : ember::compiler::cpuRuntimeSymbols())
    if (std::strcmp(n, name) == 0) return p;
  return nullptr;
}

template <int N>
MemRef<N> view(std::vector<float>& data, int64_t offset, const int64_t (&sizes)[N],
               const int64_t (&strides)[N]) {
  MemRef<N> m{data.data(), data.data(), offset, {}, {}};
  for (int i = 0; i < N; ++i) m.sizes[i] = sizes[i], m.strides[i] = strides[i];
  return m;
}

// Geometry: 2 images, 3 channels, 7x6, kernel 3x2, stride (2, 1), padding (1, 0), dilation
// (1, 2), output 4x4.
constexpr int64_t n = 2, c = 3, h = 7, w = 6, kh = 3, kw = 2, oh = 4, ow = 4;
constexpr int64_t rows = c * kh * kw, len = n * oh * ow;
const ember::kernels::Window2d g{kh, kw, 2, 1, 1, 0, 1, 2, oh, ow, h, w};

std::vector<float> ramp(int64_t size) {
  std::vector<float> v(size);
  for (int64_t i = 0; i < size; ++i) v[i] = std::sin(0.37f * float(i)) * 3;
  return v;
}

} // namespace

TEST(WindowRuntime, Im2ColOnRowMajorAndStridedBuffers) {
  auto fn = reinterpret_cast<Im2ColFn>(symbol("_mlir_ciface_ember_cpu_im2col_f32"));
  ASSERT_NE(fn, nullptr);
  std::vector<float> img = ramp(n * c * h * w), want(rows * len);
  const float fill = -std::numeric_limits<float>::infinity();
  ember::kernels::im2col(img.data(), want.data(), n, c, g, fill);

  // Row-major in, row-major out.
  std::vector<float> cols(rows * len, 7.f);
  auto in = view<4>(img, 0, {n, c, h, w}, {c * h * w, h * w, w, 1});
  auto out = view<2>(cols, 0, {rows, len}, {len, 1});
  fn(&in, &out, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow, fill);
  EXPECT_EQ(cols, want);

  // The image inside a larger, padded buffer (offset, row pitch 9); the columns transposed.
  std::vector<float> big(5 + n * c * h * 9, 0.f);
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) big[5 + (p * h + y) * 9 + x] = img[(p * h + y) * w + x];
  std::vector<float> colsT(rows * len, 7.f);
  auto sin = view<4>(big, 5, {n, c, h, w}, {c * h * 9, h * 9, 9, 1});
  auto sout = view<2>(colsT, 0, {rows, len}, {1, rows});
  fn(&sin, &sout, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow, fill);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t l = 0; l < len; ++l) ASSERT_EQ(colsT[l * rows + r], want[r * len + l]);
}

TEST(WindowRuntime, Col2ImOnRowMajorAndStridedBuffers) {
  auto fn = reinterpret_cast<Col2ImFn>(symbol("_mlir_ciface_ember_cpu_col2im_f32"));
  ASSERT_NE(fn, nullptr);
  std::vector<float> cols = ramp(rows * len), want(n * c * h * w);
  ember::kernels::col2im(cols.data(), want.data(), n, c, g);

  std::vector<float> img(n * c * h * w, 7.f); // overwritten, not accumulated into
  auto in = view<2>(cols, 0, {rows, len}, {len, 1});
  auto out = view<4>(img, 0, {n, c, h, w}, {c * h * w, h * w, w, 1});
  fn(&in, &out, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  EXPECT_EQ(img, want);

  // Transposed columns in; the image written as channels-last [n, h, w, c] memory.
  std::vector<float> colsT(rows * len);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t l = 0; l < len; ++l) colsT[l * rows + r] = cols[r * len + l];
  std::vector<float> nhwc(n * c * h * w, 7.f);
  auto sin = view<2>(colsT, 0, {rows, len}, {1, rows});
  auto sout = view<4>(nhwc, 0, {n, c, h, w}, {h * w * c, 1, w * c, c});
  fn(&sin, &sout, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p)
        ASSERT_EQ(nhwc[(b * h * w + p) * c + ch], want[(b * c + ch) * h * w + p]);
}

namespace {
namespace F = ember::nn::functional;

// Loss and gradients of max_pool(relu(conv(x, w, b, stride 1, padding 1))) and avg_pool of it.
std::vector<ember::Tensor> convPoolStep(const std::vector<ember::Tensor>& in) {
  ember::Tensor y = ember::relu(F::conv2d(in[0], in[1], in[2], {1}, {1}));
  ember::Tensor loss = ember::add(ember::sum(ember::mul(F::max_pool2d(y, {2}), F::max_pool2d(y, {2}))),
                                  ember::sum(F::avg_pool2d(y, {3}, {2}, {1})));
  std::vector<ember::Tensor> out{loss};
  for (const ember::Tensor& g : ember::autograd::grad({loss}, {in[0], in[1], in[2]})) out.push_back(g);
  return out;
}
} // namespace

TEST(WindowRuntime, CompiledConvPoolStepEqualsTheGraph) {
  using namespace ember;
  Graph g = trace(convPoolStep, {{2, 3, 8, 8}, {4, 3, 3, 3}, {4}}, {true, true, true});
  auto compiled = compiler::CompiledGraph::compile(g);
  EXPECT_NE(compiled.ir().find("ember.im2col"), std::string::npos);
  EXPECT_NE(compiled.ir().find("ember.col2im"), std::string::npos);
  std::vector<Tensor> in;
  for (const Shape& s : {Shape{2, 3, 8, 8}, Shape{4, 3, 3, 3}, Shape{4}}) {
    std::vector<float> v(numel_of(s));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.7f * float(i) + float(s.size()));
    in.push_back(from_vector(v, s));
  }
  auto got = compiled.run(in), want = run_graph(g, in);
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].shape(), want[i].shape());
    auto a = got[i].to_vector(), b = want[i].to_vector();
    for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-4f * (1 + std::fabs(b[j])));
  }
}

namespace {
using PoolFn = void (*)(MemRef<4>*, MemRef<4>*, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int64_t, int64_t, int64_t, int64_t, int64_t);
using PoolGradFn = void (*)(MemRef<4>*, MemRef<4>*, MemRef<4>*, int64_t, int64_t, int64_t,
                            int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

// An image with ties (values rounded to halves), a NaN, a plane of -inf and a -inf window.
std::vector<float> poolImage() {
  std::vector<float> img = ramp(n * c * h * w);
  for (float& v : img) v = std::round(v * 2) / 2;
  img[5] = std::nanf("");
  for (int64_t p = 0; p < h * w; ++p) img[2 * h * w + p] = -std::numeric_limits<float>::infinity();
  for (int64_t y = 0; y < 3; ++y) img[4 * h * w + y * w] = img[4 * h * w + y * w + 2] =
      -std::numeric_limits<float>::infinity();
  return img;
}

bool sameFloats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}
} // namespace

TEST(WindowRuntime, MaxPoolEntriesEqualTheIndexedKernels) {
  auto pool = reinterpret_cast<PoolFn>(symbol("_mlir_ciface_ember_cpu_max_pool2d_f32"));
  auto grad = reinterpret_cast<PoolGradFn>(symbol("_mlir_ciface_ember_cpu_max_pool2d_grad_f32"));
  ASSERT_NE(pool, nullptr);
  ASSERT_NE(grad, nullptr);
  const int64_t planes = n * c, out = planes * oh * ow;
  std::vector<float> img = poolImage(), dy = ramp(out), want(out), wantDx(planes * h * w);
  std::vector<int64_t> idx(out);
  ember::kernels::max_pool2d_f32(img.data(), want.data(), idx.data(), planes, g);
  ember::kernels::max_pool2d_backward_f32(dy.data(), idx.data(), wantDx.data(), planes, g);
  // The kernel without indices gives the same values; the gradient from x the same gradient.
  std::vector<float> y(out, 7.f), dx(planes * h * w, 7.f);
  ember::kernels::max_pool2d_f32(img.data(), y.data(), nullptr, planes, g);
  EXPECT_TRUE(sameFloats(y, want));
  ember::kernels::max_pool2d_backward_from_input_f32(img.data(), dy.data(), dx.data(), planes, g);
  EXPECT_EQ(dx, wantDx);
  // The windows of -inf send their gradient to their first position; the NaN window to the NaN.
  EXPECT_EQ(idx[2 * oh * ow], 0);
  EXPECT_EQ(idx[3], 5);

  // Row-major buffers through the entries.
  std::fill(y.begin(), y.end(), 7.f);
  std::fill(dx.begin(), dx.end(), 7.f);
  auto xin = view<4>(img, 0, {n, c, h, w}, {c * h * w, h * w, w, 1});
  auto yout = view<4>(y, 0, {n, c, oh, ow}, {c * oh * ow, oh * ow, ow, 1});
  auto gin = view<4>(dy, 0, {n, c, oh, ow}, {c * oh * ow, oh * ow, ow, 1});
  auto dxout = view<4>(dx, 0, {n, c, h, w}, {c * h * w, h * w, w, 1});
  pool(&xin, &yout, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  EXPECT_TRUE(sameFloats(y, want));
  grad(&xin, &gin, &dxout, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  EXPECT_EQ(dx, wantDx);

  // The image inside a padded buffer (offset 3, row pitch 8); outputs channels-last.
  std::vector<float> big(3 + planes * h * 8, 0.f);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t r = 0; r < h; ++r)
      for (int64_t x = 0; x < w; ++x) big[3 + (p * h + r) * 8 + x] = img[(p * h + r) * w + x];
  std::vector<float> yl(out, 7.f), dxl(planes * h * w, 7.f);
  auto sx = view<4>(big, 3, {n, c, h, w}, {c * h * 8, h * 8, 8, 1});
  auto sy = view<4>(yl, 0, {n, c, oh, ow}, {oh * ow * c, 1, ow * c, c});
  auto sdx = view<4>(dxl, 0, {n, c, h, w}, {h * w * c, 1, w * c, c});
  pool(&sx, &sy, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  grad(&sx, &gin, &sdx, kh, kw, 2, 1, 1, 0, 1, 2, oh, ow);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < oh * ow; ++p) {
        const float got = yl[(b * oh * ow + p) * c + ch], ref = want[(b * c + ch) * oh * ow + p];
        ASSERT_TRUE(got == ref || (std::isnan(got) && std::isnan(ref)));
      }
      for (int64_t p = 0; p < h * w; ++p)
        ASSERT_EQ(dxl[(b * h * w + p) * c + ch], wantDx[(b * c + ch) * h * w + p]);
    }
}
