// cuBLAS, loaded with dlopen at first use (never linked): ember's GEMM on CUDA devices.
#pragma once

#include "ember/runtime/DType.h"

#include <cstdint>

namespace ember::cuda {

// Row-major batched GEMM on the current device: C[b] = op(A[b]) @ op(B[b]) for b < batch, where
// op transposes when trans_* is set; A is m x k after op, B is k x n, C is m x n; ld* are the
// row strides and s* the batch strides, in elements. dtype: float32, float64, float16, bfloat16
// (half types accumulate in float32). float32 uses TF32 tensor cores only when allowed.
void gemm(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          const void* a, int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb, void* c,
          int64_t ldc, int64_t sc, int64_t batch);

// PyTorch's torch.backends.cuda.matmul.allow_tf32 (default false).
void set_allow_tf32(bool allow);
bool allow_tf32();

} // namespace ember::cuda
