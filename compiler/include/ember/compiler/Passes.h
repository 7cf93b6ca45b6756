// ember's MLIR passes, declared in Passes.td (one pass per file under compiler/lib/).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace ember::compiler {

#define GEN_PASS_DECL
#include "ember/compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ember/compiler/Passes.h.inc"

} // namespace ember::compiler
