// Eager CPU elementwise kernels over strided float32 buffers. Broadcasting is expressed by the
// caller with stride 0 along broadcast dimensions, so one kernel serves every layout.
#pragma once

#include <cstdint>

namespace ember::kernels {

enum class BinaryOp { Add };

struct StridedView {
  const float* data;
  const int64_t* strides; // in elements, one per output dimension (0 = broadcast)
};

// out[i] = op(a[i], b[i]) for every index i of `shape` (ndim dims); `out` is contiguous.
void binary_f32(BinaryOp op, StridedView a, StridedView b, float* out, const int64_t* shape,
                int ndim);

// Gathers a strided buffer into contiguous `out` (row-major over `shape`).
void copy_f32(StridedView src, float* out, const int64_t* shape, int ndim);

} // namespace ember::kernels
