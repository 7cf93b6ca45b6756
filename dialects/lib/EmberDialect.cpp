#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Traits.h"
#include "llvm/ADT/SmallBitVector.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace ember::dialect;

#include "ember/dialects/EmberDialect.cpp.inc"

void EmberDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ember/dialects/EmberOps.cpp.inc"
      >();
}

namespace {

// PyTorch broadcasting of two ranked tensor types; emits the diagnostic at `loc` on failure.
FailureOr<RankedTensorType> broadcastTypes(std::optional<Location> loc, StringRef op, Type lhs,
                                           Type rhs) {
  auto l = dyn_cast<RankedTensorType>(lhs);
  auto r = dyn_cast<RankedTensorType>(rhs);
  if (!l || !r) {
    if (loc) emitError(*loc) << op << ": operands must be ranked tensors";
    return failure();
  }
  if (l.getElementType() != r.getElementType()) {
    if (loc)
      emitError(*loc) << op << ": operand element types differ (" << l.getElementType()
                      << " vs " << r.getElementType() << "); cast one operand first";
    return failure();
  }
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(l.getShape(), r.getShape(), shape)) {
    if (loc)
      emitError(*loc) << op << ": operand shapes " << l << " and " << r
                      << " are not broadcast-compatible";
    return failure();
  }
  return RankedTensorType::get(shape, l.getElementType());
}

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

} // namespace

LogicalResult ember::dialect::inferBroadcastResult(std::optional<Location> loc, StringRef op,
                                                   ValueRange operands,
                                                   SmallVectorImpl<Type>& results) {
  auto type = broadcastTypes(loc, op, operands[0].getType(), operands[1].getType());
  if (failed(type)) return failure();
  results.push_back(*type);
  return success();
}

LogicalResult ember::dialect::verifyBroadcastResult(Operation* op) {
  auto type = broadcastTypes(op->getLoc(), op->getName().getStringRef(),
                             op->getOperand(0).getType(), op->getOperand(1).getType());
  if (failed(type)) return failure();
  if (*type != op->getResult(0).getType())
    return op->emitOpError("result type ")
           << op->getResult(0).getType() << " does not match the broadcast type " << *type;
  return success();
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext*, std::optional<Location> loc,
                                         ValueRange operands, DictionaryAttr, OpaqueProperties,
                                         RegionRange, SmallVectorImpl<Type>& results) {
  auto l = cast<RankedTensorType>(operands[0].getType());
  auto r = cast<RankedTensorType>(operands[1].getType());
  if (l.getRank() != 2 || r.getRank() != 2 || l.getDimSize(1) != r.getDimSize(0) ||
      l.getElementType() != r.getElementType()) {
    if (loc)
      mlir::emitError(*loc) << "ember.matmul: operands " << l << " and " << r
                      << " are not MxK and KxN matrices of one element type";
    return failure();
  }
  results.push_back(RankedTensorType::get({l.getDimSize(0), r.getDimSize(1)}, l.getElementType()));
  return success();
}

LogicalResult MatMulOp::verify() {
  SmallVector<Type> inferred;
  if (failed(inferReturnTypes(getContext(), getLoc(), getOperands(), nullptr,
                              OpaqueProperties(nullptr), {}, inferred)))
    return failure();
  if (inferred[0] != getType())
    return emitOpError("result type ") << getType() << " should be " << inferred[0];
  return success();
}

LogicalResult ember::dialect::verifyReduce(Operation* op, ArrayRef<int64_t> dims, bool keepdim) {
  auto in = tensorType(op->getOperand(0));
  int64_t prev = -1;
  for (int64_t d : dims) {
    if (d <= prev || d >= in.getRank())
      return op->emitOpError("dims must be sorted, unique and in [0, ") << in.getRank() << ")";
    prev = d;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    bool reduced = dims.empty() || llvm::is_contained(dims, d);
    if (!reduced) shape.push_back(in.getDimSize(d));
    else if (keepdim) shape.push_back(1);
  }
  auto want = RankedTensorType::get(shape, in.getElementType());
  if (want != op->getResult(0).getType()) return op->emitOpError("result type should be ") << want;
  return success();
}

