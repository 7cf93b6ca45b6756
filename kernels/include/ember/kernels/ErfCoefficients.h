// The float32 erf/erfc approximations' coefficients (fitted by weighted least squares, checked
// against double-precision references in test/unit/vecmath_test.cpp), shared by the eager
// kernels (cpu/VecMath.cpp) and the compiler's math lowering (compiler/lib/ApproximateMath.cpp)
// so that compiled and eager erfc/gelu compute the same formula. Coefficients run from the
// constant term up.
#pragma once

namespace ember::kernels {

// erf(x) = x + x P(x^2) on |x| < 1 (the leading term stays exact).
inline constexpr float kErfSmallP[] = {0.128379166f,   -0.37612626f,   0.112836003f,
                                       -0.0268544443f, 0.00518953474f, -0.000802083523f,
                                       7.88909965e-05f};

// erfc(a) = e^{-a^2} Q(s) for a >= 1, s = (1/a - 0.55) / 0.45 clamped below at -1 (fitted on
// a in [1, 10]; erfc underflows after).
inline constexpr float kErfcTailQ[] = {0.27629438f,      0.183975399f,     -0.0367000289f,
                                       0.00307299313f,   0.00184393546f,   -0.00127841358f,
                                       0.000473299093f,  -9.66005828e-05f, -3.28675524e-05f,
                                       4.79241935e-05f,  -1.64340527e-05f};

} // namespace ember::kernels
