// The GEMM entry points compiled code calls (JitRuntime.cpp), on the layouts MLIR hands them:
// row-major, transposed A and/or B (read in place by the kernel), a strided C (plain loop),
// size-1 dimensions with arbitrary strides, and batches with a broadcast (stride 0) operand;
// the accumulating entries (C += A @ B) and the overwriting ones (C = A @ B, C's old contents
// NaN, never read).
#include "ember/compiler/JitRuntime.h"
#include "ember/compiler/RuntimeABI.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using ember::compiler::abi::MemRef;

namespace {

void* symbol(const char* name) {
  for (auto& [n, p] : ember::compiler::cpuRuntimeSymbols())
    if (std::strcmp(n, name) == 0) return p;
  return nullptr;
}

struct Strided {
  std::vector<float> data;
  std::vector<int64_t> sizes, strides;
  float at(const std::vector<int64_t>& idx) const {
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d) o += idx[d] * strides[d];
    return data[o];
  }
};

// A [sizes] tensor stored with the given dimension order (outermost first), random values.
Strided make(std::vector<int64_t> sizes, std::vector<int> order, std::mt19937& rng) {
  Strided t{{}, sizes, std::vector<int64_t>(sizes.size())};
  int64_t step = 1;
  for (size_t i = order.size(); i-- > 0;) {
    t.strides[order[i]] = step;
    step *= sizes[order[i]];
  }
  std::uniform_real_distribution<float> u(-1, 1);
  t.data.resize(step);
  for (float& v : t.data) v = u(rng);
  return t;
}

template <int N>
MemRef<N> view(Strided& t) {
  MemRef<N> m{t.data.data(), t.data.data(), 0, {}, {}};
  for (int d = 0; d < N; ++d) {
    m.sizes[d] = t.sizes[d];
    m.strides[d] = t.strides[d];
  }
  return m;
}

void checkMatmul(bool overwrite, int64_t m, int64_t k, int64_t n, std::vector<int> ao,
                 std::vector<int> bo, std::vector<int> co) {
  std::mt19937 rng(7);
  Strided a = make({m, k}, ao, rng), b = make({k, n}, bo, rng), c = make({m, n}, co, rng);
  Strided want = c;
  if (overwrite) std::fill(c.data.begin(), c.data.end(), std::nanf(""));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = overwrite ? 0.0 : c.at({i, j});
      for (int64_t p = 0; p < k; ++p) s += double(a.at({i, p})) * b.at({p, j});
      int64_t o = i * c.strides[0] + j * c.strides[1];
      want.data[o] = float(s);
    }
  auto fn = reinterpret_cast<void (*)(MemRef<2>*, MemRef<2>*, MemRef<2>*)>(
      symbol(overwrite ? "_mlir_ciface_ember_cpu_matmul_f32" : "_mlir_ciface_ember_cpu_matmul_acc_f32"));
  ASSERT_NE(fn, nullptr);
  MemRef<2> ma = view<2>(a), mb = view<2>(b), mc = view<2>(c);
  fn(&ma, &mb, &mc);
  for (size_t i = 0; i < c.data.size(); ++i)
    EXPECT_NEAR(c.data[i], want.data[i], 1e-4)
        << (overwrite ? "C = A @ B " : "C += A @ B ") << m << "x" << k << "x" << n << " at " << i;
}

} // namespace

TEST(GemmRuntime, EveryOperandLayout) {
  const std::vector<int> row{0, 1}, col{1, 0};
  for (bool overwrite : {false, true})
    for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{37, 29, 45}, {1, 300, 17},
                           {20, 1, 33}, {9, 40, 1}, {64, 64, 64}, {6, 0, 5}})
      for (const auto& ao : {row, col})
        for (const auto& bo : {row, col})
          for (const auto& co : {row, col}) checkMatmul(overwrite, m, k, n, ao, bo, co);
}

TEST(GemmRuntime, BatchesWithABroadcastOperand) {
  for (bool overwrite : {false, true}) {
    std::mt19937 rng(3);
    const int64_t batch = 5, m = 13, k = 21, n = 17;
    Strided a = make({batch, m, k}, {0, 1, 2}, rng), c = make({batch, m, n}, {0, 1, 2}, rng);
    Strided b = make({1, k, n}, {0, 2, 1}, rng); // transposed, then broadcast over the batch
    b.sizes[0] = batch;
    b.strides[0] = 0;
    Strided want = c;
    if (overwrite) std::fill(c.data.begin(), c.data.end(), std::nanf(""));
    for (int64_t q = 0; q < batch; ++q)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = overwrite ? 0.0 : c.at({q, i, j});
          for (int64_t p = 0; p < k; ++p) s += double(a.at({q, i, p})) * b.at({q, p, j});
          want.data[q * m * n + i * n + j] = float(s);
        }
    auto fn = reinterpret_cast<void (*)(MemRef<3>*, MemRef<3>*, MemRef<3>*)>(
        symbol(overwrite ? "_mlir_ciface_ember_cpu_batch_matmul_f32"
                         : "_mlir_ciface_ember_cpu_batch_matmul_acc_f32"));
    ASSERT_NE(fn, nullptr);
    MemRef<3> ma = view<3>(a), mb = view<3>(b), mc = view<3>(c);
    fn(&ma, &mb, &mc);
    for (size_t i = 0; i < c.data.size(); ++i)
      EXPECT_NEAR(c.data[i], want.data[i], 1e-4) << (overwrite ? "C = A @ B " : "C += A @ B ") << i;
  }
}
