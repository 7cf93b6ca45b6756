// ember-approximate-math: f32 transcendental math ops -> polynomial approximations (no libm
// calls in fused loops, so LLVM vectorizes them): MLIR's, and ember's own for erfc.
#include "ember/compiler/Passes.h"
#include "ember/kernels/ErfCoefficients.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/StringSet.h"

namespace ember::compiler {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;

namespace {

// f32 erfc as the eager kernels compute it (kernels/cpu/VecMath.cpp, same coefficients):
// 1 - (x + x P(x^2)) on |x| < 1, else e^{-x^2} Q(s) (2 minus that for x < 0). One division and
// one exp; MLIR's own erfc approximation took about twice as long (gelu is x erfc(-x/sqrt2)/2).
struct ErfcApproximation : OpRewritePattern<math::ErfcOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ErfcOp op, PatternRewriter& rw) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) return failure();
    Location loc = op.getLoc();
    auto c = [&](float v) -> Value {
      TypedAttr attr = rw.getF32FloatAttr(v);
      if (auto vec = dyn_cast<VectorType>(type)) attr = DenseElementsAttr::get(vec, v);
      return arith::ConstantOp::create(rw, loc, attr);
    };
    auto poly = [&](Value x, ArrayRef<float> coeffs) { // Horner, constant term first
      Value r = c(coeffs.back());
      for (size_t i = coeffs.size() - 1; i-- > 0;) r = math::FmaOp::create(rw, loc, r, x, c(coeffs[i]));
      return r;
    };
    auto lt = [&](Value a, Value b) {
      return arith::CmpFOp::create(rw, loc, arith::CmpFPredicate::OLT, a, b).getResult();
    };
    Value x = op.getOperand();
    Value a = math::AbsFOp::create(rw, loc, x);
    Value x2 = arith::MulFOp::create(rw, loc, x, x);
    Value erfSmall = math::FmaOp::create(rw, loc, x, poly(x2, ember::kernels::kErfSmallP), x);
    Value small = arith::SubFOp::create(rw, loc, c(1.0f), erfSmall);
    Value inv = arith::DivFOp::create(rw, loc, c(1.0f), a);
    Value s = arith::MulFOp::create(rw, loc, arith::SubFOp::create(rw, loc, inv, c(0.55f)),
                                    c(2.22222222f));
    s = arith::SelectOp::create(rw, loc, lt(s, c(-1.0f)), c(-1.0f), s); // NaN stays NaN
    Value e = math::ExpOp::create(rw, loc, arith::NegFOp::create(rw, loc, arith::MulFOp::create(rw, loc, a, a)));
    Value tail = arith::MulFOp::create(rw, loc, e, poly(s, ember::kernels::kErfcTailQ));
    Value big = arith::SelectOp::create(rw, loc, lt(x, c(0.0f)),
                                        arith::SubFOp::create(rw, loc, c(2.0f), tail), tail);
    rw.replaceOp(op, arith::SelectOp::create(rw, loc, lt(a, c(1.0f)), small, big).getResult());
    return success();
  }
};

struct ApproximateMathPass : ember::compiler::impl::ApproximateMathBase<ApproximateMathPass> {
  // The log approximations read the exponent bits, so a subnormal input comes out as if it
  // were FLT_MIN. Scale such inputs by 2^23 into the normal range and take 23 binary orders
  // back off the result (branch-free: a select on each side).
  void scaleSubnormalLogs() {
    SmallVector<Operation*> logs;
    getOperation().walk([&](Operation* op) {
      if (isa<math::LogOp, math::Log2Op>(op) && op->getResult(0).getType().isF32())
        logs.push_back(op);
    });
    for (Operation* op : logs) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      auto f32 = [&](float v) {
        return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)).getResult();
      };
      Value x = op->getOperand(0);
      Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x,
                                         f32(1.17549435e-38f)); // FLT_MIN; false for NaN
      Value scaled = arith::SelectOp::create(b, loc, tiny,
                                             arith::MulFOp::create(b, loc, x, f32(8388608.0f)), x);
      op->setOperand(0, scaled);
      b.setInsertionPointAfter(op);
      const float shift = isa<math::LogOp>(op) ? 15.9423851528787f : 23.0f; // 23 ln 2, 23
      Value fixed = arith::SubFOp::create(b, loc, op->getResult(0), f32(shift));
      Value result = arith::SelectOp::create(b, loc, tiny, fixed, op->getResult(0));
      SmallPtrSet<Operation*, 2> keep = {fixed.getDefiningOp(), result.getDefiningOp()};
      op->getResult(0).replaceAllUsesExcept(result, keep);
    }
  }

  void runOnOperation() override {
    // The approximated ops, by mnemonic; MLIR's patterns only match f32 (and vectors of it).
    // Not here: sin and cos (their range reduction loses digits beyond a few periods) and
    // atan2 (it loses the sign of a zero y: atan2(-0, -1) came out as +pi).
    static const llvm::StringSet<> approximated = {"tanh",  "erf",  "exp", "expm1",
                                                   "log1p", "log2", "log", "atan"};
    scaleSubnormalLogs();
    RewritePatternSet patterns(&getContext());
    patterns.add<ErfcApproximation>(&getContext()); // erfc: ember's formula (above)
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          name.consume_front("math.");
          return approximated.contains(name);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
