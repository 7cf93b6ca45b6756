#include "ember/compiler/Registration.h"

#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace ember::compiler {

void registerDialects(mlir::DialectRegistry& registry) {
  registry.insert<ember::dialect::EmberDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void registerPasses() {
  static const bool once = [] {
    mlir::registerAllPasses();
    registerEmberPasses();
    mlir::PassPipelineRegistration<>(
        "ember-cpu-pipeline", "ember dialect -> LLVM dialect (what the CPU JIT runs)",
        [](mlir::OpPassManager& pm) { (void)mlir::parsePassPipeline(cpuLoweringPipeline(), pm); });
    return true;
  }();
  (void)once;
}

std::optional<DType> elementDType(mlir::Type t) {
  if (t.isF32()) return DType::Float32;
  if (t.isInteger(64)) return DType::Int64;
  if (t.isInteger(32)) return DType::Int32;
  if (t.isInteger(1)) return DType::Bool;
  return std::nullopt;
}

const char* cpuLoweringPipeline() {
  return "canonicalize,cse,"
         "func.func(ember-fuse-conv),"
         "func.func(ember-fuse-pool),"
         "canonicalize," // the reshape/permute pairs the fusions leave fold away
         "func.func(ember-fuse-elementwise),"
         "ember-lower-indexing,"
         "ember-lower-to-linalg,"
         "func.func(ember-distinct-results),"
         "func.func(ember-approximate-math),"
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
         "buffer-deallocation-pipeline,"
         "ember-matmul-to-runtime-call,"
         "ember-window-to-runtime-call,"
         "ember-sort-to-runtime-call,"
         "func.func(scf-forall-to-parallel),"
         "func.func(convert-linalg-to-parallel-loops),"
         "ember-outline-parallel-loops,"
         "convert-scf-to-cf,"
         "expand-strided-metadata,"
         "lower-affine,"
         "finalize-memref-to-llvm{use-generic-functions},"
         "convert-math-to-llvm,"
         "convert-math-to-libm,"
         "convert-to-llvm,"
         "reconcile-unrealized-casts";
}

} // namespace ember::compiler
