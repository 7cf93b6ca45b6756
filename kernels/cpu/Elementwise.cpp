#include "ember/kernels/Elementwise.h"

#include <algorithm>
#include <cstring>

namespace ember::kernels {

namespace {

// 8 floats; GCC/Clang lower it to one ymm register where the target has AVX, two xmm otherwise.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

// The helpers are always inlined into the per-ISA copies below, so GCC's note about the
// vector-return ABI of the non-AVX build does not apply (the pragma ends at the file's end).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
__attribute__((always_inline)) inline v8f load8(const float* p) {
  v8f v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, v8f v) { __builtin_memcpy(p, &v, sizeof v); }

// C[0:R, 0:16] += A[0:R, 0:k] @ B[0:k, 0:16] with 2R accumulators in registers. A's element
// [r][p] is a[r * ars + p * acs] (row-major or transposed); B's rows are ldb apart.
template <int R, bool kRowMajorA>
__attribute__((always_inline)) inline void micro_kernel(const float* a, const float* b, float* c,
                                                        int64_t k, int64_t ldb, int64_t ldc,
                                                        int64_t ars, int64_t acs_runtime) {
  const int64_t acs = kRowMajorA ? 1 : acs_runtime; // a constant stride for the common case
  v8f acc[R][2] = {};
  for (int64_t p = 0; p < k; ++p) {
    const v8f b0 = load8(b + p * ldb), b1 = load8(b + p * ldb + 8);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * ars + p * acs];
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    store8(c + r * ldc, load8(c + r * ldc) + acc[r][0]);
    store8(c + r * ldc + 8, load8(c + r * ldc + 8) + acc[r][1]);
  }
}

} // namespace

// C[:, p0*16 : p1*16] += A @ B[:, same columns]. Compiled once per instruction set below.
template <bool kRowMajorA>
__attribute__((always_inline)) inline void micro_rows(int rows, const float* ap, const float* bp,
                                                      float* cp, int64_t kc, int64_t ldb,
                                                      int64_t ldc, int64_t ars, int64_t acs) {
  // Channel counts are 2 or 4 mod 6: the last rows get a register kernel too.
  switch (rows) {
  case 6: micro_kernel<6, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  case 5: micro_kernel<5, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  case 4: micro_kernel<4, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  case 3: micro_kernel<3, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  case 2: micro_kernel<2, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  default: micro_kernel<1, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs); break;
  }
}