LogicalResult ember::dialect::verifyScan(Operation* op, int64_t dim) {
  auto in = tensorType(op->getOperand(0));
  if (dim < 0 || dim >= std::max<int64_t>(in.getRank(), 1))
    return op->emitOpError("dim ") << dim << " out of range for " << in;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = tensorType(getInput()), out = cast<RankedTensorType>(getType());
  // With dynamic dims (ember.compile(dynamic=True)) only the element type is checked here: the
  // importer fitted the sizes from traces, and the lowering sizes the result from its input.
  const bool sized = in.hasStaticShape() && out.hasStaticShape();
  if ((sized && in.getNumElements() != out.getNumElements()) ||
      in.getElementType() != out.getElementType())
    return emitOpError("cannot reshape ") << in << " to " << out;
  return success();
}

// Folds (canonicalize applies them; ember-fuse-conv leaves such pairs around its ops): a
// reshape to its own type is its input, and a reshape of a reshape reads the first one's input
// (static shapes only: dynamic ones carry their sizes in ember.dim_sizes).
OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  auto in = tensorType(getInput()), out = cast<RankedTensorType>(getType());
  if (!in.hasStaticShape() || !out.hasStaticShape()) return {};
  if (in == out) return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (!tensorType(inner.getInput()).hasStaticShape()) return {};
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  auto in = tensorType(getInput());
  int64_t rank = in.getRank(), d0 = getDim0(), d1 = getDim1();
  if (rank == 0 ? (d0 != 0 || d1 != 0) : (d0 < 0 || d1 < 0 || d0 >= rank || d1 >= rank))
    return emitOpError("dimensions ") << d0 << ", " << d1 << " out of range for " << in;
  SmallVector<int64_t> shape(in.getShape());
  if (rank) std::swap(shape[d0], shape[d1]);
  auto want = RankedTensorType::get(shape, in.getElementType());
  if (want != getType()) return emitOpError("result type should be ") << want;
  return success();
}

// A transpose of a dim with itself, or undoing the transpose before it, is the identity.
OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (getDim0() == getDim1() && getInput().getType() == getType()) return getInput();
  if (auto inner = getInput().getDefiningOp<TransposeOp>())
    if (inner.getInput().getType() == getType() &&
        ((inner.getDim0() == getDim0() && inner.getDim1() == getDim1()) ||
         (inner.getDim0() == getDim1() && inner.getDim1() == getDim0())))
      return inner.getInput();
  return {};
}

LogicalResult ExpandOp::verify() {
  auto in = tensorType(getInput()), out = cast<RankedTensorType>(getType());
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(in.getShape(), out.getShape(), shape) ||
      ArrayRef<int64_t>(shape) != out.getShape() || in.getElementType() != out.getElementType())
    return emitOpError("cannot expand ") << in << " to " << out;
  return success();
}

LogicalResult UnfoldOp::verify() {
  auto in = tensorType(getInput());
  const int64_t d = getDim(), size = getSize(), step = getStep();
  const int64_t n = in.getRank() ? in.getDimSize(d) : 1;
  if (d < 0 || d >= std::max<int64_t>(in.getRank(), 1) || step <= 0 || size < 0 ||
      (!ShapedType::isDynamic(n) && size > n))
    return emitOpError("windows of size ") << size << " step " << step << " along dim " << d
                                           << " do not fit " << in;
  // A dynamic dim has a dynamic number of windows (its formula is in ember.dim_sizes).
  SmallVector<int64_t> shape(in.getShape());
  if (in.getRank()) shape[d] = ShapedType::isDynamic(n) ? n : (n - size) / step + 1;
  shape.push_back(size);
  auto want = RankedTensorType::get(shape, in.getElementType());
  if (want != getType()) return emitOpError("result type should be ") << want;
  return success();
}

LogicalResult BatchMatMulOp::verify() {
  auto l = tensorType(getLhs()), r = tensorType(getRhs());
  auto out = cast<RankedTensorType>(getType());
  if (l.getRank() != 3 || r.getRank() != 3 || l.getDimSize(0) != r.getDimSize(0) ||
      l.getDimSize(2) != r.getDimSize(1) ||
      out != RankedTensorType::get({l.getDimSize(0), l.getDimSize(1), r.getDimSize(2)},
                                   l.getElementType()))
    return emitOpError("operands ") << l << " and " << r << " are not BxMxK and BxKxN with result "
                                    << out;
  return success();
}

