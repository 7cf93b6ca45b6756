// ember-lower-indexing: ember's data-dependent indexing ops -> linalg / scf / tensor.
#include "ember/compiler/DynamicShapes.h"
#include "ember/compiler/Passes.h"
#include "ember/compiler/RuntimeABI.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler {
#define GEN_PASS_DEF_LOWERINDEXING
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;
namespace abi = ember::compiler::abi;
using ember::compiler::dimSize;
using ember::compiler::emptyTensor;

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

Value constI64(OpBuilder& b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

// The declaration of the runtime's error report (RuntimeABI.h), added to the module once.
func::FuncOp errorFunction(ModuleOp module) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(abi::kIndexErrorSymbol)) return fn;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  Type i64 = b.getI64Type();
  auto fn = func::FuncOp::create(b, module.getLoc(), abi::kIndexErrorSymbol,
                                 b.getFunctionType({i64, i64, i64, i64}, {}));
  fn.setPrivate();
  return fn;
}

// `raw` (i64) as a position along a dimension of `size`: negative values count from the end
// when `negative` allows it; a value still outside [0, size) is reported to the runtime (the
// call then fails) and replaced by 0 so that no access leaves the buffer.
Value checkedIndex(OpBuilder& b, Location loc, func::FuncOp report, Value raw, Value sizeIndex,
                   bool negative, abi::IndexOp op, int64_t dim) {
  std::optional<int64_t> known = getConstantIntValue(sizeIndex);
  Value sizeV = known ? constI64(b, loc, *known)
                      : Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), sizeIndex));
  Value zero = constI64(b, loc, 0);
  Value idx = raw;
  if (negative) {
    Value isNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, raw, zero);
    idx = arith::SelectOp::create(b, loc, isNeg, arith::AddIOp::create(b, loc, raw, sizeV), raw);
  }
  // One unsigned comparison covers both ends.
  Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, idx, sizeV);
  Value bad = arith::XOrIOp::create(b, loc, ok, arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
  scf::IfOp::create(b, loc, bad, [&](OpBuilder& nb, Location nl) {
    func::CallOp::create(nb, nl, report,
                         ValueRange{constI64(nb, nl, int64_t(op)), raw, constI64(nb, nl, dim), sizeV});
    scf::YieldOp::create(nb, nl);
  });
  Value safe = arith::SelectOp::create(b, loc, ok, idx, zero);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), safe);
}

// The loop indices of the enclosing linalg.generic, as `index` values.
SmallVector<Value> loopIndices(OpBuilder& b, Location loc, int64_t rank) {
  SmallVector<Value> ivs;
  for (int64_t d = 0; d < rank; ++d) ivs.push_back(linalg::IndexOp::create(b, loc, d));
  return ivs;
}

// An all-parallel linalg.generic over `type` reading `inputs` through `maps`.
Value parallelGeneric(OpBuilder& b, Location loc, RankedTensorType type, ValueRange sizes,
                      ValueRange inputs, ArrayRef<AffineMap> maps,
                      function_ref<Value(OpBuilder&, Location, ValueRange)> body) {
  SmallVector<AffineMap> all(maps);
  all.push_back(AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext()));
  SmallVector<utils::IteratorType> iters(type.getRank(), utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, type, sizes);
  return linalg::GenericOp::create(b, loc, TypeRange{type}, inputs, ValueRange{init}, all, iters,
                                   [&](OpBuilder& nb, Location nl, ValueRange args) {
                                     linalg::YieldOp::create(nb, nl, body(nb, nl, args));
                                   })
      .getResult(0);
}

