// Helpers shared by the C++ unit tests.
#pragma once

#include "ember/Ops.h"
#include "ember/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ember::test {

// A float32 tensor of shape `s` with standard normal values from `seed`.
inline Tensor randn(const Shape& s, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(numel_of(s));
  for (float& x : v) x = d(gen);
  return from_vector(v, s);
}

// Same shape, and every element within `tol` relative (to 1 + |b|).
inline void expectNear(const Tensor& a, const Tensor& b, float tol = 1e-5f) {
  ASSERT_EQ(a.shape(), b.shape());
  auto x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol * (1 + std::fabs(y[i])));
}

} // namespace ember::test
