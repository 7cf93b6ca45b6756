// ember.im2col, ember.col2im, the convolution ops (conv2d and its gradients) and max pooling
// (max_pool2d and its gradient): verifiers,
// memory effects and bufferization (the tensor form becomes the memref form writing into a new
// buffer; ember-window-to-runtime-call then calls ember's CPU kernels for it).
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace ember::dialect;

namespace {

// Either a tensor input with a tensor result (value semantics), or a memref input written into
// a memref output (after bufferization).
LogicalResult verifyForm(Operation* op, Value input, Value output, Value result) {
  const bool tensors = isa<RankedTensorType>(input.getType());
  if (tensors && (output || !result))
    return op->emitOpError("on tensors takes no output operand and has a result");
  if (!tensors && (!output || result))
    return op->emitOpError("on memrefs writes into an output memref and has no result");
  return success();
}

// The window attributes every op here carries: two entries each, kernel, stride, dilation and
// output size positive, padding non-negative.
template <typename OpT>
LogicalResult verifyWindowAttrs(OpT op) {
  auto pair = [&](ArrayRef<int64_t> v, StringRef name, int64_t least) -> LogicalResult {
    if (v.size() != 2 || v[0] < least || v[1] < least)
      return op.emitOpError(name) << " must hold two values of at least " << least;
    return success();
  };
  if (failed(pair(op.getKernel(), "kernel", 1)) || failed(pair(op.getStride(), "stride", 1)) ||
      failed(pair(op.getPadding(), "padding", 0)) || failed(pair(op.getDilation(), "dilation", 1)) ||
      failed(pair(op.getOutputSize(), "output_size", 1)))
    return failure();
  return success();
}

template <typename OpT>
LogicalResult verifyGeometry(OpT op, ShapedType image, ShapedType cols) {
  if (failed(verifyWindowAttrs(op))) return failure();
  if (image.getRank() != 4 || cols.getRank() != 2)
    return op.emitOpError("expects an image [N, C, H, W] and columns [C*kh*kw, N*oh*ow], got ")
           << image << " and " << cols;
  // Only the batch may be dynamic (ember.compile(dynamic=True)): image dim 0, columns dim 1.
  for (int64_t d = 1; d < 4; ++d)
    if (image.isDynamicDim(d))
      return op.emitOpError("needs a static image shape outside the batch, got ") << image;
  if (cols.isDynamicDim(0) || image.isDynamicDim(0) != cols.isDynamicDim(1))
    return op.emitOpError("columns ") << cols << " must be dynamic in dim 1 exactly when the "
                                      << "image " << image << " is in dim 0";
  ArrayRef<int64_t> k = op.getKernel(), o = op.getOutputSize();
  const int64_t rows = image.getDimSize(1) * k[0] * k[1];
  const int64_t len = image.isDynamicDim(0) ? ShapedType::kDynamic : image.getDimSize(0) * o[0] * o[1];
  if (cols.getDimSize(0) != rows || cols.getDimSize(1) != len)
    return op.emitOpError("columns of ")
           << image << " with kernel " << k[0] << "x" << k[1] << " and output size " << o[0] << "x"
           << o[1] << " are [" << rows << ", " << len << "], got " << cols;
  return success();
}

void windowEffects(Operation* op,
                   SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>& effects) {
  if (op->getNumResults()) return; // tensor form: value semantics
  effects.emplace_back(MemoryEffects::Read::get(), &op->getOpOperand(0),
                       SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &op->getOpOperand(1),
                       SideEffects::DefaultResource::get());
}

FailureOr<BufferLikeType> resultBufferType(Value value) {
  auto t = cast<RankedTensorType>(value.getType());
  return cast<BufferLikeType>(MemRefType::get(t.getShape(), t.getElementType()));
}

// The memref form: the input's buffer read, a new identity-layout buffer written.
LogicalResult bufferizeWindow(Operation* op, RewriterBase& rewriter,
                              const BufferizationOptions& options, BufferizationState& state) {
  FailureOr<Value> in = getBuffer(rewriter, op->getOperand(0), options, state);
  if (failed(in)) return failure();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  // A dynamic batch: im2col's columns are [C*kh*kw, N*oh*ow], col2im's image [N, C, H, W]
  // (ember.max_pool2d is static).
  SmallVector<Value> sizes;
  if (!type.hasStaticShape()) {
    const bool im2col = isa<Im2ColOp>(op);
    ArrayRef<int64_t> o = im2col ? cast<Im2ColOp>(op).getOutputSize() : cast<Col2ImOp>(op).getOutputSize();
    Location loc = op->getLoc();
    Value perImage = arith::ConstantIndexOp::create(rewriter, loc, o[0] * o[1]);
    Value n = memref::DimOp::create(rewriter, loc, *in, im2col ? 0 : 1);
    sizes.push_back(im2col ? Value(arith::MulIOp::create(rewriter, loc, n, perImage))
                           : Value(arith::DivUIOp::create(rewriter, loc, n, perImage)));
  }
  FailureOr<Value> out = options.createAlloc(
      rewriter, op->getLoc(), MemRefType::get(type.getShape(), type.getElementType()), sizes);
  if (failed(out)) return failure();
  OperationState st(op->getLoc(), op->getName());
  st.addOperands({*in, *out});
  st.propertiesAttr = op->getPropertiesAsAttribute();
  st.addAttributes(op->getDiscardableAttrDictionary().getValue());
  rewriter.create(st);
  replaceOpWithBufferizedValues(rewriter, op, *out);
  return success();
}

Value resultOrOutput(Operation* op) {
  return op->getNumResults() ? op->getResult(0) : op->getOperand(1);
}

// The convolution ops: two inputs read, the output (operand 2 in memref form) written.
void convEffects(Operation* op,
                 SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>& effects) {
  if (op->getNumResults()) return;
  for (int i = 0; i < 2; ++i)
    effects.emplace_back(MemoryEffects::Read::get(), &op->getOpOperand(i),
                         SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &op->getOpOperand(2),
                       SideEffects::DefaultResource::get());
}

LogicalResult bufferizeConv(Operation* op, RewriterBase& rewriter,
                            const BufferizationOptions& options, BufferizationState& state) {
  FailureOr<Value> lhs = getBuffer(rewriter, op->getOperand(0), options, state);
  FailureOr<Value> rhs = getBuffer(rewriter, op->getOperand(1), options, state);
  if (failed(lhs) || failed(rhs)) return failure();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  FailureOr<Value> out = options.createAlloc(
      rewriter, op->getLoc(), MemRefType::get(type.getShape(), type.getElementType()), {});
  if (failed(out)) return failure();
  OperationState st(op->getLoc(), op->getName());
  st.addOperands({*lhs, *rhs, *out});
  st.propertiesAttr = op->getPropertiesAsAttribute();
  st.addAttributes(op->getDiscardableAttrDictionary().getValue());
  rewriter.create(st);
  replaceOpWithBufferizedValues(rewriter, op, *out);
  return success();
}

// Image x [N, C, H, W], weight [O, C*kh*kw] and output [N, O, oh, ow] of one convolution: the
// shapes its three ops relate (each op passes the two it reads and the one it makes).
// The two-input ops' forms: two tensors and a result, or two memrefs and an output.
template <typename OpT>
LogicalResult verifyForm2(OpT op) {
  const bool tensors = isa<RankedTensorType>(op.getLhs().getType());
  if (isa<RankedTensorType>(op.getRhs().getType()) != tensors)
    return op.emitOpError("takes two tensors or two memrefs");
  if (tensors && (op.getOutput() || !op.getResult()))
    return op.emitOpError("on tensors takes no output operand and has a result");
  if (!tensors && (!op.getOutput() || op.getResult()))
    return op.emitOpError("on memrefs writes into an output memref and has no result");
  return success();
}

template <typename OpT>
LogicalResult verifyConv(OpT op, ShapedType image, ShapedType weight, ShapedType out) {
  if (failed(verifyForm2(op)) || failed(verifyWindowAttrs(op))) return failure();
  if (!image.hasStaticShape() || !weight.hasStaticShape() || !out.hasStaticShape() ||
      image.getRank() != 4 || weight.getRank() != 2 || out.getRank() != 4)
    return op.emitOpError("expects a static image [N, C, H, W], weight [O, C*kh*kw] and output "
                          "[N, O, oh, ow], got ")
           << image << ", " << weight << " and " << out;
  ArrayRef<int64_t> k = op.getKernel(), os = op.getOutputSize();
  if (weight.getDimSize(1) != image.getDimSize(1) * k[0] * k[1] ||
      out.getDimSize(0) != image.getDimSize(0) || out.getDimSize(1) != weight.getDimSize(0) ||
      out.getDimSize(2) != os[0] || out.getDimSize(3) != os[1])
    return op.emitOpError("image ") << image << ", weight " << weight << " and output " << out
                                    << " do not fit a " << k[0] << "x" << k[1]
                                    << " convolution with output size " << os[0] << "x" << os[1];
  return success();
}

// Max pooling's image x [N, C, H, W] and pooled [N, C, oh, ow] (its values or their gradient):
// static, the planes alike, every window holding a pixel of the image (the kernels' rule).
template <typename OpT>
LogicalResult verifyPool(OpT op, ShapedType image, ShapedType pooled) {
  if (failed(verifyWindowAttrs(op))) return failure();
  if (!image.hasStaticShape() || !pooled.hasStaticShape() || image.getRank() != 4 ||
      pooled.getRank() != 4)
    return op.emitOpError("expects a static image [N, C, H, W] and pooled [N, C, oh, ow], got ")
           << image << " and " << pooled;
  ArrayRef<int64_t> os = op.getOutputSize();
  if (pooled.getDimSize(0) != image.getDimSize(0) || pooled.getDimSize(1) != image.getDimSize(1) ||
      pooled.getDimSize(2) != os[0] || pooled.getDimSize(3) != os[1])
    return op.emitOpError("pooled ") << pooled << " does not fit image " << image
                                     << " with output size " << os[0] << "x" << os[1];
  if (!ember::dialect::windowsHoldPixels(op.getKernel(), op.getStride(), op.getPadding(),
                                         op.getDilation(), os, image.getDimSize(2),
                                         image.getDimSize(3)))
    return op.emitOpError("has a window outside image ") << image << " (every window must hold "
                                                         << "a pixel of the image)";
  return success();
}

} // namespace

