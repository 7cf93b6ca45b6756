// The `ember` MLIR dialect: tensor-level ops, one per ember primitive (EmberOps.td; the
// elementwise ones are generated from the op records), and the kernel-level ember.fusion.
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ember/dialects/EmberDialect.h.inc"

namespace ember::dialect {
// Result type of a broadcasting binary op: PyTorch's rule, same element type.
llvm::LogicalResult inferBroadcastResult(std::optional<mlir::Location> loc, llvm::StringRef op,
                                         mlir::ValueRange operands,
                                         llvm::SmallVectorImpl<mlir::Type>& results);
llvm::LogicalResult verifyBroadcastResult(mlir::Operation* op);
// Reductions: dims sorted, unique, in range; the result shape follows keepdim.
llvm::LogicalResult verifyReduce(mlir::Operation* op, llvm::ArrayRef<int64_t> dims, bool keepdim);
// Scans (cumsum, cumprod): `dim` in range (0 for a 0-d input).
llvm::LogicalResult verifyScan(mlir::Operation* op, int64_t dim);
// Whether every window of a 2-D sliding-window geometry over an h x w image holds a pixel of it
// (max pooling needs one per window: positions outside never win).
bool windowsHoldPixels(llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> stride,
                       llvm::ArrayRef<int64_t> padding, llvm::ArrayRef<int64_t> dilation,
                       llvm::ArrayRef<int64_t> outputSize, int64_t h, int64_t w);
} // namespace ember::dialect

#define GET_OP_CLASSES
#include "ember/dialects/EmberOps.h.inc"
