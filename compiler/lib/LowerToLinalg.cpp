// ember-lower-to-linalg: ember ops -> linalg.generic on tensors (broadcast via indexing maps).
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/Transforms/DialectConversion.h"

namespace ember::compiler {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;

namespace {

// The map from the output's iteration space to an operand's indices: trailing dimensions align,
// and a size-1 operand dimension that the output stretches reads index 0.
AffineMap broadcastMap(RankedTensorType operand, RankedTensorType result, MLIRContext* ctx) {
  const int64_t rank = result.getRank(), lead = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool stretched = operand.getDimSize(i) == 1 && result.getDimSize(lead + i) != 1;
    exprs.push_back(stretched ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(lead + i, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

// One template for every binary elementwise op; one `using` line per op.
template <typename SourceOp, typename ScalarOp>
struct BinaryLowering : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;

  LogicalResult matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                                ConversionPatternRewriter& rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes are not lowered yet");
    MLIRContext* ctx = op.getContext();
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(), type.getElementType());
    SmallVector<AffineMap> maps = {
        broadcastMap(cast<RankedTensorType>(lhs.getType()), type, ctx),
        broadcastMap(cast<RankedTensorType>(rhs.getType()), type, ctx),
        AffineMap::getMultiDimIdentityMap(type.getRank(), ctx)};
    SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{lhs, rhs}, ValueRange{init}, maps, iterators,
        [](OpBuilder& b, Location l, ValueRange args) {
          Value v = ScalarOp::create(b, l, args[0], args[1]);
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

using AddLowering = BinaryLowering<ed::AddOp, arith::AddFOp>;

struct LowerToLinalgPass : ember::compiler::impl::LowerToLinalgBase<LowerToLinalgPass> {
  void runOnOperation() override {
    // Report what cannot be lowered yet by name, before the conversion's generic message.
    bool unsupported = false;
    getOperation().walk([&](Operation* op) {
      if (!isa<ed::EmberDialect>(op->getDialect())) return;
      for (Type t : op->getResultTypes())
        if (auto shaped = dyn_cast<ShapedType>(t); shaped && !shaped.hasStaticShape()) {
          op->emitError() << "ember-lower-to-linalg: cannot lower '" << op->getName()
                          << "' with dynamic shape " << t << " (only static shapes so far)";
          unsupported = true;
        }
    });
    if (unsupported) return signalPassFailure();

    MLIRContext* ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<ed::EmberDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation*) { return true; });
    RewritePatternSet patterns(ctx);
    patterns.add<AddLowering>(ctx);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
