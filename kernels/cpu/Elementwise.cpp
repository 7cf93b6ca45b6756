#include "ember/kernels/Elementwise.h"

#include "Simd.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace ember::kernels {

namespace {

// The helpers are always inlined into the per-ISA copies below, so GCC's note about the
// vector-return ABI of the non-AVX build does not apply (the pragma ends at the file's end).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
using namespace simd;

// C[0:R, 0:16] += A[0:R, 0:k] @ B[0:k, 0:16] with 2R accumulators in registers. A's element
// [r][p] is a[r * ars + p * acs] (row-major or transposed); B's rows are ldb apart.
// C[0:R, 0:16] = acc, or += acc when `add` (C rows ldc apart).
template <int R>
__attribute__((always_inline)) inline void store_tile(const v8f (&acc)[R][2], float* c, int64_t ldc,
                                                      bool add) {
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 2; ++v) {
      float* p = c + r * ldc + v * 8;
      store8(p, add ? load8(p) + acc[r][v] : acc[r][v]);
    }
}

// `add`: C += the product; otherwise C = it (the first K block of an overwriting product).
template <int R, bool kRowMajorA>
__attribute__((always_inline)) inline void micro_kernel(const float* a, const float* b, float* c,
                                                        int64_t k, int64_t ldb, int64_t ldc,
                                                        int64_t ars, int64_t acs_runtime,
                                                        bool add) {
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
  store_tile<R>(acc, c, ldc, add);
}

