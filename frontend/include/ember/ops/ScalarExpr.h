// ember's scalar expression language on plain C++ numbers, for the eager CPU kernels. The
// compiler provides the same names over MLIR values (compiler/lib/Elementwise.cpp), and the
// CUDA prelude / CUDA's math library over device floats.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
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
using std::erfc;

template <typename T>
constexpr bool is_float_v = std::is_floating_point_v<T>;

// Remainder with the divisor's sign (Python's %). Integer division by zero never gets here
// (the dispatcher rejects it); the -1 case avoids INT_MIN % -1.
template <typename A, typename B>
common<A, B> floor_mod(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  C m;
  if constexpr (is_float_v<C>) {
    m = std::fmod(a, b);
  } else {
    if (b == 0 || (std::is_signed_v<C> && b == C(-1))) return C(0);
    m = C(a % b);
  }
  return (m != 0 && ((b < 0) != (m < 0))) ? C(m + b) : m;
}

// a / b rounded toward minus infinity, PyTorch's div_floor (exact for floats near integers).
template <typename A, typename B>
common<A, B> floor_div(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  if constexpr (is_float_v<C>) {
    if (b == 0) return a / b;
    C mod = std::fmod(a, b);
    C div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= C(1);
    if (div == 0) return std::copysign(C(0), a / b);
    C fl = std::floor(div);
    return div - fl > C(0.5) ? C(fl + 1) : fl;
  } else {
    if (b == 0) return C(0);
    if (std::is_signed_v<C> && b == C(-1)) return C(uint64_t(0) - uint64_t(a)); // wraps
    C q = C(a / b);
    return (a % b != 0 && ((a < 0) != (b < 0))) ? C(q - 1) : q;
  }
}

// a / b rounded toward zero.
template <typename A, typename B>
common<A, B> trunc_div(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  if constexpr (is_float_v<C>) {
    return std::trunc(a / b);
  } else {
    if (b == 0) return C(0);
    if (std::is_signed_v<C> && b == C(-1)) return C(uint64_t(0) - uint64_t(a));
    return C(a / b);
  }
}

// Powers; on integers exact with wrap-around, and negative exponents give the truncated
// 1 / a^|b| (1, -1 or 0) as in PyTorch.
template <typename A, typename B>
common<A, B> pow(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  if constexpr (is_float_v<C>) {
    return std::pow(a, b);
  } else if constexpr (std::is_same_v<C, bool>) {
    return a || !b;
  } else {
    if constexpr (std::is_signed_v<C>) {
      if (b < 0) {
        if (a == 1) return C(1);
        if (a == -1) return C(b % 2 == 0 ? 1 : -1);
        return C(0);
      }
    }
    uint64_t base = uint64_t(int64_t(a)), r = 1;
    for (uint64_t e = uint64_t(b); e; e >>= 1) {
      if (e & 1) r *= base;
      base *= base;
    }
    return C(r);
  }
}

// PyTorch's calc_erfinv: a rational first guess, then two Newton steps.
template <typename T>
T erfinv(T y) {
  if constexpr (!is_float_v<T>) {
    return erfinv(double(y));
  } else {
    const T a[4] = {T(0.886226899), T(-1.645349621), T(0.914624893), T(-0.140543331)};
    const T b[4] = {T(-2.118377725), T(1.442710462), T(-0.329097515), T(0.012229801)};
    const T c[4] = {T(-1.970840454), T(-1.624906493), T(3.429567803), T(1.641345311)};
    const T d[2] = {T(3.543889200), T(1.637067800)};
    const T y_abs = std::abs(y);
    if (y_abs > T(1)) return std::numeric_limits<T>::quiet_NaN();
    if (y_abs == T(1)) return std::copysign(std::numeric_limits<T>::infinity(), y);
    T x;
    if (y_abs <= T(0.7)) {
      const T z = y * y;
      const T num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
      const T dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + T(1);
      x = y * num / dem;
    } else {
      const T z = std::sqrt(-std::log((T(1) - y_abs) / T(2)));
      const T num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
      const T dem = (d[1] * z + d[0]) * z + T(1);
      x = std::copysign(num, y) / dem;
    }
    const T k = T(2) / T(std::sqrt(3.14159265358979323846));
    x = x - (std::erf(x) - y) / (k * std::exp(-x * x));
    x = x - (std::erf(x) - y) / (k * std::exp(-x * x));
    return x;
  }
}

template <typename T>
bool isinf(T x) {
  if constexpr (is_float_v<T>) return std::isinf(x);
  else return false;
}
template <typename T>
bool isfinite(T x) {
  if constexpr (is_float_v<T>) return std::isfinite(x);
  else return true;
}

// Bitwise ops (the Integral and Integer rules keep floating types away).
template <typename A, typename B>
common<A, B> bitwise_and(A a, B b) { return common<A, B>(a & b); }
template <typename A, typename B>
common<A, B> bitwise_or(A a, B b) { return common<A, B>(a | b); }
template <typename A, typename B>
common<A, B> bitwise_xor(A a, B b) { return common<A, B>(a ^ b); }
template <typename T>
T bitwise_not(T a) {
  if constexpr (std::is_same_v<T, bool>) return !a;
  else return T(~a);
}
// Shifts by a negative amount or by the width or more give 0 (left) or the sign fill (right),
// as in PyTorch.
template <typename A, typename B>
common<A, B> shift_left(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  constexpr C bits = C(sizeof(C) * 8);
  if ((std::is_signed_v<C> && b < 0) || b >= bits) return C(0);
  return C(uint64_t(int64_t(a)) << uint64_t(b));
}
template <typename A, typename B>
common<A, B> shift_right(A x, B y) {
  using C = common<A, B>;
  C a = x, b = y;
  constexpr C bits = C(sizeof(C) * 8);
  if ((std::is_signed_v<C> && b < 0) || b >= bits) return C(a < 0 ? -1 : 0);
  return C(a >> b);
}

} // namespace ember::sexpr
