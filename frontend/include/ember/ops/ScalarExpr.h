// ember's scalar expression language on plain C++ numbers, for the eager CPU kernels. The
// compiler provides the same names over MLIR values (compiler/lib/Elementwise.cpp), and the
// CUDA prelude / CUDA's math library over device floats.
#pragma once

#include <cmath>
#include <cstdlib>
#include <type_traits>

namespace ember::sexpr {

template <typename A, typename B>
using common = std::common_type_t<A, B>;

// NaN-propagating maximum/minimum (torch.maximum / torch.minimum).
template <typename A, typename B>
common<A, B> maximum(A x, B y) {
  common<A, B> a = x, b = y;
  return (a != a || a > b) ? a : b;
}
template <typename A, typename B>
common<A, B> minimum(A x, B y) {
  common<A, B> a = x, b = y;
  return (a != a || a < b) ? a : b;
}
template <typename A, typename B>
common<A, B> where(bool c, A x, B y) {
  return c ? common<A, B>(x) : common<A, B>(y);
}

using std::abs;
using std::acos;
using std::asin;
using std::atan;
using std::atan2;
using std::ceil;
using std::cos;
using std::cosh;
using std::erf;
using std::exp;
using std::exp2;
using std::expm1;
using std::floor;
using std::fmod;
using std::log;
using std::log10;
using std::log1p;
using std::log2;
using std::rint; // round half to even, like torch.round
using std::sin;
using std::sinh;
using std::sqrt;
using std::tan;
using std::tanh;
using std::trunc;
template <typename T>
auto rsqrt(T x) {
  return 1 / std::sqrt(x);
}

} // namespace ember::sexpr