// index_select: out[.., i, ..] = input[.., index[i], ..].
Value lowerIndexSelect(OpBuilder& b, ed::IndexSelectOp op, func::FuncOp report, ValueRange sizes) {
  Location loc = op.getLoc();
  auto out = cast<RankedTensorType>(op.getType());
  auto in = tensorType(op.getInput());
  const int64_t dim = op.getDim(), rank = out.getRank();
  AffineMap indexMap =
      tensorType(op.getIndex()).getRank() == 0
          ? AffineMap::get(rank, 0, {}, b.getContext())
          : AffineMap::get(rank, 0, {getAffineDimExpr(dim, b.getContext())}, b.getContext());
  (void)in;
  return parallelGeneric(b, loc, out, sizes, ValueRange{op.getIndex()}, {indexMap},
                         [&](OpBuilder& nb, Location nl, ValueRange args) -> Value {
    SmallVector<Value> at = loopIndices(nb, nl, rank);
    at[dim] = checkedIndex(nb, nl, report, args[0], dimSize(nb, nl, op.getInput(), dim), true,
                           abi::IndexOp::IndexSelect, dim);
    return tensor::ExtractOp::create(nb, nl, op.getInput(), at);
  });
}

// gather: out[i..] = input[i.. with index[i..] at dim].
Value lowerGather(OpBuilder& b, ed::GatherOp op, func::FuncOp report, ValueRange sizes) {
  Location loc = op.getLoc();
  auto out = cast<RankedTensorType>(op.getType());
  auto in = tensorType(op.getInput());
  const int64_t dim = op.getDim(), rank = out.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  (void)in;
  return parallelGeneric(b, loc, out, sizes, ValueRange{op.getIndex()}, {identity},
                         [&](OpBuilder& nb, Location nl, ValueRange args) -> Value {
    SmallVector<Value> at = loopIndices(nb, nl, rank);
    Value size = rank ? dimSize(nb, nl, op.getInput(), dim) : arith::ConstantIndexOp::create(nb, nl, 1);
    Value idx = checkedIndex(nb, nl, report, args[0], size, false,
                             abi::IndexOp::Gather, dim);
    if (rank) at[dim] = idx;
    return tensor::ExtractOp::create(nb, nl, op.getInput(), at);
  });
}

// A sequential loop nest over the shape of `over` carrying the tensor `init`; `body` returns
// the new value.
using LoopBody = function_ref<Value(OpBuilder&, Location, ValueRange ivs, Value acc)>;
Value loopNest(OpBuilder& b, Location loc, Value over, Value init, LoopBody body,
               SmallVector<Value> ivs = {}) {
  const size_t rank = size_t(tensorType(over).getRank());
  if (ivs.size() == rank) return body(b, loc, ivs, init);
  Value lb = arith::ConstantIndexOp::create(b, loc, 0);
  Value ub = dimSize(b, loc, over, int64_t(ivs.size()));
  Value step = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, lb, ub, step, ValueRange{init},
                                 [&](OpBuilder& nb, Location nl, Value iv, ValueRange acc) {
    SmallVector<Value> inner(ivs);
    inner.push_back(iv);
    scf::YieldOp::create(nb, nl, loopNest(nb, nl, over, acc[0], body, inner));
  });
  return loop.getResult(0);
}

// acc[at] = v, or acc[at] += v.
Value store(OpBuilder& b, Location loc, Value acc, ValueRange at, Value v, bool add) {
  if (add) {
    Value cur = tensor::ExtractOp::create(b, loc, acc, at);
    v = isa<FloatType>(v.getType()) ? Value(arith::AddFOp::create(b, loc, cur, v))
                                    : Value(arith::AddIOp::create(b, loc, cur, v));
  }
  return tensor::InsertOp::create(b, loc, v, acc, at);
}

