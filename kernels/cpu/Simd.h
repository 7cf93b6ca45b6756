// Internal to the CPU kernels: 8-float vectors written with GCC's vector extensions, so every
// per-ISA copy of a kernel (target attributes) compiles them to its own instructions. Files
// that include this build with -Wno-psabi: the helpers are always inlined, so the note about
// the vector-return ABI of the non-AVX build does not apply.
#pragma once

#include <cstdint>

namespace ember::kernels::simd {

// 8 floats; GCC/Clang lower it to one ymm register where the target has AVX, two xmm otherwise.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

// 16 floats: one zmm register under AVX-512 (the GEMM's AVX-512 micro-kernel).
typedef float v16f __attribute__((vector_size(64), aligned(4)));

// Unaligned loads and stores of either vector type.
template <typename V>
__attribute__((always_inline)) inline V loadv(const float* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
__attribute__((always_inline)) inline void storev(float* p, V v) { __builtin_memcpy(p, &v, sizeof v); }
__attribute__((always_inline)) inline v8f load8(const float* p) { return loadv<v8f>(p); }
__attribute__((always_inline)) inline void store8(float* p, v8f v) { storev(p, v); }

// dst[q * ldd + r] = src[r * lds + q] for an 8x8 block (unpack, shuffle, then 128-bit lane
// swaps: the AVX transpose, written with GCC's vector shuffles so every ISA copy compiles it).
__attribute__((always_inline)) inline void transpose8x8(const float* src, int64_t lds, float* dst,
                                                        int64_t ldd) {
  v8f r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = load8(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + h * 2] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + h * 2 + 1] = __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int q = 0; q < 4; ++q) {
    store8(dst + q * ldd, __builtin_shufflevector(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11));
    store8(dst + (q + 4) * ldd, __builtin_shufflevector(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15));
  }
}

} // namespace ember::kernels::simd