bool ember::dialect::windowsHoldPixels(ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                                       ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
                                       ArrayRef<int64_t> outputSize, int64_t h, int64_t w) {
  const int64_t size[2] = {h, w};
  for (int d = 0; d < 2; ++d)
    for (int64_t o = 0; o < outputSize[d]; ++o) {
      // The window's first position inside [0, size), as the kernels clamp it.
      const int64_t start = o * stride[d] - padding[d];
      const int64_t end = std::min(start + (kernel[d] - 1) * dilation[d] + 1, size[d]);
      int64_t first = start;
      if (first < 0) first += (-first + dilation[d] - 1) / dilation[d] * dilation[d];
      if (first >= end) return false;
    }
  return true;
}

// The interfaces every op here implements alike, given its effects and bufferization.
#define EMBER_BUFFERIZING_OP_INTERFACES(Op, effects, bufferizeOp)                                \
  void Op::getEffects(                                                                          \
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>& out) {               \
    effects(getOperation(), out);                                                               \
  }                                                                                             \
  bool Op::bufferizesToAllocation(Value) { return true; }                                       \
  bool Op::bufferizesToMemoryRead(OpOperand&, const AnalysisState&) { return true; }            \
  bool Op::bufferizesToMemoryWrite(OpOperand&, const AnalysisState&) { return false; }          \
  AliasingValueList Op::getAliasingValues(OpOperand&, const AnalysisState&) { return {}; }      \
  FailureOr<BufferLikeType> Op::getBufferType(Value value, const BufferizationOptions&,         \
                                              const BufferizationState&,                        \
                                              SmallVector<Value>&) {                            \
    return resultBufferType(value);                                                             \
  }                                                                                             \
  LogicalResult Op::bufferize(RewriterBase& rewriter, const BufferizationOptions& options,      \
                              BufferizationState& state) {                                      \
    return bufferizeOp(getOperation(), rewriter, options, state);                               \
  }

