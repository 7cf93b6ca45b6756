// CUDA C for ember's eager GPU kernels, generated as text and compiled by NVRTC at first use
// (runtime/Cuda.h caches the result). Pointwise kernels take the op's scalar expression from its
// record (frontend/include/ember/ops/Elementwise.def), the same text the CPU kernels compile as
// C++ and the compiler builds into MLIR, so every backend evaluates one definition.
#pragma once

#include "ember/runtime/DType.h"

#include <string>
#include <vector>

namespace ember::kernels::cuda {

// Most dimensions a strided kernel indexes (after merging dimensions that are contiguous in
// every operand); PyTorch's CUDA limit is 25, ember's 10.
constexpr int kMaxDims = 10;
// Most operands (the output and up to three inputs) of a pointwise kernel.
constexpr int kMaxOperands = 4;

// The kernel argument that carries the iteration shape and every operand's strides (elements).
struct Indexer {
  long long size[kMaxDims];
  long long stride[kMaxOperands][kMaxDims]; // operand 0 is the output
  int ndim;
};

// Types and helpers every generated kernel starts with: dtype load/store conversions (float16
// and bfloat16 by bits), and the scalar expression language (maximum, minimum, where, and
// abs/floor/ceil/trunc/rint/fmod that also take integers) inside namespace ember_ops.
std::string prelude();
// C type of a dtype's storage ("float", "ember_f16", "long long", ...).
const char* storage_type(DType dtype);
// C type arithmetic happens in for a dtype (float for 16-bit floats, the type itself otherwise).
const char* compute_type(DType dtype);

struct PointwiseInput {
  DType dtype;      // storage dtype
  DType as;         // the dtype it is converted to before the expression sees it
  bool scalar;      // passed by value as a double (a 0-d CPU tensor or Python number)
};

// A kernel `name`(out, in0, s0, in1, s1, ..., Indexer ix, long long n) that writes
// out[i] = expr(a, b, c) for n elements; `a`, `b`, `c` are the inputs converted to their `as`
// dtype, the expression is evaluated in `compute`'s C type and stored as `out`'s dtype.
// `contiguous` specialises for operands that are all dense in the same order (offset == i);
// `vectorized` (with `contiguous`) moves four elements per access, for operands whose
// addresses are aligned to four elements.
std::string pointwise_kernel(const std::string& name, const std::string& expr, DType compute,
                             DType out, const std::vector<PointwiseInput>& inputs,
                             bool contiguous, bool vectorized = false);
// The same over rows: the last dimension of ix (a multiple of four, the output dense along
// it) is a row, the others index rows; `name`(out, in0, s0, ..., EmberIndexer ix, long long n)
// with four elements of a row per step. `modes[k]` says how input k is read: 'v' dense along
// the row (a 16-byte aligned vector at the row's offset + col), 'b' one value per row
// (broadcast along it), 's' a scalar argument. Bias adds, residuals, per-row statistics and
// copies that permute whole rows (attention heads) take this path.
std::string rows_pointwise_kernel(const std::string& name, const std::string& expr, DType compute,
                                  DType out, const std::vector<PointwiseInput>& inputs,
                                  const std::string& modes);

enum class ReduceOp { Sum, Prod, Max, Min };
// `name`(out, in, rows, cols, chunks, chunk, int wpr): out[v] = reduce of columns
// [k*chunk, min((k+1)*chunk, cols)) of dense row v / chunks of in[rows, cols] (k = v % chunks),
// for v < rows * chunks; chunks > 1 splits long rows (a second pass reduces the partials).
// Launch 256 threads per block: wpr = 1 reduces 8 rows per block (a warp each), wpr = 8 one
// row per block. `acc` is the accumulation dtype, `out` the result dtype.
std::string reduce_kernel(const std::string& name, ReduceOp op, DType in, DType acc, DType out);
// `name`(out, in, outer, n, inner): out[o, i] = reduce over k of dense in[o, k, i] (reductions
// over leading or middle dimensions, without a transposing copy). Launch blocks of 32 x 32
// threads, one per (o, 32 columns of i).
std::string column_reduce_kernel(const std::string& name, ReduceOp op, DType in, DType acc, DType out);
// `name`(long long* out, in, rows, cols): the first index of the max (or min) of each row;
// NaN counts as the largest (smallest), as in PyTorch.
std::string arg_reduce_kernel(const std::string& name, bool is_max, DType in);
// `name`(out, src, const long long* index, outer, n_index, src_size, inner):
// out[o, i, k] = src[o, index[i], k] (indices already wrapped to [0, src_size)).
std::string index_select_kernel(const std::string& name, DType dtype);
// `name`(out, src, index, outer, n_index, dst_size, inner): out[o, index[i], k] += src[o, i, k]
// with atomics (float32, float64, int32, int64).
std::string index_add_kernel(const std::string& name, DType dtype);

// `name`(out, src, const long long* index, EmberIndexer ix, long long dstride, long long n):
// out[e] = src[sum_d c_d * ix.stride[0][d] + index[e] * dstride] for the coordinates c of e in
// the (contiguous) index's shape ix.size; ix.stride[0] is src's strides with `dim` zeroed.
std::string gather_kernel(const std::string& name, DType dtype);
// `name`(out, src, index, EmberIndexer ix, long long dstride, long long n): for each index
// element e with coordinates c, out[c . ix.stride[0] + index[e] * dstride] = (or +=, atomically)
// src[c . ix.stride[1]]. `add` needs float32, float64, int32 or int64.
std::string scatter_kernel(const std::string& name, DType dtype, bool add);
// `name`(out, in, outer, n, inner): running sums (`prod`: products) along the middle dimension
// of dense [outer, n, inner], from the end when `reverse`; accumulates in `acc`.
std::string scan_kernel(const std::string& name, DType in, DType acc, DType out, bool prod,
                        bool reverse);
// `name`(long long* out, in, outer, n, inner, k, descending): one block per (outer, inner)
// line; the first k positions of the stable order of in[o, :, i] (NaN largest) by rank counting.
std::string argsort_kernel(const std::string& name, DType dtype);
// `name`(cols, img, n, c, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, h, w, double fill): im2col
// (kernels/Conv.h's layout) for dense img [n, c, h, w] into cols [c*kh*kw, n*oh*ow].
std::string im2col_kernel(const std::string& name, DType dtype);
// `name`(img, cols, n, c, kh, ..., h, w): the adjoint, one thread per pixel summing the column
// entries that read it (no atomics, deterministic).
std::string col2im_kernel(const std::string& name, DType dtype);

// `name`(out, seed, base, n, a, b): element i of a dense draw that reserved its Philox blocks
// at `base`, exactly as the CPU draws it (runtime/Random.h): uniform a + (b - a) u, or
// normal a + b z (Box-Muller in double on lane pairs).
std::string random_kernel(const std::string& name, DType dtype, bool normal);

// Row kernels over dense [rows, n] (the last dimension), one warp per row, 8 rows per block of
// 256 threads, accumulating in float (double for float64); the fused eager softmax, log_softmax
// and layer_norm on CUDA.
// `name`(out, in, long long rows, long long n): softmax (or log_softmax) of each row, with the
// row's max and sum found in one pass (online rescaling).
std::string softmax_kernel(const std::string& name, DType dtype, bool log);
// `name`(dx, y, g, rows, n): the gradient from the output y and its cotangent g:
// y * (g - sum(g * y)) for softmax, g - exp(y) * sum(g) for log_softmax.
std::string softmax_backward_kernel(const std::string& name, DType dtype, bool log);
// `name`(y, float* mean, float* rstd, x, w, b, rows, n, double eps): layer norm of each row
// (biased variance, two passes), times w plus b where they are non-null.
std::string layer_norm_kernel(const std::string& name, DType dtype);
// `name`(dx, float* gxhat, x, w, const float* mean, const float* rstd, g, rows, n): dx (where
// non-null) and g * xhat (where gxhat is non-null: the rows that sum to w's gradient).
std::string layer_norm_backward_kernel(const std::string& name, DType dtype);

// Fused optimizer updates on CUDA, the same formulas as frontend/src/Optim.cpp's CPU loops (one
// pass per parameter): `name`(T* p, const T* g, T* s0, T* s1, T* s2, long long n,
// EmberOptimArgs a) for T = float or double, `kind` "sgd" (s0 the momentum buffer), "adam"
// (s0 exp_avg, s1 exp_avg_sq, s2 max_exp_avg_sq), "rmsprop" (s0 square_avg, s1 grad_avg,
// s2 momentum_buffer) or "adagrad" (s0 sum). EmberOptimArgs is { double h[8]; int flags; }:
// the hyperparameters and switches in the order Optim.cpp's CUDA calls pass them.
std::string optimizer_kernel(const std::string& name, const std::string& kind, DType dtype);

} // namespace ember::kernels::cuda
