// The CPU GEMM's two entry points against a plain loop: matmul_f32_strided (C = A @ B, C's old
// contents never read: here they are NaN) and matmul_acc_f32_strided (C += A @ B), over the
// shapes that take different paths: two K blocks, right-edge panels, one and two rows (the GEMV
// path), transposed A (packed slivers) and transposed B (register transposes), 1 and 2 threads.
#include "ember/kernels/Elementwise.h"
#include "ember/runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {

struct Case {
  int64_t m, k, n;
  bool a_trans, b_trans;
};

void check(const Case& c, bool overwrite, int threads) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(c.m * c.k), b(c.k * c.n), start(c.m * c.n);
  for (auto& v : a) v = u(rng);
  for (auto& v : b) v = u(rng);
  for (auto& v : start) v = u(rng);
  // A[i][p] at a[i*ars + p*acs]; B stored row-major [k, n] or as B^T [n, k].
  const int64_t ars = c.a_trans ? 1 : c.k, acs = c.a_trans ? c.m : 1;
  const int64_t ldb = c.b_trans ? c.k : c.n;
  auto A = [&](int64_t i, int64_t p) { return a[i * ars + p * acs]; };
  auto B = [&](int64_t p, int64_t j) { return c.b_trans ? b[j * c.k + p] : b[p * c.n + j]; };
  std::vector<float> out(c.m * c.n);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = overwrite ? std::numeric_limits<float>::quiet_NaN() : start[i];
  ember::set_num_threads(threads);
  if (overwrite)
    ember::kernels::matmul_f32_strided(a.data(), ars, acs, b.data(), c.b_trans, ldb, out.data(),
                                       c.m, c.k, c.n);
  else
    ember::kernels::matmul_acc_f32_strided(a.data(), ars, acs, b.data(), c.b_trans, ldb,
                                           out.data(), c.m, c.k, c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double want = overwrite ? 0.0 : start[i * c.n + j];
      for (int64_t p = 0; p < c.k; ++p) want += double(A(i, p)) * B(p, j);
      ASSERT_NEAR(out[i * c.n + j], want, 1e-4 * (1 + std::sqrt(double(c.k))))
          << "m=" << c.m << " k=" << c.k << " n=" << c.n << " a_trans=" << c.a_trans
          << " b_trans=" << c.b_trans << " overwrite=" << overwrite << " threads=" << threads
          << " at " << i << "," << j;
    }
}

TEST(GemmKernel, OverwriteAndAccumulateOnEveryPath) {
  const int old = ember::get_num_threads();
  const Case cases[] = {{13, 300, 37, false, false}, {13, 300, 37, true, false},
                        {13, 300, 37, false, true},  {1, 70, 50, false, false},
                        {2, 70, 50, false, false},   {2, 70, 50, false, true},
                        {100, 128, 20, true, false}, {7, 0, 9, false, false},
                        // the GEMV path's four-row sweeps: fewer than four rows of B, a
                        // transposed A (its entries m apart), a 4 KiB row stride
                        {1, 3, 9, false, false},     {2, 9, 1024, true, false},
                        {1, 1027, 1024, false, false}};
  for (const Case& c : cases)
    for (bool overwrite : {true, false})
      for (int threads : {1, 2}) check(c, overwrite, threads);
  ember::set_num_threads(old);
}

} // namespace
