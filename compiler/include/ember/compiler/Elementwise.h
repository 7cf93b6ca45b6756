// The compiler's side of the elementwise op records (frontend/include/ember/ops/Elementwise.def):
// the same scalar expression built as arith ops (CPU/LLVM path) or rendered as CUDA C.
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace ember::compiler {

bool isElementwise(mlir::Operation* op);
// The record's name ("add") of an elementwise op.
llvm::StringRef elementwiseName(mlir::Operation* op);
// Builds the scalar computation of elementwise `op` on the scalars `args` (one per operand);
// a null value when the record's expression has no form for their type (sqrt of an integer).
mlir::Value emitScalar(mlir::OpBuilder& builder, mlir::Location loc, mlir::Operation* op,
                       mlir::ValueRange args);
// Whether emitScalar can build `op`'s expression for its operands' element types.
bool canEmitScalar(mlir::Operation* op);
// CUDA C device functions, one per record: `float ember_<name>(float a, float b)`, plus the
// expression language's helpers (maximum, where).
const char* cudaPrelude();

} // namespace ember::compiler
