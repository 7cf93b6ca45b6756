// ember's scalar expression language on plain C++ numbers, for the eager CPU kernels. The
// compiler provides the same names over MLIR values, and the CUDA prelude over device floats.
#pragma once

#include <type_traits>

namespace ember::scalar {

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

} // namespace ember::scalar
