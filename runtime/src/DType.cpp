#include "ember/runtime/DType.h"

#include <cmath>

namespace ember {

Half::Half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) { bits = static_cast<uint16_t>(sign | 0x7e00u); return; } // NaN
  if (absx >= 0x477ff000u) { bits = static_cast<uint16_t>(sign | 0x7c00u); return; } // overflow
  if (absx < 0x38800000u) { // subnormal or zero in half: round to nearest even
    float a;
    std::memcpy(&a, &absx, 4);
    const float scaled = a * 16777216.0f; // 2^24: half's smallest subnormal is 2^-24
    bits = static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
    return;
  }
  const uint32_t mant = absx & 0x7fffffu;
  uint32_t h = ((absx >> 23) - 112) << 10 | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h; // carries into the exponent correctly
  bits = static_cast<uint16_t>(sign | h);
}

Half::operator float() const {
  const uint32_t sign = (bits & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1fu, mant = bits & 0x3ffu;
  float out;
  if (exp == 0) {
    out = std::ldexp(static_cast<float>(mant), -24);
    if (sign) out = -out;
    return out;
  }
  uint32_t u = exp == 31 ? (sign | 0x7f800000u | (mant << 13))
                         : (sign | ((exp + 112) << 23) | (mant << 13));
  std::memcpy(&out, &u, 4);
  return out;
}

const char* dtype_name(DType d) {
  static const char* names[] = {"bool",  "uint8",   "int8",     "int16",   "int32",
                                "int64", "float16", "bfloat16", "float32", "float64"};
  return names[static_cast<int>(d)];
}

bool dtype_from_name(const std::string& name, DType& out) {
  for (int d = 0; d <= static_cast<int>(DType::Float64); ++d)
    if (name == dtype_name(static_cast<DType>(d))) {
      out = static_cast<DType>(d);
      return true;
    }
  return false;
}

size_t itemsize(DType d) {
  static const size_t sizes[] = {1, 1, 1, 2, 4, 8, 2, 2, 4, 8};
  return sizes[static_cast<int>(d)];
}

bool is_floating(DType d) { return d >= DType::Float16; }
bool is_integral(DType d) { return d >= DType::UInt8 && d <= DType::Int64; }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  if (is_floating(a) != is_floating(b)) return is_floating(a) ? a : b;
  if (is_floating(a)) {
    if ((a == DType::Float16 && b == DType::BFloat16) || (a == DType::BFloat16 && b == DType::Float16))
      return DType::Float32;
    return itemsize(a) >= itemsize(b) ? a : b;
  }
  // Integers: uint8 with a signed type needs a signed type that holds 0..255.
  if (a == DType::UInt8 || b == DType::UInt8) {
    DType other = a == DType::UInt8 ? b : a;
    return other == DType::Int8 ? DType::Int16 : other;
  }
  return itemsize(a) >= itemsize(b) ? a : b;
}

} // namespace ember