// A's element [i][p] is a[i * ars + p * acs]; B is row-major [k, n] with rows ldb apart, or,
// when b_trans, stored as B^T ([n, k], rows ldb apart): each [KB, 16] panel is then packed
// row-major into a small buffer first (read along B^T's rows, so no transposed copy of B).
__attribute__((always_inline)) inline void gemm_panels(const float* a, int64_t ars, int64_t acs,
                                                       const float* b, bool b_trans, int64_t ldb,
                                                       float* c, int64_t m, int64_t k, int64_t n,
                                                       int64_t p0, int64_t p1) {
  constexpr int R = 6, W = 16;
  constexpr int64_t KB = 256, MB = 96;
  if (m <= 2 && !b_trans) {
    // One or two rows (batch-1 inference): stream B's rows, each read once and contiguously,
    // into the thread's slice of C: a memory-bound GEMV rather than 16-column panels.
    const int64_t j0 = p0 * W, j1 = std::min(n, p1 * W), full = j0 + (j1 - j0) / 8 * 8;
    for (int64_t i = 0; i < m; ++i) {
      float* ci = c + i * n;
      for (int64_t p = 0; p < k; ++p) {
        const float av = a[i * ars + p * acs];
        const float* bp = b + p * ldb;
        for (int64_t j = j0; j < full; j += 8) store8(ci + j, load8(ci + j) + av * load8(bp + j));
        for (int64_t j = full; j < j1; ++j) ci[j] += av * bp[j];
      }
    }
    return;
  }
  alignas(64) float pack[KB * W];
  alignas(64) float tile[R * W];
  // Blocks: A [MB, KB] (96 KB) stays in L2 while the thread's column panels pass it; each B
  // panel [KB, 16] is packed contiguously (rows ldb apart map to a few L1 sets when ldb is a
  // multiple of 1-4 KB, and the panel kept evicting itself) and stays in L1 for the MB / R
  // micro-kernel calls. A right-edge panel is zero-padded to 16 columns and its rows go
  // through a register tile, so it runs the vector kernel too.
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    const int64_t kc = std::min(KB, k - k0);
    for (int64_t m0 = 0; m0 < m; m0 += MB) {
      const int64_t m1 = std::min(m, m0 + MB);
      for (int64_t j0 = p0 * W; j0 < std::min(n, p1 * W); j0 += W) {
        const int cols = static_cast<int>(std::min<int64_t>(W, n - j0));
        if (b_trans) {
          for (int j = 0; j < cols; ++j) {
            const float* src = b + (j0 + j) * ldb + k0;
            for (int64_t p = 0; p < kc; ++p) pack[p * W + j] = src[p];
          }
        } else if (cols == W) {
          const float* src = b + k0 * ldb + j0;
          for (int64_t p = 0; p < kc; ++p) { // two vector moves per row (no memcpy call)
            store8(pack + p * W, load8(src + p * ldb));
            store8(pack + p * W + 8, load8(src + p * ldb + 8));
          }
        } else {
          for (int64_t p = 0; p < kc; ++p)
            for (int j = 0; j < cols; ++j) pack[p * W + j] = b[(k0 + p) * ldb + j0 + j];
        }
        if (cols < W)
          for (int64_t p = 0; p < kc; ++p)
            for (int j = cols; j < W; ++j) pack[p * W + j] = 0.0f;
        for (int64_t i0 = m0; i0 < m1; i0 += R) {
          const int rows = static_cast<int>(std::min<int64_t>(R, m1 - i0));
          const float* ap = a + i0 * ars + k0 * acs;
          float* cp = c + i0 * n + j0;
          float* out = cp;
          int64_t ldc = n;
          if (cols < W) {
            std::memset(tile, 0, sizeof tile);
            out = tile;
            ldc = W;
          }
          if (acs == 1) micro_rows<true>(rows, ap, pack, out, kc, W, ldc, ars, acs);
          else micro_rows<false>(rows, ap, pack, out, kc, W, ldc, ars, acs);
          if (cols < W)
            for (int r = 0; r < rows; ++r)
              for (int j = 0; j < cols; ++j) cp[r * n + j] += tile[r * W + j];
        }
      }
    }
  }
}

// One copy per instruction set, chosen at load time (the machine need not match the build's).
// AVX2 goes with FMA: target_clones' "avx2" alone leaves out FMA, and the multiply-adds ran
// as separate multiplies and adds (half speed) on AVX2 machines.
using GemmPanels = void (*)(const float*, int64_t, int64_t, const float*, bool, int64_t, float*,
                            int64_t, int64_t, int64_t, int64_t, int64_t);
#define EMBER_GEMM_ARGS                                                                        \
  const float *a, int64_t ars, int64_t acs, const float *b, bool bt, int64_t ldb, float *c,     \
      int64_t m, int64_t k, int64_t n, int64_t p0, int64_t p1
__attribute__((target("avx512f,avx512vl,fma"))) void gemm_panels_avx512(EMBER_GEMM_ARGS) {
  gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1);
}
__attribute__((target("avx2,fma"))) void gemm_panels_avx2(EMBER_GEMM_ARGS) {
  gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1);
}
void gemm_panels_generic(EMBER_GEMM_ARGS) { gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1); }
#undef EMBER_GEMM_ARGS

GemmPanels pick_gemm_panels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return gemm_panels_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return gemm_panels_avx2;
  return gemm_panels_generic;
}

void matmul_acc_f32_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride,
                            const float* b, bool b_trans, int64_t ldb, float* c, int64_t m,
                            int64_t k, int64_t n) {
  // Threads own disjoint column panels of C: no synchronization inside.
  const int64_t panels = (n + 15) / 16;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, m * k / 8));
  static const GemmPanels run = pick_gemm_panels();
  parallel_for(panels, grain, [&](int64_t p0, int64_t p1) {
    run(a, a_row_stride, a_col_stride, b, b_trans, ldb, c, m, k, n, p0, p1);
  });
}

void matmul_acc_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  matmul_acc_f32_strided(a, k, 1, b, false, n, c, m, k, n);
}

void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  std::memset(c, 0, sizeof(float) * m * n);
  matmul_acc_f32(a, b, c, m, k, n);
}

#pragma GCC diagnostic pop

} // namespace ember::kernels
