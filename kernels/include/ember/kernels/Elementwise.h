// Eager CPU kernels over strided buffers. Broadcasting is expressed by the caller with stride 0
// along broadcast dimensions, so one loop serves every layout. Element types and the scalar
// function are template parameters: the op records (frontend) instantiate them.
#pragma once

#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ember::kernels {

template <typename T>
struct Strided {
  const T* data;
  const int64_t* strides; // in elements, one per output dimension (0 = broadcast)
};

// Elements per parallel chunk: below this, threads cost more than they save.
constexpr int64_t kParallelGrain = 32768;

// Calls body(flat_out_offset, a_offset, b_offset, i0, i1) for the pieces of rows that make up
// the flat output range [begin, end): elements i0..i1 of one innermost row.
template <typename Body>
void for_each_span(const int64_t* shape, int ndim, const int64_t* as, const int64_t* bs,
                   int64_t begin, int64_t end, Body body) {
  const int64_t inner = shape[ndim - 1];
  int64_t row = begin / inner, i = begin % inner;
  std::vector<int64_t> idx(ndim > 1 ? ndim - 1 : 1, 0);
  int64_t aoff = 0, boff = 0;
  for (int64_t d = ndim - 2, r = row; d >= 0; --d) {
    idx[d] = r % shape[d];
    r /= shape[d];
    aoff += idx[d] * as[d];
    boff += idx[d] * bs[d];
  }
  while (begin < end) {
    const int64_t stop = std::min(inner, i + (end - begin));
    body(row * inner, aoff, boff, i, stop);
    begin += stop - i;
    i = 0;
    ++row;
    for (int d = ndim - 2; d >= 0; --d) {
      aoff += as[d];
      boff += bs[d];
      if (++idx[d] < shape[d]) break;
      aoff -= as[d] * shape[d];
      boff -= bs[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// Calls body(row, a_offset, b_offset) for each whole row of the innermost dimension, in order.
template <typename Body>
void for_each_row(const int64_t* shape, int ndim, const int64_t* as, const int64_t* bs,
                  Body body) {
  if (ndim == 0) return body(0, 0, 0);
  const int64_t inner = shape[ndim - 1];
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  if (inner == 0) return;
  for_each_span(shape, ndim, as, bs, 0, total,
                [&](int64_t o, int64_t ao, int64_t bo, int64_t, int64_t) { body(o / inner, ao, bo); });
}

// out[i] = fn(a[i], b[i]) over `shape`; `out` is contiguous. Unary ops pass `a` twice.
// Large outputs are split across the thread pool.
template <typename Out, typename In, typename Fn>
void map2(Fn fn, Strided<In> a, Strided<In> b, Out* out, const int64_t* shape, int ndim) {
  if (ndim == 0) {
    out[0] = static_cast<Out>(fn(a.data[0], b.data[0]));
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  const int64_t as = a.strides[ndim - 1], bs = b.strides[ndim - 1];
  parallel_for(total, kParallelGrain, [&](int64_t begin, int64_t end) {
    for_each_span(shape, ndim, a.strides, b.strides, begin, end,
                  [&](int64_t o, int64_t ao, int64_t bo, int64_t i0, int64_t i1) {
      const In* pa = a.data + ao;
      const In* pb = b.data + bo;
      Out* po = out + o;
      if (as == 1 && bs == 1) {
        for (int64_t i = i0; i < i1; ++i) po[i] = static_cast<Out>(fn(pa[i], pb[i]));
      } else if (as == 1 && bs == 0) {
        const In y = pb[0];
        for (int64_t i = i0; i < i1; ++i) po[i] = static_cast<Out>(fn(pa[i], y));
      } else {
        for (int64_t i = i0; i < i1; ++i) po[i] = static_cast<Out>(fn(pa[i * as], pb[i * bs]));
      }
    });
  });
}

// Copies `batch` matrices that are stored transposed (element [r][c] of matrix i at
// src[i * bs + r + c * ld], i.e. column-major) into row-major `out` ([batch, rows, cols]),
// in cache-sized tiles: the column-order walk of a plain strided copy misses on every read.
template <typename Out, typename In>
void copy_transposed(const In* src, int64_t batch, int64_t bs, int64_t rows, int64_t cols,
                     int64_t ld, Out* out) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  parallel_for(batch * row_tiles, std::max<int64_t>(1, kParallelGrain / (kTile * std::max<int64_t>(cols, 1))),
               [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i = t / row_tiles, r0 = (t % row_tiles) * kTile, r1 = std::min(rows, r0 + kTile);
      const In* s = src + i * bs;
      Out* o = out + i * rows * cols;
      In tile[kTile][kTile]; // read down columns, write along rows: both sequential
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t c = c0; c < c1; ++c)
          for (int64_t r = r0; r < r1; ++r) tile[c - c0][r - r0] = s[r + c * ld];
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) o[r * cols + c] = static_cast<Out>(tile[c - c0][r - r0]);
      }
    }
  });
}

