#include "ember/kernels/Elementwise.h"

#include <vector>

namespace ember::kernels {
namespace {

struct FirstFn {
  float operator()(float x, float) const { return x; }
};

struct AddFn {
  float operator()(float x, float y) const { return x + y; }
};

// Walks the output in row-major order; the innermost dimension is a tight loop the compiler
// vectorizes when both inputs are unit-stride.
template <typename Fn>
void run(Fn fn, StridedView a, StridedView b, float* out, const int64_t* shape, int ndim) {
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
    } else {
      for (int64_t i = 0; i < inner; ++i) po[i] = fn(pa[i * as], pb[i * bs]);
    }
    for (int d = ndim - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

} // namespace

void binary_f32(BinaryOp op, StridedView a, StridedView b, float* out, const int64_t* shape,
                int ndim) {
  switch (op) {
  case BinaryOp::Add:
    return run(AddFn{}, a, b, out, shape, ndim);
  }
}

void copy_f32(StridedView src, float* out, const int64_t* shape, int ndim) {
  run(FirstFn{}, src, src, out, shape, ndim);
}

} // namespace ember::kernels
