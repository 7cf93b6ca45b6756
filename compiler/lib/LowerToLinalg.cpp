// ember-lower-to-linalg: ember ops and ember.fusion kernels -> linalg on tensors.
#include "ember/compiler/DynamicShapes.h"
#include "ember/compiler/Elementwise.h"
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"


namespace ember::compiler {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;
using ember::compiler::dimSize;
using ember::compiler::emptyTensor;

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

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

// A zero tensor of `type`; `sizes` are its dynamic dims (DynamicShapes.h).
Value zeroFilled(OpBuilder& b, Location loc, RankedTensorType type, ValueRange sizes) {
  Value empty = emptyTensor(b, loc, type, sizes);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty}).getResult(0);
}

using BodyFn = function_ref<Value(OpBuilder&, Location, ValueRange)>;

// A linalg.generic over `type` reading `inputs` through `inputMaps`; all-parallel unless
// `iterators` says otherwise (then `init` and `outMap` describe the accumulator); `sizes` are
// the dynamic dims of `type`.
Value buildGeneric(OpBuilder& b, Location loc, ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                   RankedTensorType type, ValueRange sizes, BodyFn body, Value init = {},
                   AffineMap outMap = {},
                   ArrayRef<utils::IteratorType> iterators = {}) {
  const unsigned loops = inputMaps.empty() ? type.getRank() : inputMaps[0].getNumDims();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(outMap ? outMap : AffineMap::getMultiDimIdentityMap(loops, b.getContext()));
  SmallVector<utils::IteratorType> iters(iterators);
  if (iters.empty()) iters.assign(loops, utils::IteratorType::parallel);
  if (!init) init = emptyTensor(b, loc, type, sizes);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder& nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return generic.getResult(0);
}

// One loop nest for a group of elementwise ops: `inputs` broadcast to `type`; `map` binds the
// group's tensor values to the generic's scalar block arguments as they are created.
Value lowerElementwiseGroup(OpBuilder& b, Location loc, ValueRange inputs, ValueRange bindAs,
                            ArrayRef<Operation*> ops, Value result, RankedTensorType type,
                            ValueRange sizes) {
  SmallVector<AffineMap> maps;
  for (Value in : inputs) maps.push_back(broadcastMap(tensorType(in), type, b.getContext()));
  return buildGeneric(b, loc, inputs, maps, type, sizes, [&](OpBuilder& nb, Location nl, ValueRange args) {
    IRMapping scalars;
    for (auto [tensorValue, scalar] : llvm::zip(bindAs, args)) scalars.map(tensorValue, scalar);
    for (Operation* op : ops) {
      SmallVector<Value> operands;
      for (Value v : op->getOperands()) operands.push_back(scalars.lookup(v));
      scalars.map(op->getResult(0), ember::compiler::emitScalar(nb, nl, op, operands));
    }
    return scalars.lookup(result);
  });
}