// Gathers (and converts) a strided buffer into contiguous `out`.
template <typename Out, typename In>
void copy(Strided<In> src, Out* out, const int64_t* shape, int ndim) {
  // A batch of transposed matrices (x.t(), x.transpose(-1, -2) of a dense tensor): tiles.
  if (ndim >= 2 && ndim <= 3 && src.strides[ndim - 2] == 1 && src.strides[ndim - 1] >= shape[ndim - 2] &&
      shape[ndim - 1] > 1 && shape[ndim - 2] > 1) {
    const int64_t batch = ndim == 3 ? shape[0] : 1, bs = ndim == 3 ? src.strides[0] : 0;
    return copy_transposed(src.data, batch, bs, shape[ndim - 2], shape[ndim - 1],
                           src.strides[ndim - 1], out);
  }
  map2<Out, In>([](In x, In) { return x; }, src, src, out, shape, ndim);
}

// Reduces contiguous `in` of `shape` over the dimensions with reduce[d] set: each output starts
// at `init` and takes combine(acc, value) in order; `out` is contiguous over kept dimensions.
template <typename Out, typename Acc, typename In, typename Combine>
void reduce(const In* in, const int64_t* shape, int ndim, const bool* reduce, Out* out, Acc init,
            Combine combine) {
  int64_t total = 1, out_total = 1;
  for (int d = 0; d < ndim; ++d) {
    total *= shape[d];
    if (!reduce[d]) out_total *= shape[d];
  }
  std::vector<Acc> acc(out_total, init);
  if (total > 0) {
    std::vector<int64_t> ostride(ndim, 0);
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; --d)
      if (!reduce[d]) {
        ostride[d] = s;
        s *= shape[d];
      }
    const int64_t inner = ndim ? shape[ndim - 1] : 1;
    const bool inner_reduced = ndim && reduce[ndim - 1];
    for_each_row(shape, ndim, ostride.data(), ostride.data(), [&](int64_t row, int64_t o, int64_t) {
      const In* p = in + row * inner;
      if (inner_reduced) {
        Acc a = acc[o];
        for (int64_t i = 0; i < inner; ++i) a = combine(a, static_cast<Acc>(p[i]));
        acc[o] = a;
      } else {
        for (int64_t i = 0; i < inner; ++i) acc[o + i] = combine(acc[o + i], static_cast<Acc>(p[i]));
      }
    });
  }
  for (int64_t i = 0; i < out_total; ++i) out[i] = static_cast<Out>(acc[i]);
}

// Index of the first best element along the middle dimension of contiguous [outer, n, inner]
// (better(x, best) decides; NaN counts as best, like PyTorch).
template <typename In, typename Better>
void arg_reduce(const In* in, int64_t outer, int64_t n, int64_t inner, int64_t* out, Better better) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const In* p = in + o * n * inner + i;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (better(p[j * inner], p[best * inner])) best = j;
      out[o * inner + i] = best;
    }
}

// C[M,N] = A[M,K] @ B[K,N]; row-major contiguous. float32: blocked, vectorized kernel.
void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n);
// C[M,N] += A[M,K] @ B[K,N] (linalg.matmul's semantics; JIT code calls it).
void matmul_acc_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n);
// c (row-major [m, n]) += A @ B where A's element [i][p] is a[i * a_row_stride + p *
// a_col_stride] (so a transposed A needs no copy) and B is row-major [k, n] with rows ldb
// apart, or, when b_trans, given as B^T: row-major [n, k] with rows ldb apart.
void matmul_acc_f32_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride,
                            const float* b, bool b_trans, int64_t ldb, float* c, int64_t m,
                            int64_t k, int64_t n);
// The same with C = A @ B: C's old contents are never read (no zero fill needed).
void matmul_f32_strided(const float* a, int64_t a_row_stride, int64_t a_col_stride,
                        const float* b, bool b_trans, int64_t ldb, float* c, int64_t m, int64_t k,
                        int64_t n);

// Any other element type: a plain loop accumulating in Acc.
template <typename T, typename Acc>
void matmul_generic(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n) {
  std::vector<Acc> row(n);
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), Acc(0));
    for (int64_t p = 0; p < k; ++p) {
      const Acc av = static_cast<Acc>(a[i * k + p]);
      for (int64_t j = 0; j < n; ++j) row[j] += av * static_cast<Acc>(b[p * n + j]);
    }
    for (int64_t j = 0; j < n; ++j) c[i * n + j] = static_cast<T>(row[j]);
  }
}

} // namespace ember::kernels
