// Vectorized float32 kernels for the common elementwise ops: contiguous operands, or one
// operand broadcast (a scalar, or a row repeated along outer dims). One copy per instruction
// set (AVX-512, AVX2+FMA, generic), picked at load time like the GEMM's; the math functions
// are polynomial approximations within a few ulp of the correctly rounded result
// (kernels/cpu/VecMath.cpp says which, and the unit tests measure it).
#pragma once

#include <cstdint>

namespace ember::kernels {

enum class VecOp : int {
  // binary: out = op(a, b)
  Add, Sub, Mul, Div, Maximum, Minimum, ReluBackward,
  // unary: out = op(a)
  Neg, Abs, Reciprocal, Relu, Exp, Log, Tanh, Sigmoid, Erf, Silu, Gelu, GeluTanh, Erfc,
  kCount
};
constexpr bool vec_op_is_binary(VecOp op) { return op <= VecOp::ReluBackward; }
const char* vec_op_name(VecOp op);

// out = op(a, b) over `shape` (`out` contiguous; `as`, `bs` the operands' strides in elements
// for out's shape, 0 along broadcast dims; a unary op ignores b). Large outputs are split across
// the thread pool in contiguous ranges. Returns false, having written nothing, when the layout
// has no fast path (after merging dims, each operand's innermost stride must be 1, or 0 for the
// second operand of a binary op, and rows long enough to pay for the call).
bool vec_map_f32(VecOp op, const float* a, const int64_t* as, const float* b, const int64_t* bs,
                 float* out, const int64_t* shape, int ndim);

// The compiled copies. `EMBER_CPU_ISA=generic|avx2|avx512` picks a lower one than the CPU
// allows (for tests and comparisons); the best supported one is the default.
enum class VecIsa : int { Generic, Avx2, Avx512 };
VecIsa vec_isa();
bool vec_isa_supported(VecIsa isa);
const char* vec_isa_name(VecIsa isa);

// One span with a given copy (serial): out[i] = op(a[i * sa], b[i * sb]) for i in [0, n),
// sa and sb each 0 or 1; `streaming`: non-temporal stores (vec_map_f32 uses them for outputs
// of 16 MB and more). For tests that compare the copies; `isa` must be supported.
void vec_span_f32(VecIsa isa, VecOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                  float* out, int64_t n, bool streaming = false);

} // namespace ember::kernels
