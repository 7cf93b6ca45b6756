// ember.argsort: verifier, memory effects and bufferization (the tensor form becomes the memref
// form writing into a new buffer; ember-sort-to-runtime-call then calls ember's CPU kernel).
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace ember::dialect;

namespace {
Value resultOrOutput(ArgSortOp op) {
  return op->getNumResults() ? Value(op.getResult()) : Value(op.getOutput());
}
} // namespace

LogicalResult ArgSortOp::verify() {
  const bool tensors = isa<RankedTensorType>(getInput().getType());
  if (tensors && (getOutput() || !getResult()))
    return emitOpError("on tensors takes no output operand and has a result");
  if (!tensors && (!getOutput() || getResult()))
    return emitOpError("on memrefs writes into an output memref and has no result");
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(resultOrOutput(*this).getType());
  const int64_t rank = in.getRank(), dim = getDim();
  if (dim < 0 || dim >= std::max<int64_t>(rank, 1))
    return emitOpError("dim ") << dim << " out of range for " << in;
  if (out.getRank() != rank) return emitOpError("result ") << out << " must have the rank of " << in;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t n = in.getDimSize(d), m = out.getDimSize(d);
    // Beside `dim` the shapes agree; along it the result keeps all n (dynamic with the input)
    // or the first k <= n (static).
    const bool ok = d != dim ? n == m
                             : (ShapedType::isDynamic(n) ? ShapedType::isDynamic(m)
                                                         : !ShapedType::isDynamic(m) && m <= n);
    if (!ok)
      return emitOpError("result ") << out << " does not fit the input " << in << " sorted along dim "
                                    << dim;
  }
  return success();
}

void ArgSortOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>& effects) {
  if (getOperation()->getNumResults()) return; // tensor form: value semantics
  effects.emplace_back(MemoryEffects::Read::get(), &getOperation()->getOpOperand(0),
                       SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &getOperation()->getOpOperand(1),
                       SideEffects::DefaultResource::get());
}

bool ArgSortOp::bufferizesToAllocation(Value) { return true; }
bool ArgSortOp::bufferizesToMemoryRead(OpOperand&, const AnalysisState&) { return true; }
bool ArgSortOp::bufferizesToMemoryWrite(OpOperand&, const AnalysisState&) { return false; }
AliasingValueList ArgSortOp::getAliasingValues(OpOperand&, const AnalysisState&) { return {}; }

FailureOr<BufferLikeType> ArgSortOp::getBufferType(Value value, const BufferizationOptions&,
                                                   const BufferizationState&, SmallVector<Value>&) {
  auto t = cast<RankedTensorType>(value.getType());
  return cast<BufferLikeType>(MemRefType::get(t.getShape(), t.getElementType()));
}

// The memref form: the input's buffer read, a new identity-layout buffer written (its dynamic
// dims are the input's).
LogicalResult ArgSortOp::bufferize(RewriterBase& rewriter, const BufferizationOptions& options,
                                   BufferizationState& state) {
  FailureOr<Value> in = getBuffer(rewriter, getInput(), options, state);
  if (failed(in)) return failure();
  auto type = cast<RankedTensorType>(getResult().getType());
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d)) sizes.push_back(memref::DimOp::create(rewriter, getLoc(), *in, d));
  FailureOr<Value> out = options.createAlloc(
      rewriter, getLoc(), MemRefType::get(type.getShape(), type.getElementType()), sizes);
  if (failed(out)) return failure();
  ArgSortOp::create(rewriter, getLoc(), TypeRange{}, *in, *out, getDimAttr(), getDescendingAttr());
  replaceOpWithBufferizedValues(rewriter, getOperation(), *out);
  return success();
}
