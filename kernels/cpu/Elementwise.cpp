#include "ember/kernels/Elementwise.h"
#include "ember/kernels/VecMath.h"

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

// C[0:R, 0:W] += A[0:R, 0:k] @ B[0:k, 0:W] with R * NV accumulators in registers (V vectors of
// L floats, W = NV * L columns). A's element [r][p] is a[r * ars + p * acs] (row-major or
// transposed); B's rows are ldb apart. C[0:R, 0:W] = acc, or += acc when `add` (C rows ldc
// apart).
template <typename V, int R, int NV>
__attribute__((always_inline)) inline void store_tile(const V (&acc)[R][NV], float* c, int64_t ldc,
                                                      bool add) {
  constexpr int L = sizeof(V) / sizeof(float);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) {
      float* p = c + r * ldc + v * L;
      storev<V>(p, add ? loadv<V>(p) + acc[r][v] : acc[r][v]);
    }
}

// `add`: C += the product; otherwise C = it (the first K block of an overwriting product).
template <typename V, int R, int NV, bool kRowMajorA>
__attribute__((always_inline)) inline void micro_kernel(const float* a, const float* b, float* c,
                                                        int64_t k, int64_t ldb, int64_t ldc,
                                                        int64_t ars, int64_t acs_runtime,
                                                        bool add) {
  constexpr int L = sizeof(V) / sizeof(float);
  const int64_t acs = kRowMajorA ? 1 : acs_runtime; // a constant stride for the common case
  V acc[R][NV] = {};
  for (int64_t p = 0; p < k; ++p) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = loadv<V>(b + p * ldb + v * L);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * ars + p * acs];
      for (int v = 0; v < NV; ++v) acc[r][v] += av * bv[v];
    }
  }
  store_tile<V, R, NV>(acc, c, ldc, add);
}

// The same with A packed: element [r][p] at a[p * R + r] (one contiguous stream), B's panel
// rows W = NV * L floats apart.
template <typename V, int R, int NV>
__attribute__((always_inline)) inline void micro_kernel_packed(const float* a, const float* b, float* c,
                                                               int64_t k, int64_t ldc, bool add) {
  constexpr int L = sizeof(V) / sizeof(float), W = NV * L;
  V acc[R][NV] = {};
  for (int64_t p = 0; p < k; ++p) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = loadv<V>(b + p * W + v * L);
    for (int r = 0; r < R; ++r) {
      const float av = a[p * R + r];
      for (int v = 0; v < NV; ++v) acc[r][v] += av * bv[v];
    }
  }
  store_tile<V, R, NV>(acc, c, ldc, add);
}

} // namespace

