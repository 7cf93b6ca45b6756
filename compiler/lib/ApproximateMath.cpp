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

// f32 erfc as the eager kernels compute it (kernels/cpu/VecMath.cpp: same coefficients, same
// operations): 1 - (x + x P(x^2)) on |x| < 1, else e^{-x^2} Q(s) with s = 2.2222/a - 1.2222
// (2 minus that for x < 0). e^{-a^2} is the eager kernels' exp_neg_square, not math.exp: its
// reduction takes a^2 exactly through one fma and it skips the clamps and checks a general exp
// needs. Polynomials by Estrin's scheme: a fused loop's iterations overlap only so far, and the
// chains' length is what bounded gelu (gelu is x/2 erfc(-x/sqrt2), so this is most of a gelu).
struct ErfcApproximation : OpRewritePattern<math::ErfcOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ErfcOp op, PatternRewriter& rw) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) return failure();
    Location loc = op.getLoc();
    Type itype = rw.getI32Type();
    if (auto vec = dyn_cast<VectorType>(type)) itype = vec.clone(itype);
    auto c = [&](float v) -> Value {
      TypedAttr attr = rw.getF32FloatAttr(v);
      if (auto vec = dyn_cast<VectorType>(type)) attr = DenseElementsAttr::get(vec, v);
      return arith::ConstantOp::create(rw, loc, attr);
    };
    auto ci = [&](int32_t v) -> Value {
      TypedAttr attr = rw.getI32IntegerAttr(v);
      if (auto vec = dyn_cast<VectorType>(itype)) attr = DenseElementsAttr::get(vec, v);
      return arith::ConstantOp::create(rw, loc, attr);
    };
    auto fma = [&](Value a, Value b, Value acc) -> Value {
      return math::FmaOp::create(rw, loc, a, b, acc);
    };
    auto mul = [&](Value a, Value b) -> Value { return arith::MulFOp::create(rw, loc, a, b); };
    auto sub = [&](Value a, Value b) -> Value { return arith::SubFOp::create(rw, loc, a, b); };
    auto lt = [&](Value a, Value b) -> Value {
      return arith::CmpFOp::create(rw, loc, arith::CmpFPredicate::OLT, a, b);
    };
    auto select = [&](Value m, Value a, Value b) -> Value {
      return arith::SelectOp::create(rw, loc, m, a, b);
    };
    auto poly = [&](Value x, ArrayRef<float> coeffs) { // Estrin, constant term first
      SmallVector<Value> v;
      for (float k : coeffs) v.push_back(c(k));
      Value p = x;
      while (v.size() > 1) {
        SmallVector<Value> next;
        for (size_t i = 0; i + 1 < v.size(); i += 2) next.push_back(fma(v[i + 1], p, v[i]));
        if (v.size() % 2) next.push_back(v.back());
        v = std::move(next);
        if (v.size() > 1) p = mul(p, p);
      }
      return v[0];
    };
    Value x = op.getOperand();
    Value a = math::AbsFOp::create(rw, loc, x);
    Value small = sub(c(1.0f), fma(x, poly(mul(x, x), ember::kernels::kErfSmallP), x));
    // e^{-a^2} (exp_neg_square): a clamped at 10.6 (a minimum; NaN is carried by Q(s)),
    // n = round(-a^2 / ln2) by the 1.5 * 2^23 trick, r = fma(-a, a, -n ln2_hi) + n ln2_lo, e^r
    // one degree-6 polynomial, times 2^(n + 64) from n's bits and 2^-64 (both on Q(s)'s side).
    Value ac = select(lt(a, c(10.6f)), a, c(10.6f));
    Value t = fma(ac, mul(ac, c(-1.44269504088896341f)), c(12582912.0f));
    Value nf = sub(t, c(12582912.0f));
    Value scale = arith::BitcastOp::create(
        rw, loc, type,
        arith::ShLIOp::create(rw, loc,
                              arith::SubIOp::create(rw, loc, arith::BitcastOp::create(rw, loc, itype, t),
                                                    ci(0x4B400000 - 127 - 64)),
                              ci(23)));
    Value r = fma(arith::NegFOp::create(rw, loc, ac), ac, mul(nf, c(-0.693359375f)));
    r = fma(nf, c(2.12194440e-4f), r);
    static constexpr float expE[] = {1.0f,          1.0f,           0.49999994f,   0.166665211f,
                                     0.0416683815f, 0.00836872123f, 0.00138149515f};
    Value s = sub(arith::DivFOp::create(rw, loc, c(2.22222222f), a), c(1.22222222f));
    SmallVector<float> tailQ; // times 2^-64 (exactly), the factor that goes with 2^(n + 64)
    for (float k : ember::kernels::kErfcTailQ) tailQ.push_back(k * 0x1p-64f);
    Value q = mul(poly(s, tailQ), scale);
    Value tail = mul(poly(r, expE), q);
    Value big = select(lt(x, c(0.0f)), sub(c(2.0f), tail), tail);
    rw.replaceOp(op, select(lt(a, c(1.0f)), small, big));
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
