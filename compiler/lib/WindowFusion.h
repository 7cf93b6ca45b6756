// What ember-fuse-conv and ember-fuse-pool share: the operand check, building a window op with
// another window op's geometry, and erasing what a rewrite left without users.
#pragma once

#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace ember::compiler {

inline bool isStaticF32(mlir::Value v) {
  auto t = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
  return t && t.hasStaticShape() && t.getElementType().isF32();
}

// `Op` of `result` type from `operands`, with window op `w`'s geometry.
template <typename Op, typename WindowOp, typename... Operands>
mlir::Value withWindowOf(mlir::OpBuilder& b, mlir::Location loc, mlir::Type result, WindowOp w,
                         Operands... operands) {
  return Op::create(b, loc, result, operands..., mlir::Value(), w.getKernelAttr(),
                    w.getStrideAttr(), w.getPaddingAttr(), w.getDilationAttr(),
                    w.getOutputSizeAttr())
      .getResult();
}

// Erases the ember ops and constants under `root` that nothing uses, last op first (so a chain
// the rewrites cut off goes as a whole).
inline void eraseDeadOps(mlir::Operation* root) {
  llvm::SmallVector<mlir::Operation*> ops;
  root->walk([&](mlir::Operation* op) { ops.push_back(op); });
  for (mlir::Operation* op : llvm::reverse(ops))
    if ((mlir::isa<ember::dialect::EmberDialect>(op->getDialect()) ||
         mlir::isa<mlir::arith::ConstantOp>(op)) &&
        mlir::isOpTriviallyDead(op))
      op->erase();
}

} // namespace ember::compiler