// scatter / scatter_add: a copy of input with src[i..] stored at [i.. with index[i..] at dim],
// in the index's order (the last write wins, as in the eager kernel).
template <typename ScatterOp>
Value lowerScatter(OpBuilder& b, ScatterOp op, func::FuncOp report, bool add, ValueRange sizes) {
  Location loc = op.getLoc();
  auto in = tensorType(op.getInput()), index = tensorType(op.getIndex());
  const int64_t dim = op.getDim();
  const abi::IndexOp code = add ? abi::IndexOp::ScatterAdd : abi::IndexOp::Scatter;
  // Into a copy: the input may be a function argument, whose buffer bufferization would
  // otherwise write in place (the caller's tensor).
  Value empty = emptyTensor(b, loc, in, sizes);
  Value init = linalg::CopyOp::create(b, loc, ValueRange{op.getInput()}, ValueRange{empty})
                   .getResult(0);
  (void)index;
  return loopNest(b, loc, op.getIndex(), init,
                  [&](OpBuilder& nb, Location nl, ValueRange ivs, Value acc) -> Value {
    Value raw = tensor::ExtractOp::create(nb, nl, op.getIndex(), ivs);
    SmallVector<Value> at(ivs);
    Value size = in.getRank() ? dimSize(nb, nl, op.getInput(), dim)
                              : arith::ConstantIndexOp::create(nb, nl, 1);
    Value idx = checkedIndex(nb, nl, report, raw, size, false, code, dim);
    if (in.getRank()) at[dim] = idx;
    Value v = tensor::ExtractOp::create(nb, nl, op.getSrc(), ivs);
    return store(nb, nl, acc, at, v, add);
  });
}

// index_add: zeros with source[.., i, ..] added at [.., index[i], ..].
Value lowerIndexAdd(OpBuilder& b, ed::IndexAddOp op, func::FuncOp report, ValueRange sizes) {
  Location loc = op.getLoc();
  auto out = cast<RankedTensorType>(op.getType());
  auto src = tensorType(op.getSource());
  const int64_t dim = op.getDim();
  const bool scalarIndex = tensorType(op.getIndex()).getRank() == 0;
  Value empty = emptyTensor(b, loc, out, sizes);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(out.getElementType()));
  Value init = linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty}).getResult(0);
  (void)src;
  return loopNest(b, loc, op.getSource(), init,
                  [&](OpBuilder& nb, Location nl, ValueRange ivs, Value acc) -> Value {
    Value raw = scalarIndex ? tensor::ExtractOp::create(nb, nl, op.getIndex(), ValueRange{})
                            : tensor::ExtractOp::create(nb, nl, op.getIndex(), ValueRange{ivs[dim]});
    SmallVector<Value> at(ivs);
    at[dim] = checkedIndex(nb, nl, report, raw,
                           arith::ConstantIndexOp::create(nb, nl, out.getDimSize(dim)), true,
                           abi::IndexOp::IndexAdd, dim);
    Value v = tensor::ExtractOp::create(nb, nl, op.getSource(), ivs);
    return store(nb, nl, acc, at, v, true);
  });
}