// Sum, prod, amax and amin: a reduction linalg.generic from the identity of the combining op
// (on floats; integers wrap, i1 reduces unsigned: amax is any, amin all, prod all).
template <typename ReduceOp>
Value lowerReduce(OpBuilder& b, Location loc, ReduceOp op, ValueRange sizes) {
  auto in = tensorType(op.getInput());
  auto out = cast<RankedTensorType>(op.getType());
  Type elem = out.getElementType();
  MLIRContext* ctx = b.getContext();
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    bool reduced = op.getDims().empty() || llvm::is_contained(op.getDims(), d);
    iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced) outExprs.push_back(getAffineDimExpr(d, ctx));
    else if (op.getKeepdim()) outExprs.push_back(getAffineConstantExpr(0, ctx));
  }
  AffineMap inMap = AffineMap::getMultiDimIdentityMap(in.getRank(), ctx);
  AffineMap outMap = AffineMap::get(in.getRank(), 0, outExprs, ctx);
  constexpr bool isSum = std::is_same_v<ReduceOp, ed::SumOp>;
  constexpr bool isProd = std::is_same_v<ReduceOp, ed::ProdOp>;
  constexpr bool isMax = std::is_same_v<ReduceOp, ed::AmaxOp>;
  const bool isFloat = isa<FloatType>(elem), isBool = elem.isInteger(1);
  Value init = zeroFilled(b, loc, out, sizes);
  if (!isSum) {
    TypedAttr identity;
    if (isProd)
      identity = isFloat ? TypedAttr(FloatAttr::get(elem, 1.0)) : TypedAttr(IntegerAttr::get(elem, 1));
    else if (auto f = dyn_cast<FloatType>(elem))
      identity = FloatAttr::get(f, llvm::APFloat::getInf(f.getFloatSemantics(), isMax));
    else if (isBool)
      identity = IntegerAttr::get(elem, isMax ? 0 : 1);
    else
      identity = IntegerAttr::get(elem, isMax ? APInt::getSignedMinValue(elem.getIntOrFloatBitWidth())
                                              : APInt::getSignedMaxValue(elem.getIntOrFloatBitWidth()));
    Value c = arith::ConstantOp::create(b, loc, identity);
    init = linalg::FillOp::create(b, loc, ValueRange{c}, ValueRange{init}).getResult(0);
  }
  return buildGeneric(
      b, loc, ValueRange{op.getInput()}, {inMap}, out, sizes,
      [&](OpBuilder& nb, Location nl, ValueRange args) -> Value {
        Value x = args[0], acc = args[1];
        // Float sums and products may be reassociated: LLVM then vectorizes the reduction
        // loop (partial sums per lane, as the eager kernels keep) instead of one scalar chain.
        if constexpr (isSum) {
          if (isFloat) return arith::AddFOp::create(nb, nl, acc, x, arith::FastMathFlags::reassoc);
          return isBool ? Value(arith::OrIOp::create(nb, nl, acc, x))
                        : Value(arith::AddIOp::create(nb, nl, acc, x));
        } else if constexpr (isProd) {
          if (isFloat) return arith::MulFOp::create(nb, nl, acc, x, arith::FastMathFlags::reassoc);
          return isBool ? Value(arith::AndIOp::create(nb, nl, acc, x))
                        : Value(arith::MulIOp::create(nb, nl, acc, x));
        } else if constexpr (isMax) {
          if (isFloat) return arith::MaximumFOp::create(nb, nl, acc, x);
          return isBool ? Value(arith::MaxUIOp::create(nb, nl, acc, x))
                        : Value(arith::MaxSIOp::create(nb, nl, acc, x));
        } else {
          if (isFloat) return arith::MinimumFOp::create(nb, nl, acc, x);
          return isBool ? Value(arith::MinUIOp::create(nb, nl, acc, x))
                        : Value(arith::MinSIOp::create(nb, nl, acc, x));
        }
      },
      init, outMap, iters);
}

