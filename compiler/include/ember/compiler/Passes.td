#ifndef EMBER_COMPILER_PASSES_TD
#define EMBER_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLinalg : Pass<"ember-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower ember tensor ops to linalg.generic on tensors";
  let description = [{
    Rewrites each `ember` op into a `linalg.generic` over tensors whose body is the op's scalar
    expression; broadcasting becomes the operands' indexing maps. Only static shapes are
    lowered for now: an op with a dynamic dimension is reported and the pass fails.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mlir::linalg::LinalgDialect",
    "mlir::tensor::TensorDialect",
  ];
}

#endif // EMBER_COMPILER_PASSES_TD
