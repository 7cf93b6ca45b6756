// The `ember` MLIR dialect: tensor-level ops, one per ember primitive (declared in EmberOps.td).
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ember/dialects/EmberDialect.h.inc"

#define GET_OP_CLASSES
#include "ember/dialects/EmberOps.h.inc"