// cumsum / cumprod: the lines along `dim` in parallel (an scf.forall over the other dims, which
// becomes an scf.parallel that ember-outline-parallel-loops puts on the thread pool), each an
// scf.for along `dim` (backwards when reversed) carrying the running value and inserting it into
// its line of the result (in place after bufferization). f32 runs in f64, integers in their
// type (the importer gives i64), i1 as or / and: the eager kernel's accumulators.
template <typename ScanOp>
Value lowerScan(OpBuilder& b, Location loc, ScanOp op, ValueRange sizes) {
  constexpr bool isSum = std::is_same_v<ScanOp, ed::CumSumOp>;
  Value input = op.getInput();
  auto type = cast<RankedTensorType>(op.getType());
  const int64_t rank = type.getRank(), dim = op.getDim();
  if (rank == 0) return input; // one element: its own running sum / product
  Type elem = type.getElementType();
  const bool isFloat = isa<FloatType>(elem), isBool = elem.isInteger(1);
  Type accType = isFloat ? Type(b.getF64Type()) : elem;
  auto combine = [&](OpBuilder& nb, Location nl, Value acc, Value x) -> Value {
    if (isFloat) {
      x = arith::ExtFOp::create(nb, nl, accType, x);
      return isSum ? Value(arith::AddFOp::create(nb, nl, acc, x))
                   : Value(arith::MulFOp::create(nb, nl, acc, x));
    }
    if (isBool)
      return isSum ? Value(arith::OrIOp::create(nb, nl, acc, x)) : Value(arith::AndIOp::create(nb, nl, acc, x));
    return isSum ? Value(arith::AddIOp::create(nb, nl, acc, x)) : Value(arith::MulIOp::create(nb, nl, acc, x));
  };
  TypedAttr identityAttr = isFloat ? TypedAttr(FloatAttr::get(accType, isSum ? 0.0 : 1.0))
                                   : TypedAttr(IntegerAttr::get(elem, isSum ? 0 : 1));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value n = dimSize(b, loc, input, dim);
  // The input position being read: the line's indices (`at`, set below), `dim` the loop's.
  SmallVector<Value> at(rank);
  // Fills the 1-D `line` (the result's line at `at`) with the running values.
  auto scanLine = [&](OpBuilder& nb, Location nl, Value line) -> Value {
    Value identity = arith::ConstantOp::create(nb, nl, identityAttr);
    Value last = op.getReverse() ? Value(arith::SubIOp::create(nb, nl, n, one)) : Value();
    auto loop = scf::ForOp::create(nb, nl, zero, n, one, ValueRange{line, identity},
                                   [&](OpBuilder& lb, Location ll, Value iv, ValueRange args) {
      Value p = op.getReverse() ? Value(arith::SubIOp::create(lb, ll, last, iv)) : iv;
      at[dim] = p;
      Value x = tensor::ExtractOp::create(lb, ll, input, at);
      Value running = combine(lb, ll, args[1], x);
      Value stored = isFloat ? Value(arith::TruncFOp::create(lb, ll, elem, running)) : running;
      Value next = tensor::InsertOp::create(lb, ll, stored, args[0], ValueRange{p});
      scf::YieldOp::create(lb, ll, ValueRange{next, running});
    });
    return loop.getResult(0);
  };
  Value init = emptyTensor(b, loc, type, sizes);
  if (rank == 1) return scanLine(b, loc, init);
  SmallVector<OpFoldResult> ubs;
  SmallVector<int64_t> others;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim) {
      others.push_back(d);
      ubs.push_back(type.isDynamicDim(d) ? OpFoldResult(dimSize(b, loc, input, d))
                                         : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
    }
  auto forall = scf::ForallOp::create(b, loc, ubs, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  SmallVector<Value> ivs = forall.getInductionVars();
  SmallVector<OpFoldResult> offsets(rank), lineSizes(rank, b.getIndexAttr(1)),
      strides(rank, b.getIndexAttr(1));
  for (auto [k, d] : llvm::enumerate(others)) {
    at[d] = ivs[k];
    offsets[d] = ivs[k];
  }
  offsets[dim] = b.getIndexAttr(0);
  lineSizes[dim] = type.isDynamicDim(dim) ? OpFoldResult(n) : OpFoldResult(b.getIndexAttr(type.getDimSize(dim)));
  Value out = forall.getRegionIterArgs()[0];
  auto lineType = RankedTensorType::get({type.getDimSize(dim)}, elem);
  Value line = tensor::ExtractSliceOp::create(b, loc, lineType, out, offsets, lineSizes, strides);
  Value filled = scanLine(b, loc, line);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, filled, out, offsets, lineSizes, strides);
  return forall.getResult(0);
}

// unfold: result[.., w, .., k] = input[.., w * step + k, ..], a copy through one affine map.
Value lowerUnfold(OpBuilder& b, Location loc, ed::UnfoldOp op, ValueRange sizes) {
  auto out = cast<RankedTensorType>(op.getType());
  const int64_t rank = out.getRank(), inRank = rank - 1, dim = op.getDim();
  MLIRContext* ctx = b.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < inRank; ++d)
    exprs.push_back(d == dim ? getAffineDimExpr(d, ctx) * op.getStep() + getAffineDimExpr(inRank, ctx)
                             : getAffineDimExpr(d, ctx));
  AffineMap inMap = AffineMap::get(rank, 0, exprs, ctx);
  return buildGeneric(b, loc, ValueRange{op.getInput()}, {inMap}, out, sizes,
                      [](OpBuilder&, Location, ValueRange args) { return args[0]; });
}

