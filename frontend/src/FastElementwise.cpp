// The float32 fast path of the elementwise records: records with a vectorized kernel
// (kernels/VecMath.h) run it when the operands' layout allows; the rest, and every other dtype,
// take the generic strided loop (ElementwiseKernels.inc).
#include "ElementwiseKernels.h"

#include "ember/kernels/VecMath.h"

namespace ember::detail {
namespace {

using kernels::VecOp;

// The record -> vectorized kernel table (kCount: none).
VecOp vec_op(Prim p) {
  switch (p) {
  case Prim::Add: return VecOp::Add;
  case Prim::Sub: return VecOp::Sub;
  case Prim::Mul: return VecOp::Mul;
  case Prim::Div: return VecOp::Div;
  case Prim::Maximum: return VecOp::Maximum;
  case Prim::Minimum: return VecOp::Minimum;
  case Prim::ReluBackward: return VecOp::ReluBackward;
  case Prim::Neg: return VecOp::Neg;
  case Prim::Abs: return VecOp::Abs;
  case Prim::Reciprocal: return VecOp::Reciprocal;
  case Prim::Relu: return VecOp::Relu;
  case Prim::Exp: return VecOp::Exp;
  case Prim::Log: return VecOp::Log;
  case Prim::Tanh: return VecOp::Tanh;
  case Prim::Sigmoid: return VecOp::Sigmoid;
  case Prim::Erf: return VecOp::Erf;
  case Prim::Erfc: return VecOp::Erfc;
  case Prim::Silu: return VecOp::Silu;
  case Prim::Gelu: return VecOp::Gelu;
  case Prim::GeluTanh: return VecOp::GeluTanh;
  default: return VecOp::kCount;
  }
}

} // namespace

bool fast_elementwise(Prim p, const Tensor& x, const Tensor& y, const Shape& xs, const Shape& ys,
                      Tensor& out) {
  if (p == Prim::Pow && y.numel() == 1 && x.dtype() == DType::Float32 &&
      y.dtype() == DType::Float32 && out.dtype() == DType::Float32) {
    // Small integer exponents as PyTorch computes them (x**2 is x*x, x**-1 is 1/x), exactly
    // rounded and vectorized rather than a powf call per element.
    const float e = *y.data<float>();
    const Shape& shape = out.shape();
    const int nd = static_cast<int>(shape.size());
    if (e == 2.0f)
      return kernels::vec_map_f32(VecOp::Mul, x.data<float>(), xs.data(), x.data<float>(),
                                  xs.data(), out.data<float>(), shape.data(), nd);
    if (e == 1.0f) // x * 1
      return kernels::vec_map_f32(VecOp::Mul, x.data<float>(), xs.data(), y.data<float>(),
                                  ys.data(), out.data<float>(), shape.data(), nd);
    if (e == -1.0f)
      return kernels::vec_map_f32(VecOp::Reciprocal, x.data<float>(), xs.data(), y.data<float>(),
                                  ys.data(), out.data<float>(), shape.data(), nd);
  }
  const VecOp op = vec_op(p);
  if (op == VecOp::kCount || x.dtype() != DType::Float32 || out.dtype() != DType::Float32)
    return false;
  const Shape& shape = out.shape();
  return kernels::vec_map_f32(op, x.data<float>(), xs.data(), y.data<float>(), ys.data(),
                              out.data<float>(), shape.data(), static_cast<int>(shape.size()));
}

} // namespace ember::detail
