// Ahead-of-time compilation to an object file; MLIR and LLVM failures become ember::Error here.
#include "ember/compiler/Aot.h"
#include "ember/compiler/Optimize.h"

#include "ember/compiler/Registration.h"
#include "ember/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <cstdio>

namespace ember::compiler {
namespace {

std::vector<int64_t> staticShape(mlir::Type t, const std::string& fn) {
  auto shaped = mlir::dyn_cast<mlir::RankedTensorType>(t);
  EMBER_CHECK(shaped && shaped.hasStaticShape() && elementDType(shaped.getElementType()),
              NotImplemented, "ember-compile", "function @", fn, " has an argument or result "
              "that is not a static-shape tensor of f32, i64, i32 or i1; only those compile ahead "
              "of time so far");
  return {shaped.getShape().begin(), shaped.getShape().end()};
}

DType dtypeOf(mlir::Type t) { return *elementDType(mlir::cast<mlir::RankedTensorType>(t).getElementType()); }

} // namespace

AotFunction emitObject(const std::string& ir, const std::string& function,
                       const std::string& symbol, const std::string& objPath, int optLevel,
                       const std::string& cpu) {
  static const bool targetsReady = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetsReady;
  EMBER_CHECK(optLevel >= 0 && optLevel <= 3, Value, "ember-compile", "-O", optLevel,
              " is not an optimisation level; use -O0 to -O3");
  registerPasses();
  mlir::MLIRContext context;
  mlir::DialectRegistry registry;
  registerDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  std::string diags;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diags);
    os << "\n  " << d.getLocation() << ": " << d;
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
  if (!module) fail(ErrorKind::Value, "ember-compile", "invalid IR in the model:", diags);
  AotFunction sig;
  bool found = false;
  for (auto fn : module->getOps<mlir::func::FuncOp>()) {
    if (fn.getName() != function) continue;
    found = true;
    for (mlir::Type t : fn.getArgumentTypes()) {
      sig.inputs.push_back(staticShape(t, function));
      sig.inputTypes.push_back(dtypeOf(t));
    }
    for (mlir::Type t : fn.getResultTypes()) {
      sig.outputs.push_back(staticShape(t, function));
      sig.outputTypes.push_back(dtypeOf(t));
    }
  }
  EMBER_CHECK(found, Value, "ember-compile", "the model has no function @", function);

  mlir::PassManager pm(&context);
  std::string pipelineErrors;
  llvm::raw_string_ostream pipelineOs(pipelineErrors);
  if (mlir::failed(mlir::parsePassPipeline(cpuLoweringPipeline(), pm, pipelineOs)))
    fail(ErrorKind::Runtime, "ember-compile", "bad pipeline: ", pipelineErrors);
  if (mlir::failed(pm.run(*module)))
    fail(ErrorKind::Value, "ember-compile", "lowering to LLVM failed:", diags);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(*module, llvmContext, symbol);
  EMBER_CHECK(llvmModule != nullptr, Runtime, "ember-compile", "translation to LLVM IR failed:", diags);

  const llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  EMBER_CHECK(target != nullptr, Runtime, "ember-compile", "no LLVM target for ", triple.str(), ": ", error);
  std::string cpuName = cpu, features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (const auto& f : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") + std::string(f.getValue() ? "+" : "-") + f.getKey().str();
  }
  EMBER_CHECK(cpu == "native" || llvm::StringRef(cpu).starts_with("x86-64"), Value, "ember-compile",
              "unknown --cpu=", cpu, "; use native, x86-64, x86-64-v2, x86-64-v3 or x86-64-v4");
  llvm::TargetOptions options;
  const llvm::CodeGenOptLevel level = optLevel == 0   ? llvm::CodeGenOptLevel::None
                                      : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                      : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                      : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features, options, llvm::Reloc::PIC_, std::nullopt, level));
  EMBER_CHECK(machine != nullptr, Runtime, "ember-compile", "cannot create a target machine for ",
              triple.str(), " / ", cpuName);
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // One exported entry point; everything else stays internal to the object.
  llvm::Function* entry = llvmModule->getFunction(function);
  EMBER_CHECK(entry != nullptr, Runtime, "ember-compile", "@", function, " vanished in lowering");
  entry->setName(symbol);
  for (llvm::Function& f : *llvmModule)
    if (!f.isDeclaration() && &f != entry) f.setLinkage(llvm::GlobalValue::InternalLinkage);

  if (llvm::Error err = optimizeModule(*llvmModule, machine.get(), unsigned(optLevel))) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << err;
    fail(ErrorKind::Runtime, "ember-compile", "LLVM optimisation failed: ", text);
  }

  std::error_code ec;
  llvm::raw_fd_ostream out(objPath, ec, llvm::sys::fs::OF_None);
  EMBER_CHECK(!ec, Runtime, "ember-compile", "cannot write '", objPath, "': ", ec.message());
  llvm::legacy::PassManager codegen;
  EMBER_CHECK(!machine->addPassesToEmitFile(codegen, out, nullptr, llvm::CodeGenFileType::ObjectFile),
              Runtime, "ember-compile", "LLVM cannot emit object files for ", triple.str());
  codegen.run(*llvmModule);
  out.flush();
  EMBER_CHECK(!out.has_error(), Runtime, "ember-compile", "writing '", objPath, "' failed");
  return sig;
}

} // namespace ember::compiler
