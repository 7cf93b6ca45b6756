// The vectorized float32 kernels (kernels/VecMath.h): every compiled copy this CPU can run,
// measured in ulps against double-precision references over a sweep of all float bit
// patterns, at the range edges, and through vec_map_f32's layouts and threads.
#include "ember/kernels/VecMath.h"
#include "ember/runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace {

using ember::kernels::VecIsa;
using ember::kernels::VecOp;
namespace k = ember::kernels;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<VecIsa> isas() {
  std::vector<VecIsa> v;
  for (VecIsa isa : {VecIsa::Generic, VecIsa::Avx2, VecIsa::Avx512})
    if (k::vec_isa_supported(isa)) v.push_back(isa);
  return v;
}

double reference(VecOp op, double x) {
  switch (op) {
  case VecOp::Exp: return std::exp(x);
  case VecOp::Log: return std::log(x);
  case VecOp::Tanh: return std::tanh(x);
  case VecOp::Sigmoid: return 1 / (1 + std::exp(-x));
  case VecOp::Erf: return std::erf(x);
  case VecOp::Erfc: return std::erfc(x);
  case VecOp::Silu: return x / (1 + std::exp(-x));
  case VecOp::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  case VecOp::GeluTanh: {
    const double u = std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x);
    return x / (1 + std::exp(-2 * u));
  }
  case VecOp::Relu: return x > 0 ? x : 0;
  case VecOp::Neg: return -x;
  case VecOp::Abs: return std::fabs(x);
  case VecOp::Reciprocal: return 1 / x;
  default: return std::nan("");
  }
}

// The error of `got` in units of the float spacing at the reference (denormal spacing below).
double ulps(float got, double want) {
  const double w = std::fabs(want);
  const double spacing = w < 1.17549435e-38 ? std::ldexp(1.0, -149)
                                            : std::ldexp(1.0, std::ilogb(static_cast<float>(w)) - 23);
  return std::fabs(got - want) / spacing;
}

// Every 997th float bit pattern (~4.3M values, ~8000 per binade), finite ones only.
const std::vector<float>& sweep() {
  static const std::vector<float> xs = [] {
    std::vector<float> v;
    for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 997) {
      const uint32_t bits = static_cast<uint32_t>(u);
      float f;
      std::memcpy(&f, &bits, 4);
      if (std::isfinite(f)) v.push_back(f);
    }
    return v;
  }();
  return xs;
}

// The most ulps `op` may be off at x. Where the function is ill-conditioned (gelu's and silu's
// negative tails, whose relative condition number grows like x^2), the input's own rounding is
// amplified as much; results below the normal range count in denormal steps.
double budget(VecOp op, float x) {
  switch (op) {
  case VecOp::Exp:
  case VecOp::Log: return 1;
  case VecOp::Tanh:
  case VecOp::Erf: return 2;
  case VecOp::Sigmoid: return 3;
  // The tail is e^{-x^2} Q: x^2's rounding is relative error x^2 / 2^24, about x^2 ulps. Just
  // below 1, 1 - erf(x) cancels: erf's ulp is 4-5 of erfc's (5.1 ulps measured at 0.93).
  case VecOp::Erfc: return x > 1 ? 4 + 1.5 * double(x) * x : x > 0.5 ? 6 : 4;
  case VecOp::Silu: return x < -80 ? 64 : 3;
  case VecOp::Gelu:
  case VecOp::GeluTanh: return x < 0 ? 4 + 2.5 * double(x) * x : 4;
  case VecOp::Reciprocal: return 0.5; // correctly rounded
  default: return 0;                   // exact operations
  }
}

float run1(VecIsa isa, VecOp op, float x) {
  float out;
  k::vec_span_f32(isa, op, &x, 1, &x, 0, &out, 1);
  return out;
}

class VecMathIsa : public ::testing::TestWithParam<VecOp> {};

TEST_P(VecMathIsa, WithinBudgetOverAllFloats) {
  const VecOp op = GetParam();
  const std::vector<float>& xs = sweep();
  std::vector<float> out(xs.size());
  for (VecIsa isa : isas()) {
    k::vec_span_f32(isa, op, xs.data(), 1, xs.data(), 0, out.data(), int64_t(xs.size()));
    double worst = 0;
    float at = 0;
    int64_t mismatched_specials = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double want = reference(op, xs[i]);
      if (std::isnan(want) || std::fabs(want) > std::numeric_limits<float>::max()) {
        // NaN and overflow: the float result must be the same special value.
        const float w = static_cast<float>(want);
        if (!(std::isnan(w) ? std::isnan(out[i]) : out[i] == w)) ++mismatched_specials;
        continue;
      }
      const double b = budget(op, xs[i]), u = ulps(out[i], want);
      const double e = b > 0 ? u / b : (u == 0 ? 0 : std::numeric_limits<double>::infinity());
      if (!(e <= worst)) {
        worst = e;
        at = xs[i];
      }
    }
    EXPECT_EQ(mismatched_specials, 0) << k::vec_op_name(op) << " " << k::vec_isa_name(isa);
    EXPECT_LE(worst, 1.0) << k::vec_op_name(op) << " " << k::vec_isa_name(isa) << ": "
                          << ulps(run1(isa, op, at), reference(op, at)) << " ulps at x = " << at;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, VecMathIsa,
                         ::testing::Values(VecOp::Exp, VecOp::Log, VecOp::Tanh, VecOp::Sigmoid,
                                           VecOp::Erf, VecOp::Erfc, VecOp::Silu, VecOp::Gelu,
                                           VecOp::GeluTanh,
                                           VecOp::Relu, VecOp::Neg, VecOp::Abs, VecOp::Reciprocal),
                         [](const auto& info) { return std::string(k::vec_op_name(info.param)); });

