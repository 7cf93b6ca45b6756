// Dynamic (symbolic) dims in ember IR: what ember.compile(dynamic=True) imports and how the
// lowering passes size the tensors they create. MLIR code: no exceptions.
//
// A function with symbolic dims says where each symbol's value comes from:
//   func.func @main(...) attributes {ember.symbols = array<i64: arg0, dim0, arg1, dim1, ...>}
// (symbol j is the size of dim `dim_j` of argument `arg_j`). An op whose result has `?` dims
// carries its sizes as affine functions of the symbols:
//   ember.dim_sizes = array<i64: base, coeff_0, ..., coeff_{k-1}, base, coeff_0, ...>
// one (1 + k)-tuple per result dim (static dims too). The function's results carry the same for
// every result, concatenated, as ember.result_sizes (the JIT sizes its output buffers from it).
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"

namespace ember::compiler {

inline constexpr const char* kSymbolsAttr = "ember.symbols";
inline constexpr const char* kDimSizesAttr = "ember.dim_sizes";
inline constexpr const char* kResultSizesAttr = "ember.result_sizes";

// Dim `d` of the tensor or memref `v` as an index value (a constant when it is static).
mlir::Value dimSize(mlir::OpBuilder& b, mlir::Location loc, mlir::Value v, int64_t d);

// The values of `type`'s dynamic dims (tensor.empty's operands) for the result of `op`: from
// op's ember.dim_sizes (symbols read from the enclosing function's arguments), else, for
// elementwise ops and fusions, from an operand of the result's rank that is dynamic in that
// dim. Failure (with a diagnostic on `op`) when neither says.
mlir::FailureOr<llvm::SmallVector<mlir::Value>> dynamicSizes(mlir::OpBuilder& b, mlir::Location loc,
                                                             mlir::Operation* op,
                                                             mlir::RankedTensorType type);

// An uninitialised tensor of `type` with those dynamic sizes.
mlir::Value emptyTensor(mlir::OpBuilder& b, mlir::Location loc, mlir::RankedTensorType type,
                        mlir::ValueRange dynSizes);

} // namespace ember::compiler