// The identity permutation is its input; a permute of a permute is one permute of the first
// one's input (which may then be the identity).
OpFoldResult PermuteOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> dims = getDims();
  bool identity = true;
  for (size_t i = 0; i < dims.size(); ++i) identity &= dims[i] == int64_t(i);
  if (identity && getInput().getType() == getType()) return getInput();
  if (auto inner = getInput().getDefiningOp<PermuteOp>()) {
    SmallVector<int64_t> composed; // result dim i = this input's dims[i] = inner's dims[dims[i]]
    for (int64_t d : dims) composed.push_back(inner.getDims()[d]);
    setDims(composed);
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult PermuteOp::verify() {
  auto in = tensorType(getInput());
  SmallVector<int64_t> shape;
  llvm::SmallBitVector seen(in.getRank());
  for (int64_t d : getDims()) {
    if (d < 0 || d >= in.getRank() || seen.test(d))
      return emitOpError("dims must be a permutation of [0, ") << in.getRank() << ")";
    seen.set(d);
    shape.push_back(in.getDimSize(d));
  }
  if (int64_t(getDims().size()) != in.getRank() ||
      RankedTensorType::get(shape, in.getElementType()) != getType())
    return emitOpError("result type should be ") << RankedTensorType::get(shape, in.getElementType());
  return success();
}

LogicalResult SliceOp::verify() {
  auto in = tensorType(getInput());
  int64_t d = getDim(), start = getStart(), end = getEnd(), step = getStep();
  if (d < 0 || d >= in.getRank() || step <= 0 || start < 0 || end < start ||
      (!in.isDynamicDim(d) && end > in.getDimSize(d)))
    return emitOpError("slice [") << start << ", " << end << ") step " << step << " of dim " << d
                                  << " is out of range for " << in;
  SmallVector<int64_t> shape(in.getShape());
  shape[d] = (end - start + step - 1) / step;
  // Of a dynamic dim (a dynamic batch): a fixed window, or one to the end (dynamic; `end` is
  // the size at the traced batch, the result type says which).
  if (in.isDynamicDim(d) && cast<RankedTensorType>(getType()).isDynamicDim(d))
    shape[d] = ShapedType::kDynamic;
  if (RankedTensorType::get(shape, in.getElementType()) != getType())
    return emitOpError("result type should be ") << RankedTensorType::get(shape, in.getElementType());
  return success();
}

LogicalResult CatOp::verify() {
  if (getInputs().empty()) return emitOpError("needs at least one input");
  auto first = tensorType(getInputs()[0]);
  int64_t d = getDim(), total = 0;
  if (d < 0 || d >= first.getRank()) return emitOpError("dim ") << d << " out of range";
  for (Value v : getInputs()) {
    auto t = tensorType(v);
    for (int64_t k = 0; k < first.getRank(); ++k)
      if (k != d && (t.getRank() != first.getRank() || t.getDimSize(k) != first.getDimSize(k)))
        return emitOpError("inputs differ outside dimension ") << d;
    total = (total == ShapedType::kDynamic || t.isDynamicDim(d)) ? ShapedType::kDynamic
                                                                  : total + t.getDimSize(d);
  }
  SmallVector<int64_t> shape(first.getShape());
  shape[d] = total;
  if (RankedTensorType::get(shape, first.getElementType()) != getType())
    return emitOpError("result type should be ") << RankedTensorType::get(shape, first.getElementType());
  return success();
}

LogicalResult FusionOp::verify() {
  Block& body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body takes ") << body.getNumArguments() << " arguments for "
                                      << getInputs().size() << " inputs";
  for (auto [arg, in] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("body argument type ") << arg.getType() << " differs from input "
                                                << in.getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValue().getType() != getType())
    return emitOpError("body must end in ember.yield of the result type ") << getType();
  return success();
}

namespace {
// Shape of `in` with dimension `dim` set to `size` (dim checked by the caller).
RankedTensorType withDim(RankedTensorType in, int64_t dim, int64_t size) {
  SmallVector<int64_t> shape(in.getShape());
  shape[dim] = size;
  return RankedTensorType::get(shape, in.getElementType());
}

// Gather/scatter: index has the input's rank and is no larger outside `dim` (nor than src).
LogicalResult verifyIndexWalk(Operation* op, RankedTensorType in, RankedTensorType index,
                              RankedTensorType src, int64_t dim) {
  if (dim < 0 || dim >= std::max<int64_t>(in.getRank(), 1))
    return op->emitOpError("dim ") << dim << " out of range for " << in;
  if (index.getRank() != in.getRank() || (src && src.getRank() != in.getRank()))
    return op->emitOpError("index ") << index << " must have the rank of the input " << in;
  for (int64_t d = 0; d < index.getRank(); ++d)
    if ((d != dim && !index.isDynamicDim(d) && !in.isDynamicDim(d) &&
         index.getDimSize(d) > in.getDimSize(d)) ||
        (src && !index.isDynamicDim(d) && !src.isDynamicDim(d) &&
         index.getDimSize(d) > src.getDimSize(d)))
      return op->emitOpError("index ") << index << " is larger than the input " << in
                                       << (src ? " or the source" : "") << " at dimension " << d;
  if (src && src.getElementType() != in.getElementType())
    return op->emitOpError("source element type ") << src.getElementType() << " differs from "
                                                   << in.getElementType();
  return success();
}
} // namespace

LogicalResult IndexSelectOp::verify() {
  auto in = tensorType(getInput()), index = tensorType(getIndex());
  int64_t d = getDim();
  if (d < 0 || d >= in.getRank()) return emitOpError("dim ") << d << " out of range for " << in;
  if (index.getRank() > 1) return emitOpError("index must be 1-D or 0-D, got ") << index;
  auto want = withDim(in, d, index.getRank() == 0 ? 1 : index.getDimSize(0));
  if (want != getType()) return emitOpError("result type should be ") << want;
  return success();
}

LogicalResult IndexAddOp::verify() {
  auto src = tensorType(getSource()), index = tensorType(getIndex());
  int64_t d = getDim();
  if (d < 0 || d >= src.getRank()) return emitOpError("dim ") << d << " out of range for " << src;
  const int64_t entries = index.getRank() == 0 ? 1 : index.getDimSize(0);
  if (index.getRank() > 1 || entries != src.getDimSize(d))
    return emitOpError("index ") << index << " must be 1-D with one entry per slice of " << src;
  auto want = withDim(src, d, getSize());
  if (getSize() < 0 || want != getType()) return emitOpError("result type should be ") << want;
  return success();
}

LogicalResult GatherOp::verify() {
  auto in = tensorType(getInput()), index = tensorType(getIndex());
  if (failed(verifyIndexWalk(getOperation(), in, index, {}, getDim()))) return failure();
  auto want = RankedTensorType::get(index.getShape(), in.getElementType());
  if (want != getType()) return emitOpError("result type should be ") << want;
  return success();
}

// scatter and scatter_add: the walk over the index, and a result typed like the input.
template <typename Op>
LogicalResult verifyScatter(Op op) {
  auto in = tensorType(op.getInput());
  if (failed(verifyIndexWalk(op.getOperation(), in, tensorType(op.getIndex()),
                             tensorType(op.getSrc()), op.getDim())))
    return failure();
  if (in != op.getType()) return op.emitOpError("result type should be ") << in;
  return success();
}

LogicalResult ScatterOp::verify() { return verifyScatter(*this); }

LogicalResult ScatterAddOp::verify() { return verifyScatter(*this); }

namespace {
LogicalResult verifyArgReduce(Operation* op, RankedTensorType in, int64_t dim, bool keepdim) {
  if (dim < 0 || dim >= in.getRank()) return op->emitOpError("dim ") << dim << " out of range for " << in;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (d != dim) shape.push_back(in.getDimSize(d));
    else if (keepdim) shape.push_back(1);
  auto want = RankedTensorType::get(shape, IntegerType::get(op->getContext(), 64));
  if (want != op->getResult(0).getType()) return op->emitOpError("result type should be ") << want;
  return success();
}
} // namespace

LogicalResult ArgMaxOp::verify() {
  return verifyArgReduce(getOperation(), tensorType(getInput()), getDim(), getKeepdim());
}
LogicalResult ArgMinOp::verify() {
  return verifyArgReduce(getOperation(), tensorType(getInput()), getDim(), getKeepdim());
}

#define GET_OP_CLASSES
#include "ember/dialects/EmberOps.cpp.inc"