TEST(VecMath, EdgesInfNanZeroDenormal) {
  const float den = 1e-40f; // denormal
  for (VecIsa isa : isas()) {
    SCOPED_TRACE(k::vec_isa_name(isa));
    for (VecOp op : {VecOp::Exp, VecOp::Log, VecOp::Tanh, VecOp::Sigmoid, VecOp::Erf,
                     VecOp::Silu, VecOp::Gelu, VecOp::GeluTanh, VecOp::Relu})
      EXPECT_TRUE(std::isnan(run1(isa, op, kNaN))) << k::vec_op_name(op);
    EXPECT_EQ(run1(isa, VecOp::Exp, kInf), kInf);
    EXPECT_EQ(run1(isa, VecOp::Exp, -kInf), 0.0f);
    EXPECT_EQ(run1(isa, VecOp::Exp, 88.8f), kInf);
    EXPECT_EQ(run1(isa, VecOp::Exp, -104.0f), 0.0f);
    EXPECT_NEAR(run1(isa, VecOp::Exp, -100.0f), std::exp(-100.0), 1.5e-45); // denormal result
    EXPECT_EQ(run1(isa, VecOp::Exp, den), 1.0f);
    EXPECT_EQ(run1(isa, VecOp::Log, 0.0f), -kInf);
    EXPECT_EQ(run1(isa, VecOp::Log, -0.0f), -kInf);
    EXPECT_TRUE(std::isnan(run1(isa, VecOp::Log, -1.0f)));
    EXPECT_TRUE(std::isnan(run1(isa, VecOp::Log, -kInf)));
    EXPECT_EQ(run1(isa, VecOp::Log, kInf), kInf);
    EXPECT_FLOAT_EQ(run1(isa, VecOp::Log, den), static_cast<float>(std::log(double(den))));
    EXPECT_FLOAT_EQ(run1(isa, VecOp::Log, 1.4e-45f), static_cast<float>(std::log(double(1.4e-45f))));
    for (VecOp op : {VecOp::Tanh, VecOp::Erf}) {
      EXPECT_EQ(run1(isa, op, kInf), 1.0f);
      EXPECT_EQ(run1(isa, op, -kInf), -1.0f);
      EXPECT_EQ(run1(isa, op, 30.0f), 1.0f);
      EXPECT_EQ(run1(isa, op, den), op == VecOp::Tanh ? den : static_cast<float>(den * 1.1283791670955126));
      EXPECT_TRUE(std::signbit(run1(isa, op, -0.0f)));
    }
    EXPECT_EQ(run1(isa, VecOp::Sigmoid, kInf), 1.0f);
    EXPECT_EQ(run1(isa, VecOp::Sigmoid, -kInf), 0.0f);
    EXPECT_EQ(run1(isa, VecOp::Sigmoid, den), 0.5f);
    for (VecOp op : {VecOp::Silu, VecOp::Gelu, VecOp::GeluTanh}) {
      EXPECT_EQ(run1(isa, op, kInf), kInf) << k::vec_op_name(op);
      EXPECT_TRUE(std::isnan(run1(isa, op, -kInf))) << k::vec_op_name(op); // -inf * 0, as torch
      EXPECT_EQ(run1(isa, op, 1e30f), 1e30f) << k::vec_op_name(op);
      EXPECT_EQ(run1(isa, op, -1e30f), 0.0f) << k::vec_op_name(op);
    }
    EXPECT_EQ(run1(isa, VecOp::Relu, -0.0f), 0.0f);
    EXPECT_FALSE(std::signbit(run1(isa, VecOp::Relu, -0.0f)));
  }
}