Value lowerTranspose(OpBuilder& b, Location loc, ed::TransposeOp op, ValueRange sizes) {
  auto out = cast<RankedTensorType>(op.getType());
  MLIRContext* ctx = b.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < out.getRank(); ++i) {
    int64_t j = i == op.getDim0() ? op.getDim1() : i == op.getDim1() ? op.getDim0() : i;
    exprs.push_back(getAffineDimExpr(j, ctx));
  }
  AffineMap inMap = AffineMap::get(out.getRank(), 0, exprs, ctx);
  return buildGeneric(b, loc, ValueRange{op.getInput()}, {inMap}, out, sizes,
                      [](OpBuilder&, Location, ValueRange args) { return args[0]; });
}

// The input of a 2-D ember.transpose of dims 0 and 1 (null for any other value).
Value swapped2d(ed::TransposeOp tr) {
  auto t = cast<RankedTensorType>(tr.getType());
  return t.getRank() == 2 && tr.getDim0() != tr.getDim1() ? tr.getInput() : Value();
}

// out = op(lhs) @ op(rhs) as linalg.matmul, op = transpose where the flag says so. Operands
// that are (not yet lowered) 2-D ember.transposes are looked through, so a transposed operand
// is read in place through the matmul's indexing map instead of being materialised (a Linear
// layer's weight, the activations and gradients of its VJP); the GEMM runtime call then reads
// it as a strided view.
Value lowerMatmul(OpBuilder& b, Location loc, Value lhs, bool lhsT, Value rhs, bool rhsT,
                  RankedTensorType type, ValueRange sizes) {
  auto peel = [](Value& v, bool& t) {
    while (auto tr = v.getDefiningOp<ed::TransposeOp>()) {
      Value in = swapped2d(tr);
      if (!in) break;
      v = in;
      t = !t;
    }
  };
  peel(lhs, lhsT);
  peel(rhs, rhsT);
  MLIRContext* ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
  auto map = [&](AffineExpr r, AffineExpr c) { return AffineMap::get(3, 0, {r, c}, ctx); };
  SmallVector<NamedAttribute> attrs;
  if (lhsT || rhsT)
    attrs.push_back(b.getNamedAttr(
        "indexing_maps", b.getAffineMapArrayAttr({lhsT ? map(k, m) : map(m, k),
                                                  rhsT ? map(n, k) : map(k, n), map(m, n)})));
  return linalg::MatmulOp::create(b, loc, TypeRange{type}, ValueRange{lhs, rhs},
                                  ValueRange{zeroFilled(b, loc, type, sizes)}, attrs)
      .getResult(0);
}

// Any reshape as collapse-to-1-D then expand-to-target (one reassociation group each); a
// dynamic target dim takes its size from `sizes`.
Value lowerReshape(OpBuilder& b, Location loc, ed::ReshapeOp op, ValueRange sizes) {
  auto in = tensorType(op.getInput());
  auto out = cast<RankedTensorType>(op.getType());
  auto flat = RankedTensorType::get({in.hasStaticShape() ? in.getNumElements() : ShapedType::kDynamic},
                                    in.getElementType());
  auto allDims = [](int64_t rank) {
    ReassociationIndices r;
    for (int64_t i = 0; i < rank; ++i) r.push_back(i);
    return SmallVector<ReassociationIndices>{r};
  };
  Value v = op.getInput();
  if (out.getNumDynamicDims() > 1) {
    // Several dynamic dims from one (a bmm's 1x?x? result to ?x?): tensor.reshape with the
    // sizes as a shape tensor (MLIR 22's expand-strided-metadata crashes on a memref
    // expand_shape group holding two dynamic dims).
    SmallVector<Value> dims;
    for (int64_t d = 0, k = 0; d < out.getRank(); ++d)
      dims.push_back(out.isDynamicDim(d) ? sizes[k++]
                                         : Value(arith::ConstantIndexOp::create(b, loc, out.getDimSize(d))));
    Value shape = tensor::FromElementsOp::create(b, loc, dims);
    return tensor::ReshapeOp::create(b, loc, out, v, shape);
  }
  if (in.getRank() > 1) v = tensor::CollapseShapeOp::create(b, loc, flat, v, allDims(in.getRank()));
  else if (in.getRank() == 0) v = tensor::ExpandShapeOp::create(b, loc, flat, v, ArrayRef<ReassociationIndices>{});
  if (out.getRank() > 1) {
    SmallVector<OpFoldResult> shape;
    for (int64_t d = 0, k = 0; d < out.getRank(); ++d)
      shape.push_back(out.isDynamicDim(d) ? OpFoldResult(sizes[k++]) : b.getIndexAttr(out.getDimSize(d)));
    v = tensor::ExpandShapeOp::create(b, loc, out, v, allDims(out.getRank()), shape);
  }
  else if (out.getRank() == 0) v = tensor::CollapseShapeOp::create(b, loc, out, v, ArrayRef<ReassociationIndices>{});
  return v;
}

