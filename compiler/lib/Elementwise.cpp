// Elementwise records -> MLIR scalar ops and CUDA C. The record's expression text is compiled
// here against EVal, a scalar MLIR value whose operators build arith ops.
#include "ember/compiler/Elementwise.h"

#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <type_traits>

namespace ember::compiler {
namespace expr {

using namespace mlir;

// Where the ops of the expression being built go.
struct Site {
  OpBuilder* builder;
  Location loc;
};
thread_local Site* site = nullptr;

struct EVal {
  Value v;
};
struct EBool {
  Value v;
  Type operandType; // what the comparison compared, for number literals in where()
};

inline Value lift(EVal x, Type) { return x.v; }
// Number literals take the type of the value they meet.
template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
Value lift(N x, Type t) {
  return arith::ConstantOp::create(*site->builder, site->loc,
                                   FloatAttr::get(t, static_cast<double>(x)));
}
inline Type typeOf(EVal x) { return x.v.getType(); }

template <typename A, typename B>
using IfVal = std::enable_if_t<std::is_same_v<A, EVal> || std::is_same_v<B, EVal>, int>;

template <typename A, typename B>
Type commonType(A a, B b) {
  if constexpr (std::is_same_v<A, EVal>) return typeOf(a);
  else return typeOf(b);
}

#define EMBER_EXPR_BINARY(fn, ArithOp)                                                 \
  template <typename A, typename B, IfVal<A, B> = 0>                                   \
  EVal fn(A a, B b) {                                                                  \
    Type t = commonType(a, b);                                                         \
    return {ArithOp::create(*site->builder, site->loc, lift(a, t), lift(b, t))};       \
  }
EMBER_EXPR_BINARY(operator+, arith::AddFOp)
EMBER_EXPR_BINARY(operator-, arith::SubFOp)
EMBER_EXPR_BINARY(operator*, arith::MulFOp)
EMBER_EXPR_BINARY(operator/, arith::DivFOp)
EMBER_EXPR_BINARY(maximum, arith::MaximumFOp)
EMBER_EXPR_BINARY(minimum, arith::MinimumFOp)
EMBER_EXPR_BINARY(atan2, math::Atan2Op)
EMBER_EXPR_BINARY(fmod, arith::RemFOp)
#undef EMBER_EXPR_BINARY

#define EMBER_EXPR_COMPARE(fn, pred)                                                   \
  template <typename A, typename B, IfVal<A, B> = 0>                                   \
  EBool fn(A a, B b) {                                                                 \
    Type t = commonType(a, b);                                                         \
    return {arith::CmpFOp::create(*site->builder, site->loc, arith::CmpFPredicate::pred, \
                                  lift(a, t), lift(b, t)),                             \
            t};                                                                        \
  }
EMBER_EXPR_COMPARE(operator>, OGT)
EMBER_EXPR_COMPARE(operator<, OLT)
EMBER_EXPR_COMPARE(operator>=, OGE)
EMBER_EXPR_COMPARE(operator<=, OLE)
EMBER_EXPR_COMPARE(operator==, OEQ)
EMBER_EXPR_COMPARE(operator!=, UNE)
#undef EMBER_EXPR_COMPARE

inline EVal operator-(EVal a) {
  return {arith::NegFOp::create(*site->builder, site->loc, a.v)};
}

#define EMBER_EXPR_UNARY(fn, MathOp) \
  inline EVal fn(EVal a) { return {MathOp::create(*site->builder, site->loc, a.v)}; }
EMBER_EXPR_UNARY(abs, math::AbsFOp)
EMBER_EXPR_UNARY(acos, math::AcosOp)
EMBER_EXPR_UNARY(asin, math::AsinOp)
EMBER_EXPR_UNARY(atan, math::AtanOp)
EMBER_EXPR_UNARY(ceil, math::CeilOp)
EMBER_EXPR_UNARY(cos, math::CosOp)
EMBER_EXPR_UNARY(cosh, math::CoshOp)
EMBER_EXPR_UNARY(erf, math::ErfOp)
EMBER_EXPR_UNARY(exp, math::ExpOp)
EMBER_EXPR_UNARY(exp2, math::Exp2Op)
EMBER_EXPR_UNARY(expm1, math::ExpM1Op)
EMBER_EXPR_UNARY(floor, math::FloorOp)
EMBER_EXPR_UNARY(log, math::LogOp)
EMBER_EXPR_UNARY(log10, math::Log10Op)
EMBER_EXPR_UNARY(log1p, math::Log1pOp)
EMBER_EXPR_UNARY(log2, math::Log2Op)
EMBER_EXPR_UNARY(rint, math::RoundEvenOp)
EMBER_EXPR_UNARY(rsqrt, math::RsqrtOp)
EMBER_EXPR_UNARY(sin, math::SinOp)
EMBER_EXPR_UNARY(sinh, math::SinhOp)
EMBER_EXPR_UNARY(sqrt, math::SqrtOp)
EMBER_EXPR_UNARY(tan, math::TanOp)
EMBER_EXPR_UNARY(tanh, math::TanhOp)
EMBER_EXPR_UNARY(trunc, math::TruncOp)
#undef EMBER_EXPR_UNARY

template <typename A, typename B>
EVal where(EBool c, A a, B b) {
  Type t;
  if constexpr (std::is_same_v<A, EVal>) t = typeOf(a);
  else if constexpr (std::is_same_v<B, EVal>) t = typeOf(b);
  else t = c.operandType;
  return {arith::SelectOp::create(*site->builder, site->loc, c.v, lift(a, t), lift(b, t))};
}

} // namespace expr

bool isElementwise(mlir::Operation* op) {
  return mlir::isa<
#define EMBER_ELEMENTWISE(Name, ...) dialect::Name##Op,
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
      dialect::CastOp, dialect::WhereOp>(op);
}

llvm::StringRef elementwiseName(mlir::Operation* op) {
#define EMBER_ELEMENTWISE(Name, name, ...) \
  if (mlir::isa<dialect::Name##Op>(op)) return #name;
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  if (mlir::isa<dialect::CastOp>(op)) return "cast";
  if (mlir::isa<dialect::WhereOp>(op)) return "where";
  return "";
}

mlir::Value emitScalar(mlir::OpBuilder& builder, mlir::Location loc, mlir::Operation* op,
                       mlir::ValueRange args) {
  expr::Site here{&builder, loc};
  expr::Site* prev = expr::site;
  expr::site = &here;
  mlir::Value result;
  using namespace expr;
  if (auto cast = mlir::dyn_cast<dialect::CastOp>(op)) {
    mlir::Type to = mlir::cast<mlir::ShapedType>(cast.getType()).getElementType();
    mlir::Value v = args[0];
    mlir::Type from = v.getType();
    if (from == to) result = v;
    else if (from.isInteger(1)) result = mlir::arith::UIToFPOp::create(builder, loc, to, v);
    else if (to.isInteger(1))
      result = mlir::arith::CmpFOp::create(builder, loc, mlir::arith::CmpFPredicate::UNE, v,
                                           lift(0, from));
    else if (mlir::cast<mlir::FloatType>(to).getWidth() > mlir::cast<mlir::FloatType>(from).getWidth())
      result = mlir::arith::ExtFOp::create(builder, loc, to, v);
    else
      result = mlir::arith::TruncFOp::create(builder, loc, to, v);
  } else if (mlir::isa<dialect::WhereOp>(op)) {
    result = mlir::arith::SelectOp::create(builder, loc, args[0], args[1], args[2]);
  }
#define EMBER_ELEMENTWISE(Name, name, arity, rule, e, ...) \
  if (!result && mlir::isa<dialect::Name##Op>(op)) { \
    EVal a{args[0]};                                 \
    EVal b{args[arity - 1]};                         \
    (void)b;                                         \
    result = (e).v;                                  \
  }
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  expr::site = prev;
  return result;
}

const char* cudaPrelude() {
  return "__device__ __forceinline__ float maximum(float x, float y) {\n"
         "  return (x != x || x > y) ? x : y;\n}\n"
         "__device__ __forceinline__ float minimum(float x, float y) {\n"
         "  return (x != x || x < y) ? x : y;\n}\n"
         "__device__ __forceinline__ float where(bool c, float x, float y) { return c ? x : y; }\n"
         "// bool values travel as 0.0f / 1.0f; a cast is the identity on them\n"
         "__device__ __forceinline__ float ember_cast(float a, float b) { return a; }\n"
#define EMBER_ELEMENTWISE(Name, name, arity, rule, e, ...) \
  "__device__ __forceinline__ float ember_" #name "(float a, float b) { return " #e "; }\n"
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
      ;
}

} // namespace ember::compiler
