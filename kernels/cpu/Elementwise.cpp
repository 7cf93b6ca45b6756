#include "ember/kernels/Elementwise.h"

#include <algorithm>
#include <cstring>

namespace ember::kernels {

namespace {

// 8 floats; GCC/Clang lower it to one ymm register where the target has AVX, two xmm otherwise.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

inline v8f load8(const float* p) {
  v8f v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) { __builtin_memcpy(p, &v, sizeof v); }

// C[0:R, 0:16] += A[0:R, 0:k] @ B[0:k, 0:16] with 2R accumulators in registers.
template <int R>
inline void micro_kernel(const float* a, const float* b, float* c, int64_t k, int64_t n,
                         int64_t lda) {
  v8f acc[R][2] = {};
  for (int64_t p = 0; p < k; ++p) {
    const v8f b0 = load8(b + p * n), b1 = load8(b + p * n + 8);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * lda + p];
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    store8(c + r * n, load8(c + r * n) + acc[r][0]);
    store8(c + r * n + 8, load8(c + r * n + 8) + acc[r][1]);
  }
}

// The edges (fewer than R rows or 16 columns left), scalar.
inline void edge_kernel(const float* a, const float* b, float* c, int64_t k, int64_t n,
                        int64_t lda, int rows, int cols) {
  for (int r = 0; r < rows; ++r)
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[r * lda + p];
      for (int j = 0; j < cols; ++j) c[r * n + j] += av * b[p * n + j];
    }
}

} // namespace

// C[:, p0*16 : p1*16] += A @ B[:, same columns]. One copy per instruction set, chosen at load
// time: the machine need not match the build's.
__attribute__((target_clones("avx512f", "avx2", "default")))
void gemm_panels(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n,
                 int64_t p0, int64_t p1) {
  constexpr int R = 6, W = 16;
  constexpr int64_t KB = 256;
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    const int64_t kc = std::min(KB, k - k0);
    for (int64_t j0 = p0 * W; j0 < std::min(n, p1 * W); j0 += W) {
      const int cols = static_cast<int>(std::min<int64_t>(W, n - j0));
      for (int64_t i0 = 0; i0 < m; i0 += R) {
        const int rows = static_cast<int>(std::min<int64_t>(R, m - i0));
        const float* ap = a + i0 * k + k0;
        const float* bp = b + k0 * n + j0;
        float* cp = c + i0 * n + j0;
        if (rows == R && cols == W) micro_kernel<R>(ap, bp, cp, kc, n, k);
        else edge_kernel(ap, bp, cp, kc, n, k, rows, cols);
      }
    }
  }
}

void matmul_acc_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  // Threads own disjoint column panels of C: no synchronization inside.
  const int64_t panels = (n + 15) / 16;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, m * k / 8));
  parallel_for(panels, grain, [&](int64_t p0, int64_t p1) { gemm_panels(a, b, c, m, k, n, p0, p1); });
}

void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  std::memset(c, 0, sizeof(float) * m * n);
  matmul_acc_f32(a, b, c, m, k, n);
}

} // namespace ember::kernels
