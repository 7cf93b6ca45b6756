// Sizing dynamic dims during lowering (see DynamicShapes.h).
#include "ember/compiler/DynamicShapes.h"

#include "ember/compiler/Elementwise.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace ember::compiler {

Value dimSize(OpBuilder& b, Location loc, Value v, int64_t d) {
  auto t = cast<ShapedType>(v.getType());
  if (!t.isDynamicDim(d)) return arith::ConstantIndexOp::create(b, loc, t.getDimSize(d));
  if (isa<MemRefType>(t)) return memref::DimOp::create(b, loc, v, d);
  return tensor::DimOp::create(b, loc, v, d);
}

namespace {
// base + sum coeff_j * symbol_j, the symbols read from the function's arguments.
FailureOr<Value> evalFormula(OpBuilder& b, Location loc, Operation* op, ArrayRef<int64_t> formula) {
  auto fn = op->getParentOfType<func::FuncOp>();
  auto symbols = fn ? fn->getAttrOfType<DenseI64ArrayAttr>(kSymbolsAttr) : DenseI64ArrayAttr();
  if (!symbols || symbols.size() % 2 || int64_t(formula.size()) != 1 + symbols.size() / 2)
    return op->emitError() << "a dynamic size of '" << op->getName() << "' needs the function's "
                           << kSymbolsAttr << " (one (argument, dim) pair per symbol)";
  Value acc; // null while 0; coefficients of 1 and a base of 0 add no ops
  for (size_t j = 0; j + 1 < formula.size(); ++j) {
    if (!formula[j + 1]) continue;
    const int64_t arg = symbols[2 * j], dim = symbols[2 * j + 1];
    if (arg < 0 || arg >= int64_t(fn.getNumArguments()))
      return op->emitError() << kSymbolsAttr << " names argument " << arg << " of a function with "
                             << fn.getNumArguments();
    Value x = fn.getArgument(unsigned(arg));
    auto t = dyn_cast<ShapedType>(x.getType());
    if (!t || dim < 0 || dim >= t.getRank() || !t.isDynamicDim(dim))
      return op->emitError() << kSymbolsAttr << " names dim " << dim << " of argument " << arg
                             << ", which is not a dynamic dim of " << x.getType();
    Value term = dimSize(b, loc, x, dim);
    if (formula[j + 1] != 1)
      term = arith::MulIOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, formula[j + 1]), term);
    acc = acc ? Value(arith::AddIOp::create(b, loc, acc, term)) : term;
  }
  if (!acc) return Value(arith::ConstantIndexOp::create(b, loc, formula[0]));
  if (formula[0])
    acc = arith::AddIOp::create(b, loc, acc, arith::ConstantIndexOp::create(b, loc, formula[0]));
  return acc;
}
} // namespace

FailureOr<SmallVector<Value>> dynamicSizes(OpBuilder& b, Location loc, Operation* op,
                                           RankedTensorType type) {
  SmallVector<Value> sizes;
  if (type.hasStaticShape()) return sizes;
  auto formulas = op->getAttrOfType<DenseI64ArrayAttr>(kDimSizesAttr);
  const bool elementwise = isElementwise(op) || isa<dialect::FusionOp>(op);
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d)) continue;
    if (formulas && type.getRank() && formulas.size() % type.getRank() == 0) {
      const int64_t per = formulas.size() / type.getRank();
      FailureOr<Value> v = evalFormula(b, loc, op, formulas.asArrayRef().slice(d * per, per));
      if (failed(v)) return failure();
      sizes.push_back(*v);
      continue;
    }
    Value found;
    if (elementwise)
      for (Value operand : op->getOperands()) {
        auto t = dyn_cast<RankedTensorType>(operand.getType());
        if (t && t.getRank() == type.getRank() && t.isDynamicDim(d)) {
          found = dimSize(b, loc, operand, d);
          break;
        }
      }
    if (!found)
      return op->emitError() << "cannot size dynamic dim " << d << " of " << type << " for '"
                             << op->getName() << "': give the op " << kDimSizesAttr;
    sizes.push_back(found);
  }
  return sizes;
}

Value emptyTensor(OpBuilder& b, Location loc, RankedTensorType type, ValueRange dynSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(), dynSizes);
}

} // namespace ember::compiler