// argmax / argmin: a reduction linalg.generic carrying (best value, its position); ties keep
// the first position, and the first NaN wins (the eager kernel's rule).
template <typename ArgOp>
Value lowerArgReduce(OpBuilder& b, ArgOp op, bool isMax, ValueRange sizes) {
  Location loc = op.getLoc();
  MLIRContext* ctx = b.getContext();
  auto in = tensorType(op.getInput());
  auto out = cast<RankedTensorType>(op.getType());
  Type elem = in.getElementType();
  const int64_t dim = op.getDim(), rank = in.getRank();
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d) {
    iters.push_back(d == dim ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (d != dim) outExprs.push_back(getAffineDimExpr(d, ctx));
    else if (op.getKeepdim()) outExprs.push_back(getAffineConstantExpr(0, ctx));
  }
  AffineMap inMap = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap outMap = AffineMap::get(rank, 0, outExprs, ctx);
  // The identity: the worst value, so the first element replaces it (or ties with it at 0).
  TypedAttr worst;
  if (auto f = dyn_cast<FloatType>(elem))
    worst = FloatAttr::get(f, llvm::APFloat::getInf(f.getFloatSemantics(), isMax));
  else if (elem.isInteger(1))
    worst = IntegerAttr::get(elem, isMax ? 0 : 1);
  else
    worst = IntegerAttr::get(elem, isMax ? llvm::APInt::getSignedMinValue(elem.getIntOrFloatBitWidth())
                                         : llvm::APInt::getSignedMaxValue(elem.getIntOrFloatBitWidth()));
  auto valType = RankedTensorType::get(out.getShape(), elem);
  auto fill = [&](RankedTensorType t, TypedAttr v) {
    Value e = emptyTensor(b, loc, t, sizes);
    Value c = arith::ConstantOp::create(b, loc, v);
    return linalg::FillOp::create(b, loc, ValueRange{c}, ValueRange{e}).getResult(0);
  };
  Value initVal = fill(valType, worst), initIdx = fill(out, b.getI64IntegerAttr(0));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{valType, out}, ValueRange{op.getInput()}, ValueRange{initVal, initIdx},
      ArrayRef<AffineMap>{inMap, outMap, outMap}, iters,
      [&](OpBuilder& nb, Location nl, ValueRange args) {
        Value x = args[0], best = args[1], bestAt = args[2];
        Value take;
        if (isa<FloatType>(elem)) {
          Value better = arith::CmpFOp::create(
              nb, nl, isMax ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, x, best);
          Value xNaN = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, x, x);
          Value bestOrdered = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ORD, best, best);
          take = arith::AndIOp::create(nb, nl, arith::OrIOp::create(nb, nl, better, xNaN),
                                       bestOrdered);
        } else {
          const bool u = elem.isInteger(1);
          auto pred = isMax ? (u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt)
                            : (u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt);
          take = arith::CmpIOp::create(nb, nl, pred, x, best);
        }
        Value at = arith::IndexCastOp::create(nb, nl, nb.getI64Type(),
                                              linalg::IndexOp::create(nb, nl, dim));
        linalg::YieldOp::create(nb, nl,
                                ValueRange{arith::SelectOp::create(nb, nl, take, x, best),
                                           arith::SelectOp::create(nb, nl, take, at, bestAt)});
      });
  return generic.getResult(1);
}

struct LowerIndexingPass : ember::compiler::impl::LowerIndexingBase<LowerIndexingPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation*> work;
    module.walk([&](Operation* op) {
      if (isa<ed::IndexSelectOp, ed::IndexAddOp, ed::GatherOp, ed::ScatterOp, ed::ScatterAddOp,
              ed::ArgMaxOp, ed::ArgMinOp>(op))
        work.push_back(op);
    });
    if (work.empty()) return;
    func::FuncOp report = errorFunction(module);
    IRRewriter rewriter(&getContext());
    for (Operation* op : work) {
      rewriter.setInsertionPoint(op);
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      FailureOr<SmallVector<Value>> dyn =
          ember::compiler::dynamicSizes(rewriter, op->getLoc(), op, type);
      if (failed(dyn)) return signalPassFailure();
      ValueRange sizes = *dyn;
      Value lowered;
      if (auto o = dyn_cast<ed::IndexSelectOp>(op)) lowered = lowerIndexSelect(rewriter, o, report, sizes);
      else if (auto o = dyn_cast<ed::IndexAddOp>(op)) lowered = lowerIndexAdd(rewriter, o, report, sizes);
      else if (auto o = dyn_cast<ed::GatherOp>(op)) lowered = lowerGather(rewriter, o, report, sizes);
      else if (auto o = dyn_cast<ed::ScatterOp>(op)) lowered = lowerScatter(rewriter, o, report, false, sizes);
      else if (auto o = dyn_cast<ed::ScatterAddOp>(op)) lowered = lowerScatter(rewriter, o, report, true, sizes);
      else if (auto o = dyn_cast<ed::ArgMaxOp>(op)) lowered = lowerArgReduce(rewriter, o, true, sizes);
      else lowered = lowerArgReduce(rewriter, cast<ed::ArgMinOp>(op), false, sizes);
      rewriter.replaceOp(op, lowered);
    }
  }
};

} // namespace