// The same with A packed: element [r][p] at a[p * R + r] (one contiguous stream).
template <int R>
__attribute__((always_inline)) inline void micro_kernel_packed(const float* a, const float* b, float* c,
                                                               int64_t k, int64_t ldc, bool add) {
  v8f acc[R][2] = {};
  for (int64_t p = 0; p < k; ++p) {
    const v8f b0 = load8(b + p * 16), b1 = load8(b + p * 16 + 8);
    for (int r = 0; r < R; ++r) {
      const float av = a[p * R + r];
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  store_tile<R>(acc, c, ldc, add);
}

} // namespace

// C[:, p0*16 : p1*16] += A @ B[:, same columns]. Compiled once per instruction set below.
template <bool kRowMajorA>
__attribute__((always_inline)) inline void micro_rows(int rows, const float* ap, const float* bp,
                                                      float* cp, int64_t kc, int64_t ldb,
                                                      int64_t ldc, int64_t ars, int64_t acs,
                                                      bool add) {
  // Channel counts are 2 or 4 mod 6: the last rows get a register kernel too.
  switch (rows) {
  case 6: micro_kernel<6, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  case 5: micro_kernel<5, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  case 4: micro_kernel<4, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  case 3: micro_kernel<3, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  case 2: micro_kernel<2, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  default: micro_kernel<1, kRowMajorA>(ap, bp, cp, kc, ldb, ldc, ars, acs, add); break;
  }
}

// The calling thread's buffers for packed panels (64-byte aligned, kept for the thread's life):
// `which` 0 holds B's, 1 a transposed A's.
static float* thread_pack_buffer(size_t floats, int which) {
  struct Buffer {
    float* data = nullptr;
    size_t size = 0;
    ~Buffer() { ::operator delete(data, std::align_val_t(64)); }
  };
  static thread_local Buffer bufs[2];
  Buffer& buf = bufs[which];
  if (buf.size < floats) {
    ::operator delete(buf.data, std::align_val_t(64));
    buf.data = static_cast<float*>(::operator new(sizeof(float) * floats, std::align_val_t(64)));
    buf.size = floats;
  }
  return buf.data;
}

// A's element [i][p] is a[i * ars + p * acs]; B is row-major [k, n] with rows ldb apart, or,
// when b_trans, stored as B^T ([n, k], rows ldb apart; packed reading along B^T's rows, so no
// transposed copy of B).
// `overwrite`: C = A @ B (C's old contents never read: no zero fill, no read of C on the first
// K block); otherwise C += A @ B.
__attribute__((always_inline)) inline void gemm_panels(const float* a, int64_t ars, int64_t acs,
                                                       const float* b, bool b_trans, int64_t ldb,
                                                       float* c, int64_t m, int64_t k, int64_t n,
                                                       int64_t p0, int64_t p1, bool overwrite) {
  constexpr int R = 6, W = 16;
  constexpr int64_t KB = 256, MB = 96;
  if (m <= 2 && !b_trans) {
    // One or two rows (batch-1 inference): stream B's rows, each read once and contiguously,
    // into the thread's slice of C: a memory-bound GEMV rather than 16-column panels.
    const int64_t j0 = p0 * W, j1 = std::min(n, p1 * W), full = j0 + (j1 - j0) / 8 * 8;
    // Four rows of B per sweep of C's slice: a quarter of the loads and stores of C. With one
    // row per sweep, each store to C[j] was followed by a load of B[j] at the same address
    // modulo 4 KiB whenever C and B's rows (4 KiB apart for n = 1024) shared a page offset,
    // and the loads waited on the stores (the deployed MLP's layers ran 1.6x slower there).
    for (int64_t i = 0; i < m; ++i) {
      float* ci = c + i * n;
      if (overwrite) std::fill(ci + j0, ci + j1, 0.0f);
      const float* ai = a + i * ars;
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
        const float a0 = ai[p * acs], a1 = ai[(p + 1) * acs], a2 = ai[(p + 2) * acs],
                    a3 = ai[(p + 3) * acs];
        const float *b0 = b + p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        for (int64_t j = j0; j < full; j += 8)
          store8(ci + j, load8(ci + j) + a0 * load8(b0 + j) + a1 * load8(b1 + j) +
                             a2 * load8(b2 + j) + a3 * load8(b3 + j));
        for (int64_t j = full; j < j1; ++j)
          ci[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
      }
      for (; p < k; ++p) {
        const float av = ai[p * acs];
        const float* bp = b + p * ldb;
        for (int64_t j = j0; j < full; j += 8) store8(ci + j, load8(ci + j) + av * load8(bp + j));
        for (int64_t j = full; j < j1; ++j) ci[j] += av * bp[j];
      }
    }
    return;
  }
  // Blocks (BLIS's order): for each K block, the thread's B columns (up to NP panels at a
  // time) are packed panel-major into one buffer, reading B's rows contiguously (a row at a
  // time: the hardware prefetcher follows it; gathering a panel's 16 floats from rows ldb apart
  // left each row a cache miss). A [MB, KB] stays in L2 while the packed panels stream past it;
  // each panel [KB, 16] stays in L1 for the MB / R micro-kernel calls. A right-edge panel is
  // zero-padded to 16 columns and its rows go through a register tile.
  constexpr int64_t NP = 64;
  alignas(64) float tile[R * W];
  float* const packbuf = thread_pack_buffer(KB * W * NP, 0);
  // A transposed (A^T stored row-major: a row of A is a column there, its entries m floats
  // apart) is packed per [MB, KB] block into R-row slivers, each [KB][R] contiguous: read in
  // place, each k step of a sliver was a new cache line 4*m bytes from the last, and for m a
  // multiple of 1024 those lines all fell into one L1 set.
  const bool packA = acs != 1;
  float* const apack = packA ? thread_pack_buffer(MB * KB, 1) : nullptr;
  const int64_t jend = std::min(n, p1 * W);
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    const int64_t kc = std::min(KB, k - k0);
    const bool add = !(overwrite && k0 == 0);
    for (int64_t q0 = p0; q0 < p1; q0 += NP) {
      const int64_t q1 = std::min(p1, q0 + NP);
      const int64_t c0 = q0 * W, c1 = std::min(jend, q1 * W);
      const int64_t full = c0 + (c1 - c0) / W * W; // columns of whole panels
      if (b_trans) {
        // B^T's rows are contiguous along k: 8x8 blocks are transposed in registers.
        const int64_t kc8 = kc / 8 * 8;
        for (int64_t j = c0; j < full; j += 8) {
          float* dst = packbuf + ((j - c0) / W) * KB * W + (j - c0) % W;
          const float* src = b + j * ldb + k0;
          for (int64_t p = 0; p < kc8; p += 8) transpose8x8(src + p, ldb, dst + p * W, W);
          for (int64_t p = kc8; p < kc; ++p)
            for (int jj = 0; jj < 8; ++jj) dst[p * W + jj] = src[jj * ldb + p];
        }
        for (int64_t j = full; j < c1; ++j) {
          float* dst = packbuf + ((j - c0) / W) * KB * W + (j - c0) % W;
          const float* src = b + j * ldb + k0;
          for (int64_t p = 0; p < kc; ++p) dst[p * W] = src[p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = b + (k0 + p) * ldb;
          float* dst = packbuf + p * W;
          for (int64_t j = c0; j < full; j += W, dst += KB * W) {
            store8(dst, load8(src + j));
            store8(dst + 8, load8(src + j + 8));
          }
          for (int64_t j = full; j < c1; ++j) dst[j - full] = src[j];
        }
      }
      if (full < c1) { // zero-pad the right-edge panel
        float* dst = packbuf + ((full - c0) / W) * KB * W;
        for (int64_t p = 0; p < kc; ++p)
          for (int64_t j = c1 - full; j < W; ++j) dst[p * W + j] = 0.0f;
      }
      for (int64_t m0 = 0; m0 < m; m0 += MB) {
        const int64_t m1 = std::min(m, m0 + MB);
        if (packA)
          for (int64_t i0 = m0; i0 < m1; i0 += R) {
            const int rows = static_cast<int>(std::min<int64_t>(R, m1 - i0));
            float* dst = apack + (i0 - m0) * kc;
            const float* src = a + i0 * ars + k0 * acs;
            for (int64_t p = 0; p < kc; ++p)
              for (int r = 0; r < rows; ++r) dst[p * rows + r] = src[p * acs + r * ars];
          }
        for (int64_t j0 = c0; j0 < c1; j0 += W) {
          const float* pack = packbuf + ((j0 - c0) / W) * KB * W;
          const int cols = static_cast<int>(std::min<int64_t>(W, c1 - j0));
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
            if (packA) {
              const float* pa = apack + (i0 - m0) * kc;
              switch (rows) {
              case 6: micro_kernel_packed<6>(pa, pack, out, kc, ldc, add); break;
              case 5: micro_kernel_packed<5>(pa, pack, out, kc, ldc, add); break;
              case 4: micro_kernel_packed<4>(pa, pack, out, kc, ldc, add); break;
              case 3: micro_kernel_packed<3>(pa, pack, out, kc, ldc, add); break;
              case 2: micro_kernel_packed<2>(pa, pack, out, kc, ldc, add); break;
              default: micro_kernel_packed<1>(pa, pack, out, kc, ldc, add); break;
              }
            } else {
              micro_rows<true>(rows, ap, pack, out, kc, W, ldc, ars, acs, add);
            }
            if (cols < W)
              for (int r = 0; r < rows; ++r)
                for (int j = 0; j < cols; ++j)
                  cp[r * n + j] = add ? cp[r * n + j] + tile[r * W + j] : tile[r * W + j];
          }
        }
      }
    }
  }
}

