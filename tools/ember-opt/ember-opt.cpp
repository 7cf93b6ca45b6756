// ember-opt: mlir-opt with the ember dialect and passes. Runs any pipeline on any .mlir file;
// --mlir-print-ir-before-all / --mlir-print-ir-after-all show the IR around each pass.
#include "ember/compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  ember::compiler::registerDialects(registry);
  ember::compiler::registerPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ember optimizer driver\n", registry));
}
