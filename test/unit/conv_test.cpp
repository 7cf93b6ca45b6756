// conv2d / conv_transpose2d against a direct loop, and Im2Col/Col2Im adjointness.
#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/ThreadPool.h"

#include <gtest/gtest.h>

using namespace ember;
namespace F = ember::nn::functional;

namespace {
// out[n, o, y, x] = sum w[o, c, i, j] * in[n, c, y*s - p + i*d, x*s - p + j*d] (+ bias), groups = 1.
std::vector<float> direct_conv(const std::vector<float>& in, const std::vector<float>& w,
                               const std::vector<float>& b, Shape xs, Shape ws, int64_t s,
                               int64_t p, int64_t d, Shape& out_shape) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], O = ws[0], K = ws[2], L = ws[3];
  const int64_t oh = (H + 2 * p - d * (K - 1) - 1) / s + 1, ow = (W + 2 * p - d * (L - 1) - 1) / s + 1;
  out_shape = {N, O, oh, ow};
  std::vector<float> out(N * O * oh * ow);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double acc = b[o];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < K; ++i)
              for (int64_t j = 0; j < L; ++j) {
                const int64_t iy = y * s - p + i * d, ix = x * s - p + j * d;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  acc += double(w[((o * C + c) * K + i) * L + j]) * in[((n * C + c) * H + iy) * W + ix];
              }
          out[((n * O + o) * oh + y) * ow + x] = float(acc);
        }
  return out;
}
} // namespace

TEST(Conv, Conv2dMatchesDirectLoop) {
  manual_seed(1);
  const Shape xs{2, 3, 9, 8}, ws{4, 3, 3, 2};
  Tensor x = randn(xs), w = randn(ws), b = randn({4});
  for (auto [s, p, d] : {std::tuple{1, 0, 1}, {2, 1, 1}, {1, 2, 2}, {3, 1, 2}}) {
    Shape want_shape;
    std::vector<float> want = direct_conv(x.to_vector(), w.to_vector(), b.to_vector(), xs, ws, s, p,
                                          d, want_shape);
    Tensor y = F::conv2d(x, w, b, {s}, {p}, {d});
    ASSERT_EQ(y.shape(), want_shape);
    std::vector<float> got = y.to_vector();
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4) << "at " << i;
  }
}

TEST(Conv, SmallImagesGroupedIntoOneGemmMatchTheDirectLoop) {
  // Maps of a few positions run through the forward GEMM several images at a time (tiles run
  // on across images); 7 images leave a short last group at one thread and uneven runs at two.
  manual_seed(4);
  const int old = get_num_threads();
  for (int threads : {1, 2})
    for (auto [hw, p, o] : {std::tuple{5, 1, 20}, {4, 0, 8}, {7, 1, 9}}) {
      set_num_threads(threads);
      const Shape xs{7, 3, hw, hw}, ws{o, 3, 3, 3};
      Tensor x = randn(xs), w = randn(ws), b = randn({o});
      Shape want_shape;
      std::vector<float> want =
          direct_conv(x.to_vector(), w.to_vector(), b.to_vector(), xs, ws, 1, p, 1, want_shape);
      Tensor y = F::conv2d(x, w, b, {1}, {p});
      ASSERT_EQ(y.shape(), want_shape);
      std::vector<float> got = y.to_vector();
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-4) << "at " << i << ", " << threads << " threads, " << hw << "x" << hw;
    }
  set_num_threads(old);
}

TEST(Conv, TransposeIsTheAdjointOfConv) {
  // <conv(x), y> == <x, conv_transpose(y)> for the same weight and geometry.
  manual_seed(2);
  Tensor x = randn({2, 3, 7, 5}, DType::Float64), w = randn({4, 3, 3, 3}, DType::Float64);
  Tensor y0 = F::conv2d(x, w, Tensor(), {2}, {1});
  ASSERT_EQ(y0.shape(), (Shape{2, 4, 4, 3}));
  Tensor y = randn(y0.shape(), DType::Float64);
  Tensor xt = F::conv_transpose2d(y, w, Tensor(), {2}, {1}, {0});
  ASSERT_EQ(xt.shape(), x.shape());
  Tensor lhs = sum(mul(y0, y));
  Tensor rhs = sum(mul(x, xt));
  EXPECT_NEAR(lhs.item(), rhs.item(), 1e-9);
}

TEST(Conv, Im2ColAndCol2ImAreAdjoint) {
  manual_seed(3);
  const Shape g{3, 2, 2, 1, 1, 0, 1, 2, 4, 5, 7, 7}; // k 3x2, stride 2x1, pad 1x0, dilation 1x2
  Tensor img = randn({2, 3, 7, 7}, DType::Float64);
  Tensor cols = im2col(img, g);
  ASSERT_EQ(cols.shape(), (Shape{3 * 6, 2 * 20}));
  Tensor c = randn(cols.shape(), DType::Float64);
  EXPECT_NEAR(sum(mul(cols, c)).item(), sum(mul(img, col2im(c, g))).item(), 1e-9);
}

TEST(Conv, BadInputIsAnError) {
  try {
    F::conv2d(ones({1, 4, 8, 8}), ones({6, 3, 3, 3}));
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("to have 3 channels, but got 4"), std::string::npos);
  }
  EXPECT_THROW(F::max_pool2d(ones({1, 1, 4, 4}), {2}, {}, {2}), Error);
  EXPECT_THROW(im2col(ones({1, 1, 4, 4}), {3, 3, 1, 1, 0, 0, 1, 1, 2, 2, 5, 5}), Error);
}