// The offsets/sizes/strides of an ember.slice-style window: `part` is a value with the
// window's shape, `full` the type of the whole (sizes of dynamic dims come from `part` or,
// for the sliced dim, `partDim`).
struct Window {
  SmallVector<OpFoldResult> offsets, sizes, strides;
};
Window sliceWindow(OpBuilder& b, Location loc, RankedTensorType full, Value part, int64_t dim,
                   OpFoldResult start, int64_t step, OpFoldResult partDim = {}) {
  Window w;
  auto pt = tensorType(part);
  for (int64_t d = 0; d < full.getRank(); ++d) {
    w.offsets.push_back(d == dim ? start : b.getIndexAttr(0));
    if (d == dim && partDim) w.sizes.push_back(partDim);
    else if (pt.isDynamicDim(d)) w.sizes.push_back(OpFoldResult(dimSize(b, loc, part, d)));
    else w.sizes.push_back(b.getIndexAttr(pt.getDimSize(d)));
    w.strides.push_back(b.getIndexAttr(d == dim ? step : 1));
  }
  return w;
}

// `sizes`: the dynamic dims of op's result (DynamicShapes.h).
FailureOr<Value> lower(OpBuilder& b, Operation* op, ValueRange sizes) {
  Location loc = op->getLoc();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  // An empty result (a static dim of size 0, as x[n:] of n rows makes) has nothing to compute,
  // and windows at its offsets would lie past their operand's end (which MLIR refuses).
  if (llvm::is_contained(resultType.getShape(), 0))
    return emptyTensor(b, loc, resultType, sizes);
  if (ember::compiler::isElementwise(op))
    return lowerElementwiseGroup(b, loc, op->getOperands(), op->getOperands(), {op},
                                 op->getResult(0), resultType, sizes);
  if (auto fusion = dyn_cast<ed::FusionOp>(op)) {
    Block& body = fusion.getBody().front();
    SmallVector<Operation*> ops;
    for (Operation& inner : body.without_terminator()) ops.push_back(&inner);
    Value yielded = cast<ed::YieldOp>(body.getTerminator()).getValue();
    return lowerElementwiseGroup(b, loc, fusion.getInputs(), body.getArguments(), ops, yielded,
                                 cast<RankedTensorType>(fusion.getType()), sizes);
  }
  if (auto mm = dyn_cast<ed::MatMulOp>(op))
    return lowerMatmul(b, loc, mm.getLhs(), false, mm.getRhs(), false,
                       cast<RankedTensorType>(mm.getType()), sizes);
  if (auto bm = dyn_cast<ed::BatchMatMulOp>(op)) {
    auto type = cast<RankedTensorType>(bm.getType());
    return linalg::BatchMatmulOp::create(b, loc, TypeRange{type},
                                         ValueRange{bm.getLhs(), bm.getRhs()},
                                         ValueRange{zeroFilled(b, loc, type, sizes)})
        .getResult(0);
  }
  if (auto pm = dyn_cast<ed::PermuteOp>(op)) {
    auto out = cast<RankedTensorType>(pm.getType());
    // out[i0..] = in[j..] with j[dims[i]] = i: the input map sends output dim i to input dims[i].
    SmallVector<AffineExpr> exprs(out.getRank());
    for (int64_t i = 0; i < out.getRank(); ++i)
      exprs[pm.getDims()[i]] = getAffineDimExpr(i, b.getContext());
    AffineMap inMap = AffineMap::get(out.getRank(), 0, exprs, b.getContext());
    return buildGeneric(b, loc, ValueRange{pm.getInput()}, {inMap}, out, sizes,
                        [](OpBuilder&, Location, ValueRange args) { return args[0]; });
  }
  if (auto sl = dyn_cast<ed::SliceOp>(op)) {
    auto out = cast<RankedTensorType>(sl.getType());
    // The window's dims are the input's outside the sliced one; that one is static, or
    // dynamic (a slice to the end of a dynamic batch: its size is among `sizes`).
    const int64_t d = sl.getDim();
    OpFoldResult length = b.getIndexAttr(out.getDimSize(d));
    if (out.isDynamicDim(d)) {
      int64_t k = 0;
      for (int64_t i = 0; i < d; ++i) k += out.isDynamicDim(i);
      length = sizes[k];
    }
    Window w = sliceWindow(b, loc, tensorType(sl.getInput()), sl.getInput(), d,
                           b.getIndexAttr(sl.getStart()), sl.getStep(), length);
    return tensor::ExtractSliceOp::create(b, loc, out, sl.getInput(), w.offsets, w.sizes, w.strides)
        .getResult();
  }
  if (auto sb = dyn_cast<ed::SliceBackwardOp>(op)) {
    auto out = cast<RankedTensorType>(sb.getType());
    if (llvm::is_contained(tensorType(sb.getInput()).getShape(), 0)) // an empty window: zeros
      return zeroFilled(b, loc, out, sizes);
    Window w = sliceWindow(b, loc, out, sb.getInput(), sb.getDim(), b.getIndexAttr(sb.getStart()),
                           sb.getStep());
    return tensor::InsertSliceOp::create(b, loc, sb.getInput(), zeroFilled(b, loc, out, sizes), w.offsets,
                                         w.sizes, w.strides)
        .getResult();
  }
  if (auto cat = dyn_cast<ed::CatOp>(op)) {
    auto out = cast<RankedTensorType>(cat.getType());
    Value acc = emptyTensor(b, loc, out, sizes);
    OpFoldResult at = b.getIndexAttr(0);
    for (Value in : cat.getInputs()) {
      auto t = tensorType(in);
      if (llvm::is_contained(t.getShape(), 0)) continue; // empty: nothing to place (its offset
                                                          // may be the result's end)
      Window w = sliceWindow(b, loc, out, in, cat.getDim(), at, 1);
      acc = tensor::InsertSliceOp::create(b, loc, in, acc, w.offsets, w.sizes, w.strides).getResult();
      const int64_t d = cat.getDim();
      if (!t.isDynamicDim(d) && isa<Attribute>(at))
        at = b.getIndexAttr(cast<IntegerAttr>(cast<Attribute>(at)).getInt() + t.getDimSize(d));
      else
        at = OpFoldResult(arith::AddIOp::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, at),
                                                dimSize(b, loc, in, d)));
    }
    return acc;
  }
  if (auto sum = dyn_cast<ed::SumOp>(op)) return lowerReduce(b, loc, sum, sizes);
  if (auto mx = dyn_cast<ed::AmaxOp>(op)) return lowerReduce(b, loc, mx, sizes);
  if (auto mn = dyn_cast<ed::AminOp>(op)) return lowerReduce(b, loc, mn, sizes);
  if (auto pr = dyn_cast<ed::ProdOp>(op)) return lowerReduce(b, loc, pr, sizes);
  if (auto cs = dyn_cast<ed::CumSumOp>(op)) return lowerScan(b, loc, cs, sizes);
  if (auto cp = dyn_cast<ed::CumProdOp>(op)) return lowerScan(b, loc, cp, sizes);
  if (auto uf = dyn_cast<ed::UnfoldOp>(op)) return lowerUnfold(b, loc, uf, sizes);
  if (auto tr = dyn_cast<ed::TransposeOp>(op)) return lowerTranspose(b, loc, tr, sizes);
  if (auto rs = dyn_cast<ed::ReshapeOp>(op)) return lowerReshape(b, loc, rs, sizes);
  if (auto ex = dyn_cast<ed::ExpandOp>(op)) {
    auto out = cast<RankedTensorType>(ex.getType());
    AffineMap inMap = broadcastMap(tensorType(ex.getInput()), out, b.getContext());
    return buildGeneric(b, loc, ValueRange{ex.getInput()}, {inMap}, out, sizes,
                        [](OpBuilder&, Location, ValueRange args) { return args[0]; });
  }
  return failure();
}