TEST(VecMath, BinaryOpsAndBroadcastModesMatchScalarMath) {
  const int64_t n = 1000;
  std::vector<float> a(n), b(n), out(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = std::sin(float(i)) * 10;
    b[i] = std::cos(float(i) * 0.7f) * 3 + (i % 7 == 0 ? 0.0f : 0.5f);
  }
  a[3] = kNaN;
  b[5] = kNaN;
  auto scalar = [](VecOp op, float x, float y) -> float {
    switch (op) {
    case VecOp::Add: return x + y;
    case VecOp::Sub: return x - y;
    case VecOp::Mul: return x * y;
    case VecOp::Div: return x / y;
    case VecOp::Maximum: return (x != x || x > y) ? x : y;
    case VecOp::Minimum: return (x != x || x < y) ? x : y;
    default: return y > 0 ? x : 0.0f; // relu_backward
    }
  };
  for (VecIsa isa : isas())
    for (VecOp op : {VecOp::Add, VecOp::Sub, VecOp::Mul, VecOp::Div, VecOp::Maximum,
                     VecOp::Minimum, VecOp::ReluBackward})
      for (int mode = 0; mode < 3; ++mode) {
        const int64_t sa = mode == 2 ? 0 : 1, sb = mode == 1 ? 0 : 1;
        k::vec_span_f32(isa, op, a.data() + 1, sa, b.data() + 1, sb, out.data(), n - 1);
        for (int64_t i = 0; i < n - 1; ++i) {
          const float want = scalar(op, a[1 + i * sa], b[1 + i * sb]);
          ASSERT_TRUE(std::isnan(want) ? std::isnan(out[i]) : out[i] == want)
              << k::vec_op_name(op) << " " << k::vec_isa_name(isa) << " mode " << mode << " at " << i;
        }
      }
}

// Non-temporal stores start at the first aligned output element: any offset, any length.
TEST(VecMath, StreamingStoresMatchPlainStores) {
  std::vector<float> a(5000), b(5000), plain(5020), streamed(5020);
  for (int i = 0; i < 5000; ++i) {
    a[i] = std::sin(float(i)) * 5;
    b[i] = std::cos(float(i)) + 2;
  }
  for (VecIsa isa : isas())
    for (VecOp op : {VecOp::Add, VecOp::Div, VecOp::Gelu, VecOp::Tanh})
      for (int offset : {0, 1, 3, 7})
        for (int64_t n : {1, 5, 17, 100, 4999}) {
          std::fill(plain.begin(), plain.end(), -1.0f);
          std::fill(streamed.begin(), streamed.end(), -1.0f);
          k::vec_span_f32(isa, op, a.data(), 1, b.data(), 1, plain.data() + offset, n, false);
          k::vec_span_f32(isa, op, a.data(), 1, b.data(), 1, streamed.data() + offset, n, true);
          ASSERT_EQ(std::memcmp(plain.data(), streamed.data(), plain.size() * 4), 0)
              << k::vec_op_name(op) << " " << k::vec_isa_name(isa) << " offset " << offset << " n " << n;
        }
}

// vec_map_f32: merged dims, row broadcast, and threads give the same bits as one serial span.
TEST(VecMath, MapLayoutsAndThreads) {
  const int64_t rows = 300, cols = 1000;
  std::vector<float> a(rows * cols), row(cols), out(rows * cols), want(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) a[i] = std::sin(float(i) * 0.001f) * 4;
  for (int64_t j = 0; j < cols; ++j) row[j] = std::cos(float(j));
  const int64_t shape[2] = {rows, cols}, dense[2] = {cols, 1}, bcast_row[2] = {0, 1};
  const int before = ember::get_num_threads();
  for (int threads : {1, 2, 3}) {
    ember::set_num_threads(threads);
    ASSERT_TRUE(k::vec_map_f32(VecOp::Mul, a.data(), dense, row.data(), bcast_row, out.data(), shape, 2));
    for (int64_t i = 0; i < rows * cols; ++i) ASSERT_EQ(out[i], a[i] * row[i % cols]) << i;
    ASSERT_TRUE(k::vec_map_f32(VecOp::Gelu, a.data(), dense, a.data(), dense, out.data(), shape, 2));
    k::vec_span_f32(k::vec_isa(), VecOp::Gelu, a.data(), 1, a.data(), 0, want.data(), rows * cols);
    ASSERT_EQ(std::memcmp(out.data(), want.data(), out.size() * 4), 0);
  }
  // 16 MB and more: streamed, split across threads at unaligned boundaries.
  const int64_t big = (int64_t(1) << 22) + 13, flat[1] = {1};
  std::vector<float> x(big), y(big), z(big);
  for (int64_t i = 0; i < big; ++i) x[i] = float(i % 1000) * 0.01f - 5;
  for (int threads : {1, 3}) {
    ember::set_num_threads(threads);
    ASSERT_TRUE(k::vec_map_f32(VecOp::Tanh, x.data(), flat, x.data(), flat, y.data(), &big, 1));
    k::vec_span_f32(k::vec_isa(), VecOp::Tanh, x.data(), 1, x.data(), 0, z.data(), big);
    ASSERT_EQ(std::memcmp(y.data(), z.data(), big * 4), 0);
  }
  ember::set_num_threads(before);
  // A transposed operand has no fast path; short broadcast rows neither.
  const int64_t transposed[2] = {1, rows};
  EXPECT_FALSE(k::vec_map_f32(VecOp::Exp, a.data(), transposed, a.data(), transposed, out.data(), shape, 2));
  const int64_t small[2] = {rows * cols / 4, 4}, col_bcast[2] = {1, 0}, dense4[2] = {4, 1};
  EXPECT_FALSE(k::vec_map_f32(VecOp::Add, a.data(), dense4, a.data(), col_bcast, out.data(), small, 2));
}

} // namespace
