// ember's scalar expression language on plain floats, for the eager CPU kernels. The compiler
// provides the same names over MLIR values, and the CUDA prelude over device floats.
#pragma once

namespace ember::scalar {

// NaN-propagating maximum (torch.maximum).
inline float maximum(float x, float y) { return (x != x || x > y) ? x : y; }
inline float where(bool c, float x, float y) { return c ? x : y; }

} // namespace ember::scalar
