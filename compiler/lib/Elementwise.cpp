// Elementwise records -> MLIR scalar ops and CUDA C. The record's expression text is compiled
// here against EVal, a scalar MLIR value whose operators build arith ops.
#include "ember/compiler/Elementwise.h"

#include "ember/dialects/EmberDialect.h"
#include "ember/kernels/FloatLiterals.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>
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

// Set when the expression needs something its operands' type lacks (a math function or a
// fractional literal on integers): the value built is then a placeholder and emitScalar fails.
thread_local bool unsupported = false;

inline bool isInt(Type t) { return isa<IntegerType>(t); }
inline bool isBool(Type t) { return t.isInteger(1); }

inline Value lift(EVal x, Type) { return x.v; }
// Number literals take the type of the value they meet.
template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
Value lift(N x, Type t) {
  if (auto it = dyn_cast<IntegerType>(t)) {
    const double d = static_cast<double>(x);
    if (d != static_cast<double>(static_cast<int64_t>(d))) unsupported = true; // 0.5, inf, NaN
    return arith::ConstantOp::create(*site->builder, site->loc,
                                     IntegerAttr::get(it, static_cast<int64_t>(unsupported ? 0 : d)));
  }
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

// A binary function: FloatOp on floats, IntOp on integers (void: not on integers), BoolOp on i1
// (void: not on bools).
template <typename FloatOp, typename IntOp, typename BoolOp, typename A, typename B>
EVal binary(A a, B b) {
  Type t = commonType(a, b);
  Value x = lift(a, t), y = lift(b, t);
  OpBuilder& builder = *site->builder;
  if (!isInt(t)) return {FloatOp::create(builder, site->loc, x, y)};
  if (isBool(t)) {
    if constexpr (!std::is_void_v<BoolOp>) return {BoolOp::create(builder, site->loc, x, y)};
  } else {
    if constexpr (!std::is_void_v<IntOp>) return {IntOp::create(builder, site->loc, x, y)};
  }
  unsupported = true;
  return {x};
}

#define EMBER_EXPR_BINARY(fn, FloatOp, IntOp, BoolOp)                                  \
  template <typename A, typename B, IfVal<A, B> = 0>                                   \
  EVal fn(A a, B b) {                                                                  \
    return binary<FloatOp, IntOp, BoolOp>(a, b);                                       \
  }
// Integer arithmetic wraps (as PyTorch's does); on bools + and maximum are a logical or, * and
// minimum a logical and (PyTorch's bool results); bool subtraction and division do not compile.
EMBER_EXPR_BINARY(operator+, arith::AddFOp, arith::AddIOp, arith::OrIOp)
EMBER_EXPR_BINARY(operator-, arith::SubFOp, arith::SubIOp, void)
EMBER_EXPR_BINARY(operator*, arith::MulFOp, arith::MulIOp, arith::AndIOp)
EMBER_EXPR_BINARY(operator/, arith::DivFOp, void, void)
EMBER_EXPR_BINARY(maximum, arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp)
EMBER_EXPR_BINARY(minimum, arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp)
EMBER_EXPR_BINARY(atan2, math::Atan2Op, void, void)
EMBER_EXPR_BINARY(fmod, arith::RemFOp, void, void)
EMBER_EXPR_BINARY(pow, math::PowFOp, void, void)
EMBER_EXPR_BINARY(copysign, math::CopySignOp, void, void)
#undef EMBER_EXPR_BINARY

// Integer ops: only the Integral/Integer records use them, on integer (or i1) values.
#define EMBER_EXPR_BITWISE(fn, IntOp)                                                  \
  template <typename A, typename B, IfVal<A, B> = 0>                                   \
  EVal fn(A a, B b) {                                                                  \
    Type t = commonType(a, b);                                                         \
    return {IntOp::create(*site->builder, site->loc, lift(a, t), lift(b, t))};         \
  }
EMBER_EXPR_BITWISE(bitwise_and, arith::AndIOp)
EMBER_EXPR_BITWISE(bitwise_or, arith::OrIOp)
EMBER_EXPR_BITWISE(bitwise_xor, arith::XOrIOp)
#undef EMBER_EXPR_BITWISE

// Shifts by an amount outside [0, bits) are defined in PyTorch but poison in arith: not compiled.
template <typename A, typename B, IfVal<A, B> = 0>
EVal shift_left(A a, B b) {
  unsupported = true;
  return {lift(a, commonType(a, b))};
}
template <typename A, typename B, IfVal<A, B> = 0>
EVal shift_right(A a, B b) {
  unsupported = true;
  return {lift(a, commonType(a, b))};
}

#define EMBER_EXPR_COMPARE(fn, pred, spred, upred)                                     \
  template <typename A, typename B, IfVal<A, B> = 0>                                   \
  EBool fn(A a, B b) {                                                                 \
    Type t = commonType(a, b);                                                         \
    Value x = lift(a, t), y = lift(b, t);                                              \
    if (isInt(t))                                                                      \
      return {arith::CmpIOp::create(*site->builder, site->loc,                         \
                                    isBool(t) ? arith::CmpIPredicate::upred            \
                                              : arith::CmpIPredicate::spred, x, y), t}; \
    return {arith::CmpFOp::create(*site->builder, site->loc, arith::CmpFPredicate::pred, x, y), \
            t};                                                                        \
  }
EMBER_EXPR_COMPARE(operator>, OGT, sgt, ugt)
EMBER_EXPR_COMPARE(operator<, OLT, slt, ult)
EMBER_EXPR_COMPARE(operator>=, OGE, sge, uge)
EMBER_EXPR_COMPARE(operator<=, OLE, sle, ule)
EMBER_EXPR_COMPARE(operator==, OEQ, eq, eq)
EMBER_EXPR_COMPARE(operator!=, UNE, ne, ne)
#undef EMBER_EXPR_COMPARE

inline EVal operator-(EVal a) {
  if (isInt(typeOf(a))) {
    if (isBool(typeOf(a))) unsupported = true;
    return {arith::SubIOp::create(*site->builder, site->loc, lift(0, typeOf(a)), a.v)};
  }
  return {arith::NegFOp::create(*site->builder, site->loc, a.v)};
}

// Math functions: floats only (on integers the rounding functions are the identity and abs is
// math.absi; the rest do not compile).
#define EMBER_EXPR_UNARY(fn, MathOp)                                   \
  inline EVal fn(EVal a) {                                             \
    if (isInt(typeOf(a))) {                                            \
      unsupported = true;                                              \
      return a;                                                        \
    }                                                                  \
    return {MathOp::create(*site->builder, site->loc, a.v)};           \
  }
#define EMBER_EXPR_ROUNDING(fn, MathOp)                                \
  inline EVal fn(EVal a) {                                             \
    if (isInt(typeOf(a))) return a;                                    \
    return {MathOp::create(*site->builder, site->loc, a.v)};           \
  }
inline EVal abs(EVal a) {
  if (isBool(typeOf(a))) return a;
  if (isInt(typeOf(a))) return {math::AbsIOp::create(*site->builder, site->loc, a.v)};
  return {math::AbsFOp::create(*site->builder, site->loc, a.v)};
}
EMBER_EXPR_UNARY(acos, math::AcosOp)
EMBER_EXPR_UNARY(asin, math::AsinOp)
EMBER_EXPR_UNARY(atan, math::AtanOp)
EMBER_EXPR_ROUNDING(ceil, math::CeilOp)
EMBER_EXPR_UNARY(cos, math::CosOp)
EMBER_EXPR_UNARY(cosh, math::CoshOp)
EMBER_EXPR_UNARY(erf, math::ErfOp)
EMBER_EXPR_UNARY(exp, math::ExpOp)
EMBER_EXPR_UNARY(exp2, math::Exp2Op)
EMBER_EXPR_UNARY(expm1, math::ExpM1Op)
EMBER_EXPR_ROUNDING(floor, math::FloorOp)
EMBER_EXPR_UNARY(log, math::LogOp)
EMBER_EXPR_UNARY(log10, math::Log10Op)
EMBER_EXPR_UNARY(log1p, math::Log1pOp)
EMBER_EXPR_UNARY(log2, math::Log2Op)
EMBER_EXPR_ROUNDING(rint, math::RoundEvenOp)
EMBER_EXPR_UNARY(rsqrt, math::RsqrtOp)
EMBER_EXPR_UNARY(sin, math::SinOp)
EMBER_EXPR_UNARY(sinh, math::SinhOp)
EMBER_EXPR_UNARY(sqrt, math::SqrtOp)
EMBER_EXPR_UNARY(tan, math::TanOp)
EMBER_EXPR_UNARY(tanh, math::TanhOp)
EMBER_EXPR_ROUNDING(trunc, math::TruncOp)
EMBER_EXPR_UNARY(erfc, math::ErfcOp)
#undef EMBER_EXPR_UNARY
#undef EMBER_EXPR_ROUNDING

template <typename A, typename B>
EVal where(EBool c, A a, B b) {
  Type t;
  if constexpr (std::is_same_v<A, EVal>) t = typeOf(a);
  else if constexpr (std::is_same_v<B, EVal>) t = typeOf(b);
  else t = c.operandType;
  return {arith::SelectOp::create(*site->builder, site->loc, c.v, lift(a, t), lift(b, t))};
}

// Logic on comparison results.
inline EBool operator&&(EBool x, EBool y) {
  return {arith::AndIOp::create(*site->builder, site->loc, x.v, y.v), x.operandType};
}
inline EBool operator||(EBool x, EBool y) {
  return {arith::OrIOp::create(*site->builder, site->loc, x.v, y.v), x.operandType};
}
inline EBool operator!=(EBool x, EBool y) {
  return {arith::XOrIOp::create(*site->builder, site->loc, x.v, y.v), x.operandType};
}

inline EBool isinf(EVal a) { return abs(a) == std::numeric_limits<double>::infinity(); }
inline EBool isfinite(EVal a) { return abs(a) < std::numeric_limits<double>::infinity(); }

inline EVal bitwise_not(EVal a) {
  Type t = typeOf(a);
  Value ones = arith::ConstantOp::create(
      *site->builder, site->loc, IntegerAttr::get(t, APInt::getAllOnes(t.getIntOrFloatBitWidth())));
  return {arith::XOrIOp::create(*site->builder, site->loc, a.v, ones)};
}

// The same algorithms as the eager kernels (ops/ScalarExpr.h), branches as selects.
inline EVal floor_mod(EVal a, EVal b) {
  EVal m = fmod(a, b);
  return where((m != 0) && ((b < 0) != (m < 0)), m + b, m);
}

inline EVal floor_div(EVal a, EVal b) {
  EVal q = a / b;
  EVal mod = fmod(a, b);
  EVal div = (a - mod) / b;
  div = where((mod != 0) && ((b < 0) != (mod < 0)), div - 1, div);
  EVal fl = floor(div);
  fl = where(div - fl > 0.5, fl + 1, fl);
  EVal r = where(div == 0, copysign(0, q), fl);
  return where(b == 0, q, r);
}

inline EVal trunc_div(EVal a, EVal b) { return trunc(a / b); }

inline EVal erfinv(EVal y) {
  EVal ya = abs(y);
  EVal z = y * y;
  EVal num = ((z * -0.140543331 + 0.914624893) * z + -1.645349621) * z + 0.886226899;
  EVal dem = (((z * 0.012229801 + -0.329097515) * z + 1.442710462) * z + -2.118377725) * z + 1;
  EVal central = y * num / dem;
  EVal t = sqrt(-log((1 - ya) / 2));
  EVal tnum = ((t * 1.641345311 + 3.429567803) * t + -1.624906493) * t + -1.970840454;
  EVal tdem = (t * 1.637067800 + 3.543889200) * t + 1;
  EVal x = where(ya <= 0.7, central, copysign(tnum, y) / tdem);
  const double k = 1.1283791670955126; // 2 / sqrt(pi)
  x = x - (erf(x) - y) / (exp(-(x * x)) * k);
  x = x - (erf(x) - y) / (exp(-(x * x)) * k);
  x = where(ya == 1, copysign(std::numeric_limits<double>::infinity(), y), x);
  return where(ya > 1, std::numeric_limits<double>::quiet_NaN(), x);
}

// PyTorch's conversions between f32/f64, signless integers (signed) and i1.
Value castScalar(OpBuilder& b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to) return v;
  if (to.isInteger(1)) // nonzero
    return isInt(from) ? Value(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                                     lift(0, from)))
                       : Value(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                                     lift(0, from)));
  if (from.isInteger(1))
    return isInt(to) ? Value(arith::ExtUIOp::create(b, loc, to, v))
                     : Value(arith::UIToFPOp::create(b, loc, to, v));
  if (isInt(from) && isInt(to))
    return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
               ? Value(arith::ExtSIOp::create(b, loc, to, v))
               : Value(arith::TruncIOp::create(b, loc, to, v));
  if (isInt(from)) return arith::SIToFPOp::create(b, loc, to, v);
  if (isInt(to)) return arith::FPToSIOp::create(b, loc, to, v);
  if (cast<FloatType>(to).getWidth() > cast<FloatType>(from).getWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
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
  const bool prevUnsupported = expr::unsupported;
  expr::site = &here;
  expr::unsupported = false;
  mlir::Value result;
  using namespace expr;
  if (auto cast = mlir::dyn_cast<dialect::CastOp>(op)) {
    mlir::Type to = mlir::cast<mlir::ShapedType>(cast.getType()).getElementType();
    result = castScalar(builder, loc, args[0], to);
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
  if (expr::unsupported) result = {};
  expr::unsupported = prevUnsupported;
  return result;
}

bool canEmitScalar(mlir::Operation* op) {
  // Every record's expression exists on floats: only integer and bool operands need the trial.
  if (llvm::all_of(op->getOperandTypes(), [](mlir::Type t) {
        return mlir::isa<mlir::FloatType>(mlir::cast<mlir::ShapedType>(t).getElementType());
      }))
    return true;
  // Build the scalar body once in a detached block and throw it away. (The context must have
  // the arith and math dialects loaded: ops of unloaded dialects cannot be built.)
  mlir::OpBuilder builder(op->getContext());
  auto block = std::make_unique<mlir::Block>();
  llvm::SmallVector<mlir::Value> args;
  for (mlir::Value v : op->getOperands())
    args.push_back(block->addArgument(mlir::cast<mlir::ShapedType>(v.getType()).getElementType(),
                                      op->getLoc()));
  builder.setInsertionPointToStart(block.get());
  const bool ok = static_cast<bool>(emitScalar(builder, op->getLoc(), op, args));
  while (!block->empty()) {
    block->back().dropAllUses();
    block->back().erase();
  }
  return ok;
}

const char* cudaPrelude() {
  // Built once: each record's expression with its literals marked float (FloatLiterals.h).
  static const std::string prelude = [] {
    std::string text = "__device__ __forceinline__ float maximum(float x, float y) {\n"
         "  return (x != x || x > y) ? x : y;\n}\n"
         "__device__ __forceinline__ float minimum(float x, float y) {\n"
         "  return (x != x || x < y) ? x : y;\n}\n"
         "__device__ __forceinline__ float where(bool c, float x, float y) { return c ? x : y; }\n"
         "// bool values travel as 0.0f / 1.0f; a cast is the identity on them\n"
         "__device__ __forceinline__ float ember_cast(float a, float b) { return a; }\n"
         "__device__ __forceinline__ float floor_mod(float a, float b) {\n"
         "  float m = fmodf(a, b);\n"
         "  return (m != 0.f && ((b < 0.f) != (m < 0.f))) ? m + b : m;\n}\n"
         "__device__ __forceinline__ float floor_div(float a, float b) {\n"
         "  if (b == 0.f) return a / b;\n"
         "  float mod = fmodf(a, b), div = (a - mod) / b;\n"
         "  if (mod != 0.f && ((b < 0.f) != (mod < 0.f))) div -= 1.f;\n"
         "  if (div == 0.f) return copysignf(0.f, a / b);\n"
         "  float fl = floorf(div);\n"
         "  return div - fl > 0.5f ? fl + 1.f : fl;\n}\n"
         "__device__ __forceinline__ float trunc_div(float a, float b) { return truncf(a / b); }\n"
         "// integer ops: the importer admits only float32 and bool masks so far, so these only keep\n"
         "// the prelude complete (integers travel as floats here)\n"
         "__device__ __forceinline__ float bitwise_and(float a, float b) {\n"
         "  return (float)((long long)a & (long long)b);\n}\n"
         "__device__ __forceinline__ float bitwise_or(float a, float b) {\n"
         "  return (float)((long long)a | (long long)b);\n}\n"
         "__device__ __forceinline__ float bitwise_xor(float a, float b) {\n"
         "  return (float)((long long)a ^ (long long)b);\n}\n"
         "__device__ __forceinline__ float bitwise_not(float a) { return (float)(~(long long)a); }\n"
         "__device__ __forceinline__ float shift_left(float a, float b) {\n"
         "  return (b < 0.f || b >= 64.f) ? 0.f : (float)((long long)a << (long long)b);\n}\n"
         "__device__ __forceinline__ float shift_right(float a, float b) {\n"
         "  return (b < 0.f || b >= 64.f) ? (a < 0.f ? -1.f : 0.f) : (float)((long long)a >> (long long)b);\n}\n"
        ;
#define EMBER_ELEMENTWISE(Name, name, arity, rule, e, ...) \
  text += "__device__ __forceinline__ float ember_" #name "(float a, float b) { return " + \
          kernels::cuda::float_literals(#e) + "; }\n";
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
    return text;
  }();
  return prelude.c_str();
}

} // namespace ember::compiler