struct LowerToLinalgPass : ember::compiler::impl::LowerToLinalgBase<LowerToLinalgPass> {
  void runOnOperation() override {
    SmallVector<Operation*> work;
    bool unsupported = false;
    getOperation().walk([&](Operation* op) {
      if (!isa<ed::EmberDialect>(op->getDialect()) || op->getParentOfType<ed::FusionOp>()) return;
      // Sliding-window ops, the convolution ops and argsort bufferize themselves;
      // ember-window-to-runtime-call and ember-sort-to-runtime-call lower them.
      if (isa<ed::Im2ColOp, ed::Col2ImOp, ed::Conv2dOp, ed::Conv2dWeightGradOp,
              ed::Conv2dInputGradOp, ed::MaxPool2dOp, ed::MaxPool2dGradOp, ed::ArgSortOp>(op))
        return;
      // Every elementwise expression, alone or in a fusion, must exist for its operand types.
      auto checkScalar = [&](Operation* e) {
        if (ember::compiler::canEmitScalar(e)) return true;
        e->emitError() << "ember-lower-to-linalg: '" << e->getName() << "' has no scalar form "
                       << "for operands of type " << e->getOperand(0).getType();
        unsupported = true;
        return false;
      };
      if (ember::compiler::isElementwise(op) && !checkScalar(op)) return;
      if (auto fusion = dyn_cast<ed::FusionOp>(op))
        for (Operation& inner : fusion.getBody().front().without_terminator())
          if (!checkScalar(&inner)) return;
      work.push_back(op);
    });
    if (unsupported) return signalPassFailure();
    IRRewriter rewriter(&getContext());
    // Matmuls first, while the transposes around them are still ember ops to look through:
    // (A B)^T is computed as B^T A^T by the matmul itself, and transposed operands are read
    // in place (lowerMatmul). Transposes left without users are dropped below.
    llvm::DenseSet<Operation*> done; // lowered or erased here
    for (Operation* op : work) {
      auto mm = dyn_cast<ed::MatMulOp>(op);
      if (!mm) continue;
      auto type = cast<RankedTensorType>(mm.getType());
      Operation* user = mm->hasOneUse() ? *mm->user_begin() : nullptr;
      auto tr = dyn_cast_or_null<ed::TransposeOp>(user);
      rewriter.setInsertionPoint(op);
      if (tr && swapped2d(tr) && isa<FloatType>(type.getElementType())) {
        rewriter.setInsertionPoint(tr);
        auto trType = cast<RankedTensorType>(tr.getType());
        auto sizes = ember::compiler::dynamicSizes(rewriter, tr->getLoc(), tr, trType);
        if (failed(sizes)) return signalPassFailure();
        Value t = lowerMatmul(rewriter, tr->getLoc(), mm.getRhs(), true, mm.getLhs(), true, trType,
                              *sizes);
        rewriter.replaceOp(tr, t);
        rewriter.eraseOp(op);
        done.insert(tr);
      } else {
        auto sizes = ember::compiler::dynamicSizes(rewriter, op->getLoc(), op, type);
        if (failed(sizes)) return signalPassFailure();
        rewriter.replaceOp(op, lowerMatmul(rewriter, op->getLoc(), mm.getLhs(), false, mm.getRhs(),
                                           false, type, *sizes));
      }
      done.insert(op);
    }
    for (Operation* op : work) {
      if (done.count(op)) continue;
      // A transpose folded into its matmuls (ember ops have no side effects).
      if (op->getNumResults() > 0 && op->use_empty()) {
        rewriter.eraseOp(op);
        continue;
      }
      rewriter.setInsertionPoint(op);
      auto sizes = ember::compiler::dynamicSizes(
          rewriter, op->getLoc(), op, cast<RankedTensorType>(op->getResult(0).getType()));
      if (failed(sizes)) return signalPassFailure();
      FailureOr<Value> lowered = lower(rewriter, op, *sizes);
      if (failed(lowered)) {
        op->emitError() << "ember-lower-to-linalg: no lowering for '" << op->getName() << "'";
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *lowered);
    }
  }
};

} // namespace