// One copy per instruction set, chosen at load time (the machine need not match the build's).
// AVX2 goes with FMA: target_clones' "avx2" alone leaves out FMA, and the multiply-adds ran
// as separate multiplies and adds (half speed) on AVX2 machines.
using GemmPanels = void (*)(const float*, int64_t, int64_t, const float*, bool, int64_t, float*,
                            int64_t, int64_t, int64_t, int64_t, int64_t, bool);
#define EMBER_GEMM_ARGS                                                                        \
  const float *a, int64_t ars, int64_t acs, const float *b, bool bt, int64_t ldb, float *c,     \
      int64_t m, int64_t k, int64_t n, int64_t p0, int64_t p1, bool ow
__attribute__((target("avx512f,avx512vl,fma"))) void gemm_panels_avx512(EMBER_GEMM_ARGS) {
  gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow);
}
__attribute__((target("avx2,fma"))) void gemm_panels_avx2(EMBER_GEMM_ARGS) {
  gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow);
}
void gemm_panels_generic(EMBER_GEMM_ARGS) { gemm_panels(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow); }
#undef EMBER_GEMM_ARGS

GemmPanels pick_gemm_panels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return gemm_panels_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return gemm_panels_avx2;
  return gemm_panels_generic;
}

namespace {
void matmul_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride, const float* b,
                    bool b_trans, int64_t ldb, float* c, int64_t m, int64_t k, int64_t n,
                    bool overwrite) {
  if (overwrite && k == 0) return std::fill(c, c + m * n, 0.0f);
  // Threads own disjoint column panels of C: no synchronization inside.
  const int64_t panels = (n + 15) / 16;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, m * k / 8));
  static const GemmPanels run = pick_gemm_panels();
  parallel_for(panels, grain, [&](int64_t p0, int64_t p1) {
    run(a, a_row_stride, a_col_stride, b, b_trans, ldb, c, m, k, n, p0, p1, overwrite);
  });
}
} // namespace

void matmul_acc_f32_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride,
                            const float* b, bool b_trans, int64_t ldb, float* c, int64_t m,
                            int64_t k, int64_t n) {
  matmul_strided(a, a_row_stride, a_col_stride, b, b_trans, ldb, c, m, k, n, false);
}

void matmul_f32_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride,
                        const float* b, bool b_trans, int64_t ldb, float* c, int64_t m, int64_t k,
                        int64_t n) {
  matmul_strided(a, a_row_stride, a_col_stride, b, b_trans, ldb, c, m, k, n, true);
}

void matmul_acc_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  matmul_acc_f32_strided(a, k, 1, b, false, n, c, m, k, n);
}

void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  matmul_f32_strided(a, k, 1, b, false, n, c, m, k, n);
}

#pragma GCC diagnostic pop

} // namespace ember::kernels
