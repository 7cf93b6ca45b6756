// ember-approximate-math: f32 transcendental math ops -> polynomial approximations (no libm
// calls in fused loops, so LLVM vectorizes them).
#include "ember/compiler/Passes.h"

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
    static const llvm::StringSet<> approximated = {"tanh", "erf",   "erfc", "exp", "expm1",
                                                   "log",  "log1p", "log2", "atan"};
    scaleSubnormalLogs();
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          name.consume_front("math.");
          return approximated.contains(name);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
