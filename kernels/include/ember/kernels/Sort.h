// argsort along one dimension of a strided array: the eager ArgSort kernel and the compiled
// ember.argsort (through its runtime entry) share it.
#pragma once

#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace ember::kernels {

// A strided view of the lines to sort: `lines` lines of `n` values each; value j of line r is at
// element offset line_offset(r) + j * step.
struct SortLines {
  int64_t lines = 1, n = 1, step = 1;
};

// For every line r (threaded over lines): the positions of its first `k` values in sorted order
// (descending when asked) written to out[out_offset(r) + j * out_step], j < k. NaN is the
// largest value (PyTorch's order); ties keep their order (stable, a partial sort for k < n too).
// `value(offset)` reads one value as a comparable type C; `in_offset(r)` / `out_offset(r)` give
// each line's first element.
template <typename C, typename Value, typename InOffset, typename OutOffset>
void argsort_lines(const SortLines& s, int64_t k, bool descending, int64_t out_step, Value value,
                   InOffset in_offset, OutOffset out_offset, int64_t* out) {
  const int64_t n = s.n;
  parallel_for(s.lines, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)),
               [&](int64_t b, int64_t e) {
    std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
    std::vector<C> v(order.size());
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = in_offset(r);
      for (int64_t j = 0; j < n; ++j) v[size_t(j)] = value(base + j * s.step);
      std::iota(order.begin(), order.end(), 0);
      auto before = [&](int64_t x, int64_t y) {
        const C vx = v[size_t(x)], vy = v[size_t(y)];
        const bool nx = vx != vx, ny = vy != vy;
        if (nx || ny) return nx == ny ? x < y : (descending ? nx : ny);
        if (vx != vy) return descending ? vx > vy : vx < vy;
        return x < y;
      };
      if (k < n) std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      else std::sort(order.begin(), order.end(), before);
      const int64_t o = out_offset(r);
      for (int64_t j = 0; j < k; ++j) out[o + j * out_step] = order[size_t(j)];
    }
  });
}

} // namespace ember::kernels
