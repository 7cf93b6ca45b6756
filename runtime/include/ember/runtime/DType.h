// Element types: the enum, their C++ types (with 16-bit floats), PyTorch's promotion rule, and
// a dispatch macro that instantiates a code block for each.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace ember {

enum class DType : uint8_t {
  Bool,
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  Float16,
  BFloat16,
  Float32,
  Float64,
};
constexpr int kNumDTypes = 10;

// IEEE binary16, stored as bits; arithmetic happens in float.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f);
  operator float() const;
};

// bfloat16: the upper half of a float32, rounded to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) bits = 0x7fc0; // NaN
    else bits = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

const char* dtype_name(DType dtype); // "float32", as in PyTorch
// The dtype named `name` (dtype_name's spelling); false when there is none.
bool dtype_from_name(const std::string& name, DType& out);
size_t itemsize(DType dtype);
bool is_floating(DType dtype);
bool is_integral(DType dtype); // integers, not bool
// PyTorch's promote_types.
DType promote_types(DType a, DType b);

// The type arithmetic happens in: float for 16-bit floats, the type itself otherwise.
template <typename T> struct ComputeType { using type = T; };
template <> struct ComputeType<Half> { using type = float; };
template <> struct ComputeType<BFloat16> { using type = float; };
template <typename T> using compute_t = typename ComputeType<T>::type;

} // namespace ember

// EMBER_DISPATCH(dtype, T, body): runs `body` with `T` the C++ type of `dtype`.
#define EMBER_DTYPE_CASE(E, CT, ...) \
  case ::ember::DType::E: {          \
    using T = CT;                    \
    __VA_ARGS__;                     \
    break;                           \
  }
#define EMBER_DISPATCH(dtype, ...)                            \
  switch (dtype) {                                            \
    EMBER_DTYPE_CASE(Bool, bool, __VA_ARGS__)                 \
    EMBER_DTYPE_CASE(UInt8, uint8_t, __VA_ARGS__)             \
    EMBER_DTYPE_CASE(Int8, int8_t, __VA_ARGS__)               \
    EMBER_DTYPE_CASE(Int16, int16_t, __VA_ARGS__)             \
    EMBER_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)             \
    EMBER_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)             \
    EMBER_DTYPE_CASE(Float16, ::ember::Half, __VA_ARGS__)     \
    EMBER_DTYPE_CASE(BFloat16, ::ember::BFloat16, __VA_ARGS__) \
    EMBER_DTYPE_CASE(Float32, float, __VA_ARGS__)             \
    EMBER_DTYPE_CASE(Float64, double, __VA_ARGS__)            \
  }