// C[rows, W columns] (+)= A @ B's panel for rows <= R: a register kernel for each row count
// (channel counts are 2 or 4 mod 6, so the last rows get one too). Compiled once per
// instruction set below.
template <typename V, int R, int NV>
__attribute__((always_inline)) inline void micro_rows(int rows, const float* ap, const float* bp,
                                                      float* cp, int64_t kc, int64_t ldb,
                                                      int64_t ldc, int64_t ars, int64_t acs,
                                                      bool add) {
  if constexpr (R > 1)
    if (rows < R) return micro_rows<V, R - 1, NV>(rows, ap, bp, cp, kc, ldb, ldc, ars, acs, add);
  micro_kernel<V, R, NV, true>(ap, bp, cp, kc, ldb, ldc, ars, acs, add);
}
template <typename V, int R, int NV>
__attribute__((always_inline)) inline void micro_rows_packed(int rows, const float* pa, const float* bp,
                                                             float* cp, int64_t kc, int64_t ldc,
                                                             bool add) {
  if constexpr (R > 1)
    if (rows < R) return micro_rows_packed<V, R - 1, NV>(rows, pa, bp, cp, kc, ldc, add);
  micro_kernel_packed<V, R, NV>(pa, bp, cp, kc, ldc, add);
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
// The micro-kernel: an R x W tile of C in R * NV vectors V (W = NV * lanes); `p0, p1` are
// units of W columns.
template <typename V, int R, int NV, int64_t KB, bool kPackRows>
__attribute__((always_inline)) inline void gemm_panels(const float* a, int64_t ars, int64_t acs,
                                                       const float* b, bool b_trans, int64_t ldb,
                                                       float* c, int64_t m, int64_t k, int64_t n,
                                                       int64_t p0, int64_t p1, bool overwrite) {
  constexpr int W = NV * int(sizeof(V) / sizeof(float));
  constexpr int64_t MB = 96;
  static_assert(MB % R == 0 && W % 8 == 0, "blocks hold whole tiles; panels whole 8-float vectors");
  if (m <= 2 && !b_trans) {
    // One or two rows (batch-1 inference): stream B's rows, each read once and contiguously,
    // into the thread's slice of C: a memory-bound GEMV rather than W-column panels.
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
  // each panel [KB, W] stays in L1 for the MB / R micro-kernel calls. A right-edge panel is
  // zero-padded to W columns and its rows go through a register tile.
  constexpr int64_t NP = 64;
  alignas(64) float tile[R * W];
  float* const packbuf = thread_pack_buffer(KB * W * NP, 0);
  // A transposed (A^T stored row-major: a row of A is a column there, its entries m floats
  // apart) is packed per [MB, KB] block into R-row slivers, each [KB][R] contiguous: read in
  // place, each k step of a sliver was a new cache line 4*m bytes from the last, and for m a
  // multiple of 1024 those lines all fell into one L1 set.
  // A row-major is packed too when kPackRows and its rows are 4 KiB or more apart (AVX-512's 12
  // row streams then share L1 sets and TLB entries; at n = 2048, 90 -> 99 GFLOP/s on Zen 4,
  // while on Zen 3's AVX2 kernel packing was slower at every size).
  const bool packA = acs != 1 || (kPackRows && ars >= 1024);
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
          for (int64_t j = c0; j < full; j += W, dst += KB * W)
            for (int v = 0; v < W; v += 8) store8(dst + v, load8(src + j + v));
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
            if (packA)
              micro_rows_packed<V, R, NV>(rows, apack + (i0 - m0) * kc, pack, out, kc, ldc, add);
            else
              micro_rows<V, R, NV>(rows, ap, pack, out, kc, W, ldc, ars, acs, add);
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
// as separate multiplies and adds (half speed) on AVX2 machines. AVX2: 6 x 16 tiles in 12 ymm
// accumulators; AVX-512: 12 x 32 tiles in 24 zmm (of 32): a 16-float lane per FMA, half the
// broadcasts of A per flop (Zen 4: 1.1-1.2x at n = 256..512, 1.09x at 2048 with A packed).
// The copy follows vec_isa() (so EMBER_CPU_ISA picks a lower one, as for the vector math).
using GemmPanels = void (*)(const float*, int64_t, int64_t, const float*, bool, int64_t, float*,
                            int64_t, int64_t, int64_t, int64_t, int64_t, bool);
struct GemmKernel {
  GemmPanels run;
  int64_t width; // columns per panel (the unit of p0, p1)
};
#define EMBER_GEMM_ARGS                                                                        \
  const float *a, int64_t ars, int64_t acs, const float *b, bool bt, int64_t ldb, float *c,     \
      int64_t m, int64_t k, int64_t n, int64_t p0, int64_t p1, bool ow
__attribute__((target("avx512f,avx512vl,fma"))) void gemm_panels_avx512(EMBER_GEMM_ARGS) {
  gemm_panels<v16f, 12, 2, 256, true>(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow);
}
__attribute__((target("avx2,fma"))) void gemm_panels_avx2(EMBER_GEMM_ARGS) {
  gemm_panels<v8f, 6, 2, 256, false>(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow);
}
void gemm_panels_generic(EMBER_GEMM_ARGS) {
  gemm_panels<v8f, 6, 2, 256, false>(a, ars, acs, b, bt, ldb, c, m, k, n, p0, p1, ow);
}
#undef EMBER_GEMM_ARGS

GemmKernel pick_gemm_panels() {
#if defined(__x86_64__) || defined(__i386__)
  if (vec_isa() == VecIsa::Avx512) return {gemm_panels_avx512, 32};
  if (vec_isa() == VecIsa::Avx2) return {gemm_panels_avx2, 16};
#endif
  return {gemm_panels_generic, 16};
}

namespace {
void matmul_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride, const float* b,
                    bool b_trans, int64_t ldb, float* c, int64_t m, int64_t k, int64_t n,
                    bool overwrite) {
  if (overwrite && k == 0) return std::fill(c, c + m * n, 0.0f);
  // Threads own disjoint column panels of C: no synchronization inside.
  static const GemmKernel kernel = pick_gemm_panels();
  const int64_t panels = (n + kernel.width - 1) / kernel.width;
  const int64_t grain = std::max<int64_t>(
      1, kParallelGrain / std::max<int64_t>(1, m * k * kernel.width / 128));
  parallel_for(panels, grain, [&](int64_t p0, int64_t p1) {
    kernel.run(a, a_row_stride, a_col_stride, b, b_trans, ldb, c, m, k, n, p0, p1, overwrite);
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
