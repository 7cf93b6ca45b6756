#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Traits.h"
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

} // namespace

LogicalResult AddOp::inferReturnTypes(MLIRContext*, std::optional<Location> loc,
                                      ValueRange operands, DictionaryAttr, OpaqueProperties,
                                      RegionRange, SmallVectorImpl<Type>& results) {
  auto type = broadcastTypes(loc, "ember.add", operands[0].getType(), operands[1].getType());
  if (failed(type)) return failure();
  results.push_back(*type);
  return success();
}

LogicalResult AddOp::verify() {
  auto type = broadcastTypes(getLoc(), "ember.add", getLhs().getType(), getRhs().getType());
  if (failed(type)) return failure();
  if (*type != getType())
    return emitOpError("result type ") << getType() << " does not match the broadcast type "
                                       << *type;
  return success();
}

#define GET_OP_CLASSES
#include "ember/dialects/EmberOps.cpp.inc"
