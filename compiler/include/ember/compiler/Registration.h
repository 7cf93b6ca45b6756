// What an MLIR context needs to hold ember IR and run ember's pipelines.
#pragma once

#include "ember/runtime/DType.h"

#include <optional>

namespace mlir {
class DialectRegistry;
class Type;
}

namespace ember::compiler {

// The ember dialect plus the upstream dialects, interfaces and LLVM IR translations that the
// lowering pipelines use.
void registerDialects(mlir::DialectRegistry& registry);
// ember's passes (Passes.td) and the upstream passes, so textual pipelines can name them.
void registerPasses();

// The CPU lowering pipeline, ember dialect -> LLVM dialect: the pass list of a builtin.module
// pipeline (`ember-opt --pass-pipeline="builtin.module(<this>)"`).
// Functions take their tensor results as trailing out-parameters (destination-passing).
const char* cpuLoweringPipeline();

// The dtype of a compiled function's tensor element type: f32, i64, i32 or i1 (bool); nothing
// for others (those are not compiled yet).
std::optional<DType> elementDType(mlir::Type t);

} // namespace ember::compiler