EMBER_BUFFERIZING_OP_INTERFACES(Im2ColOp, windowEffects, bufferizeWindow)
EMBER_BUFFERIZING_OP_INTERFACES(Col2ImOp, windowEffects, bufferizeWindow)
EMBER_BUFFERIZING_OP_INTERFACES(Conv2dOp, convEffects, bufferizeConv)
EMBER_BUFFERIZING_OP_INTERFACES(Conv2dWeightGradOp, convEffects, bufferizeConv)
EMBER_BUFFERIZING_OP_INTERFACES(Conv2dInputGradOp, convEffects, bufferizeConv)
EMBER_BUFFERIZING_OP_INTERFACES(MaxPool2dOp, windowEffects, bufferizeWindow)
EMBER_BUFFERIZING_OP_INTERFACES(MaxPool2dGradOp, convEffects, bufferizeConv)
#undef EMBER_BUFFERIZING_OP_INTERFACES


namespace {
template <typename OpT>
Value convOut(OpT op) {
  return op.getResult() ? Value(op.getResult()) : Value(op.getOutput());
}
ShapedType shaped(Value v) { return cast<ShapedType>(v.getType()); }
} // namespace

LogicalResult Conv2dOp::verify() {
  return verifyConv(*this, shaped(getLhs()), shaped(getRhs()), shaped(convOut(*this)));
}
LogicalResult Conv2dWeightGradOp::verify() {
  return verifyConv(*this, shaped(getLhs()), shaped(convOut(*this)), shaped(getRhs()));
}
LogicalResult Conv2dInputGradOp::verify() {
  return verifyConv(*this, shaped(convOut(*this)), shaped(getRhs()), shaped(getLhs()));
}

LogicalResult MaxPool2dOp::verify() {
  if (failed(verifyForm(*this, getInput(), getOutput(), getResult()))) return failure();
  return verifyPool(*this, shaped(getInput()), shaped(resultOrOutput(*this)));
}
LogicalResult MaxPool2dGradOp::verify() {
  if (failed(verifyForm2(*this))) return failure();
  ShapedType image = shaped(getLhs()), out = shaped(convOut(*this));
  if (failed(verifyPool(*this, image, shaped(getRhs())))) return failure();
  if (out.getShape() != image.getShape())
    return emitOpError("gradient ") << out << " must have the image's shape " << image;
  return success();
}

LogicalResult Im2ColOp::verify() {
  if (failed(verifyForm(*this, getInput(), getOutput(), getResult()))) return failure();
  return verifyGeometry(*this, cast<ShapedType>(getInput().getType()),
                        cast<ShapedType>(resultOrOutput(*this).getType()));
}

LogicalResult Col2ImOp::verify() {
  if (failed(verifyForm(*this, getInput(), getOutput(), getResult()))) return failure();
  return verifyGeometry(*this, cast<ShapedType>(resultOrOutput(*this).getType()),
                        cast<ShapedType>(getInput().getType()));
}
