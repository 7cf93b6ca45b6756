// The argsort entry points compiled code calls (SortRuntime.cpp): registered for the JIT by
// name, and a stable sort (NaN largest) of every line of strided, offset buffers of any rank,
// read through unranked memref descriptors as MLIR passes them; a shorter output keeps the
// first k of each line's order.
#include "ember/compiler/JitRuntime.h"
#include "ember/compiler/RuntimeABI.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

using ember::compiler::abi::UnrankedMemRef;

namespace {

using ArgSortFn = void (*)(UnrankedMemRef*, UnrankedMemRef*, int64_t, int64_t);

ArgSortFn entry(const char* name) {
  for (auto& [n, p] : ember::compiler::cpuRuntimeSymbols())
    if (std::strcmp(n, name) == 0) return reinterpret_cast<ArgSortFn>(p);
  return nullptr;
}

// A ranked descriptor of rank N over `data`, and its unranked handle.
template <typename T, int N>
struct Desc {
  T* allocated;
  T* aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
  UnrankedMemRef handle() { return {N, this}; }
};

// The stable order of `line` (NaN largest), descending when asked.
template <typename T>
std::vector<int64_t> reference(const std::vector<T>& line, bool descending) {
  std::vector<int64_t> order(line.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int64_t i) { return double(line[size_t(i)]); };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const double x = key(a), y = key(b);
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) ? !descending : (std::isnan(y) ? false : descending);
    return descending ? x > y : x < y;
  });
  return order;
}

} // namespace

TEST(SortRuntime, StridedOffsetFloatLinesBothDimsAndTopK) {
  auto fn = entry("_mlir_ciface_ember_cpu_argsort_f32");
  ASSERT_NE(fn, nullptr);
  // A 5x9 matrix stored transposed (column-major) after 3 padding floats, with ties and NaNs.
  const int64_t rows = 5, cols = 9;
  std::vector<float> buf(3 + rows * cols);
  auto at = [&](int64_t r, int64_t c) -> float& { return buf[size_t(3 + c * rows + r)]; };
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) at(r, c) = float((r * 7 + c * 5) % 6) - 2.5f;
  at(1, 4) = at(3, 0) = at(3, 8) = std::numeric_limits<float>::quiet_NaN();
  Desc<float, 2> in{buf.data(), buf.data(), 3, {rows, cols}, {1, rows}};
  for (int64_t dim : {0, 1})
    for (bool descending : {false, true})
      for (int64_t k : {dim ? cols : rows, int64_t(2)}) {
        const int64_t lines = dim ? rows : cols, n = dim ? cols : rows;
        // The output strided too: its lines padded to n + 1 entries.
        std::vector<int64_t> out(size_t(lines * (n + 1)), -1);
        Desc<int64_t, 2> o{out.data(), out.data(), 0, {dim ? rows : k, dim ? k : cols}, {}};
        if (dim) o.strides[0] = n + 1, o.strides[1] = 1;
        else o.strides[0] = 1, o.strides[1] = n + 1;
        UnrankedMemRef a = in.handle(), b = o.handle();
        fn(&a, &b, dim, descending);
        for (int64_t l = 0; l < lines; ++l) {
          std::vector<float> line;
          for (int64_t j = 0; j < n; ++j) line.push_back(dim ? at(l, j) : at(j, l));
          std::vector<int64_t> want = reference(line, descending);
          for (int64_t j = 0; j < k; ++j)
            EXPECT_EQ(out[size_t(l * (n + 1) + j)], want[size_t(j)])
                << "dim " << dim << " descending " << descending << " k " << k << " line " << l;
          EXPECT_EQ(out[size_t(l * (n + 1) + n)], -1); // nothing written past the line
        }
      }
}

TEST(SortRuntime, IntegerBoolAndRank3AndZeroD) {
  // int32 [2, 3, 4] sorted along the middle dim; bool (one byte each) along its only dim.
  std::vector<int32_t> ints(24);
  for (size_t i = 0; i < ints.size(); ++i) ints[i] = int32_t((i * 11) % 5) - 2;
  Desc<int32_t, 3> in{ints.data(), ints.data(), 0, {2, 3, 4}, {12, 4, 1}};
  std::vector<int64_t> out(24);
  Desc<int64_t, 3> o{out.data(), out.data(), 0, {2, 3, 4}, {12, 4, 1}};
  UnrankedMemRef a = in.handle(), b = o.handle();
  entry("_mlir_ciface_ember_cpu_argsort_i32")(&a, &b, 1, 0);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t l = 0; l < 4; ++l) {
      std::vector<int32_t> line;
      for (int64_t j = 0; j < 3; ++j) line.push_back(ints[size_t(i * 12 + j * 4 + l)]);
      std::vector<int64_t> want = reference(line, false);
      for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(out[size_t(i * 12 + j * 4 + l)], want[size_t(j)]);
    }
  std::vector<uint8_t> bits{1, 0, 1, 1, 0, 0, 1};
  Desc<uint8_t, 1> bin{bits.data(), bits.data(), 0, {7}, {1}};
  std::vector<int64_t> bout(7);
  Desc<int64_t, 1> bo{bout.data(), bout.data(), 0, {7}, {1}};
  UnrankedMemRef c = bin.handle(), d = bo.handle();
  entry("_mlir_ciface_ember_cpu_argsort_i1")(&c, &d, 0, 1);
  EXPECT_EQ(bout, (std::vector<int64_t>{0, 2, 3, 6, 1, 4, 5}));
  // A 0-d input: one line of one value, position 0.
  int64_t scalar = 42, pos = -1;
  Desc<int64_t, 0> s0{&scalar, &scalar, 0, {}, {}};
  Desc<int64_t, 0> p0{&pos, &pos, 0, {}, {}};
  UnrankedMemRef e = {0, &s0}, f = {0, &p0};
  entry("_mlir_ciface_ember_cpu_argsort_i64")(&e, &f, 0, 0);
  EXPECT_EQ(pos, 0);
}
