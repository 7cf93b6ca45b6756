// Eager CPU elementwise kernels over strided float32 buffers. Broadcasting is expressed by the
// caller with stride 0 along broadcast dimensions, so one loop serves every layout. The scalar
// function is a template parameter: the op records (frontend) instantiate it.
#pragma once

#include <cstdint>
#include <vector>

namespace ember::kernels {

struct StridedView {
  const float* data;
  const int64_t* strides; // in elements, one per output dimension (0 = broadcast)
};

// out[i] = fn(a[i], b[i]) for every index i of `shape` (ndim dims); `out` is contiguous.
// Unary ops pass the same view twice and ignore the second argument.
template <typename Fn>
void map2_f32(Fn fn, StridedView a, StridedView b, float* out, const int64_t* shape, int ndim) {
  if (ndim == 0) {
    out[0] = fn(a.data[0], b.data[0]);
    return;
  }
  const int64_t inner = shape[ndim - 1];
  const int64_t as = a.strides[ndim - 1], bs = b.strides[ndim - 1];
  int64_t outer = 1;
  for (int d = 0; d < ndim - 1; ++d) outer *= shape[d];
  std::vector<int64_t> idx(ndim, 0);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t aoff = 0, boff = 0;
    for (int d = 0; d < ndim - 1; ++d) {
      aoff += idx[d] * a.strides[d];
      boff += idx[d] * b.strides[d];
    }
    const float* pa = a.data + aoff;
    const float* pb = b.data + boff;
    float* po = out + o * inner;
    if (as == 1 && bs == 1) {
      for (int64_t i = 0; i < inner; ++i) po[i] = fn(pa[i], pb[i]);
    } else if (as == 1 && bs == 0) {
      const float y = pb[0];
      for (int64_t i = 0; i < inner; ++i) po[i] = fn(pa[i], y);
    } else {
      for (int64_t i = 0; i < inner; ++i) po[i] = fn(pa[i * as], pb[i * bs]);
    }
    for (int d = ndim - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Gathers a strided buffer into contiguous `out` (row-major over `shape`).
void copy_f32(StridedView src, float* out, const int64_t* shape, int ndim);

// C[M,N] = A[M,K] @ B[K,N]; all row-major contiguous.
void matmul_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n);
// C[M,N] += A[M,K] @ B[K,N] (linalg.matmul's semantics; JIT code calls it).
void matmul_acc_f32(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n);

// Sums a contiguous tensor of `shape` over the dimensions with reduce[d] true; `out` is
// contiguous over the kept dimensions.
void sum_f32(const float* in, const int64_t* shape, int ndim, const bool* reduce, float* out);

} // namespace ember::kernels
