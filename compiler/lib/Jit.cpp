// The compiler's entry point for JIT execution: MLIR diagnostics become ember::Error here.
#include "ember/compiler/Jit.h"

#include "ember/compiler/DynamicShapes.h"
#include "ember/compiler/JitCache.h"
#include "ember/compiler/JitRuntime.h"
#include "ember/compiler/Optimize.h"
#include "ember/compiler/Registration.h"
#include "ember/runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>

namespace ember::compiler {
namespace {

// Collects every diagnostic emitted while it lives, for the ember::Error message.
struct DiagnosticCollector {
  explicit DiagnosticCollector(mlir::MLIRContext& ctx)
      : handler(&ctx, [this](mlir::Diagnostic& d) {
          llvm::raw_string_ostream os(text);
          os << "\n  " << d.getLocation() << ": " << d;
          return mlir::success();
        }) {}
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

std::string llvmErrorText(llvm::Error err) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << err;
  return s;
}

std::string shapeText(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Shapes hold -1 for dynamic dims; a function with any has symbols (DynamicShapes.h): their
// sources, and every argument and result dim as base + sum coeff_j * symbol_j.
struct Signature {
  std::vector<std::vector<int64_t>> inputs, outputs;
  std::vector<DType> inputTypes, outputTypes;
  std::vector<std::pair<int64_t, int64_t>> symbols; // (argument, dim)
  std::vector<std::vector<std::vector<int64_t>>> inputSizes, outputSizes; // per tensor, per dim
};

std::vector<int64_t> shapeOf(mlir::Type t, const std::string& fn) {
  auto shaped = mlir::dyn_cast<mlir::RankedTensorType>(t);
  EMBER_CHECK(shaped && elementDType(shaped.getElementType()), NotImplemented, "compiler.jit",
              "function @", fn, " has an argument or result that is not a ranked tensor of "
              "f32, i64, i32 or i1; only those are JIT-compiled so far");
  std::vector<int64_t> out;
  for (int64_t d : shaped.getShape()) out.push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
  return out;
}

bool isDynamic(const std::vector<std::vector<int64_t>>& shapes) {
  for (const auto& s : shapes)
    for (int64_t d : s)
      if (d < 0) return true;
  return false;
}

// The function's symbols and size formulas (DynamicShapes.h), checked against its signature.
void readSymbols(mlir::func::FuncOp fn, Signature& sig) {
  const std::string name = fn.getName().str();
  if (!isDynamic(sig.inputs) && !isDynamic(sig.outputs)) return;
  auto symbols = fn->getAttrOfType<mlir::DenseI64ArrayAttr>(kSymbolsAttr);
  auto args = fn->getAttrOfType<mlir::DenseI64ArrayAttr>("ember.arg_sizes");
  auto results = fn->getAttrOfType<mlir::DenseI64ArrayAttr>(kResultSizesAttr);
  EMBER_CHECK(symbols && args && results && symbols.size() % 2 == 0 && symbols.size() > 0,
              NotImplemented, "compiler.jit", "function @", name, " has dynamic dims but not the "
              "attributes that size them (", kSymbolsAttr, ", ember.arg_sizes, ", kResultSizesAttr,
              "; see DynamicShapes.h)");
  for (size_t j = 0; j < symbols.size(); j += 2) {
    const int64_t a = symbols[j], d = symbols[j + 1];
    EMBER_CHECK(a >= 0 && a < int64_t(sig.inputs.size()) && d >= 0 &&
                    d < int64_t(sig.inputs[size_t(a)].size()) && sig.inputs[size_t(a)][size_t(d)] < 0,
                Value, "compiler.jit", "function @", name, ": symbol ", j / 2, " names dim ", d,
                " of argument ", a, ", which is not a dynamic dim");
    sig.symbols.push_back({a, d});
  }
  const size_t per = 1 + sig.symbols.size();
  auto split = [&](mlir::DenseI64ArrayAttr attr, const std::vector<std::vector<int64_t>>& shapes,
                   const char* what) {
    size_t dims = 0;
    for (const auto& s : shapes) dims += s.size();
    EMBER_CHECK(size_t(attr.size()) == dims * per, Value, "compiler.jit", "function @", name, ": ",
                what, " holds ", attr.size(), " integers, expected ", dims * per);
    std::vector<std::vector<std::vector<int64_t>>> out;
    size_t at = 0;
    for (const auto& s : shapes) {
      out.emplace_back();
      for (size_t d = 0; d < s.size(); ++d, at += per)
        out.back().push_back(std::vector<int64_t>(attr.asArrayRef().begin() + at,
                                                  attr.asArrayRef().begin() + at + per));
    }
    return out;
  };
  sig.inputSizes = split(args, sig.inputs, "ember.arg_sizes");
  sig.outputSizes = split(results, sig.outputs, kResultSizesAttr);
}

int64_t evalSize(const std::vector<int64_t>& f, const std::vector<int64_t>& symbols) {
  int64_t v = f[0];
  for (size_t j = 0; j < symbols.size(); ++j) v += f[j + 1] * symbols[j];
  return v;
}

DType dtypeOf(mlir::Type t) { return *elementDType(mlir::cast<mlir::RankedTensorType>(t).getElementType()); }

} // namespace

struct JitModule::Impl {
  mlir::MLIRContext context;
  std::unique_ptr<mlir::ExecutionEngine> engine;  // code compiled in this process, or
  std::unique_ptr<llvm::orc::LLJIT> cachedCode;    // an object file from the disk cache
  std::map<std::string, void (*)(void**)> packed;  // each function's packed-argument wrapper
  std::map<std::string, Signature> signatures;
  std::string loweredIR;
  CompileTimes times;
};

JitModule::JitModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitModule::~JitModule() = default;
JitModule::JitModule(JitModule&&) noexcept = default;
JitModule& JitModule::operator=(JitModule&&) noexcept = default;
const std::string& JitModule::loweredIR() const { return impl_->loweredIR; }
const CompileTimes& JitModule::times() const { return impl_->times; }

namespace {
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Called inside LLVM's pipeline: reports failure as an llvm::Error, never throws.
llvm::Error writeFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) return llvm::createStringError(ec, "EMBER_DUMP: cannot write " + path);
  os << text;
  return llvm::Error::success();
}

std::string printLLVM(llvm::Module& m) {
  std::string text;
  llvm::raw_string_ostream os(text);
  m.print(os, nullptr);
  return text;
}
} // namespace

namespace {
// Links an object file from the disk cache (what an earlier ExecutionEngine compiled for the
// same key: the functions and their `_mlir_<name>` packed wrappers). False when it does not
// link or lacks a function: the caller then compiles afresh.
bool loadCachedObject(JitModule::Impl& impl, const std::string& object) {
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    llvm::consumeError(jit.takeError());
    return false;
  }
  llvm::orc::JITDylib& lib = (*jit)->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) {
    llvm::consumeError(process.takeError());
    return false;
  }
  lib.addGenerator(std::move(*process));
  llvm::orc::SymbolMap symbols;
  for (auto [name, address] : cpuRuntimeSymbols())
    symbols[(*jit)->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                              llvm::JITSymbolFlags::Exported};
  if (llvm::Error err = lib.define(llvm::orc::absoluteSymbols(std::move(symbols)))) {
    llvm::consumeError(std::move(err));
    return false;
  }
  if (llvm::Error err = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(object))) {
    llvm::consumeError(std::move(err));
    return false;
  }
  std::map<std::string, void (*)(void**)> packed;
  for (const auto& [name, sig] : impl.signatures) {
    auto address = (*jit)->lookup("_mlir_" + name);
    if (!address) {
      llvm::consumeError(address.takeError());
      return false;
    }
    packed[name] = address->toPtr<void (*)(void**)>();
  }
  impl.cachedCode = std::move(*jit);
  impl.packed = std::move(packed);
  return true;
}
} // namespace

JitModule JitModule::compile(const std::string& source, const std::string& dumpDir) {
  static const bool targetsReady = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetsReady;
  registerPasses();

  auto impl = std::make_unique<Impl>();
  mlir::DialectRegistry registry;
  registerDialects(registry);
  impl->context.appendDialectRegistry(registry);
  impl->context.loadAllAvailableDialects();
  DiagnosticCollector diags(impl->context);

  auto start = std::chrono::steady_clock::now();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &impl->context);
  if (!module) fail(ErrorKind::Value, "compiler.parse", "invalid IR:", diags.text);
  impl->times.parse = secondsSince(start);

  for (auto fn : module->getOps<mlir::func::FuncOp>()) {
    Signature sig;
    std::string name = fn.getName().str();
    for (mlir::Type t : fn.getArgumentTypes()) {
      sig.inputs.push_back(shapeOf(t, name));
      sig.inputTypes.push_back(dtypeOf(t));
    }
    for (mlir::Type t : fn.getResultTypes()) {
      sig.outputs.push_back(shapeOf(t, name));
      sig.outputTypes.push_back(dtypeOf(t));
    }
    readSymbols(fn, sig);
    impl->signatures[name] = std::move(sig);
  }

  // Optimise for the host CPU: without its target machine LLVM's cost models assume a generic
  // x86-64 and do not vectorize for AVX2/AVX-512.
  auto hostBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!hostBuilder)
    fail(ErrorKind::Runtime, "compiler.jit", "cannot detect the host CPU: ",
         llvmErrorText(hostBuilder.takeError()));

  // The disk cache: everything that decides the code is in the key. A dump wants every stage,
  // so it always compiles.
  JitCache& cache = JitCache::instance();
  const bool useCache = cache.enabled() && dumpDir.empty();
  const std::string cacheKey =
      useCache ? buildIdentity() + "\n" + hostBuilder->getCPU() + "\n" +
                     hostBuilder->getFeatures().getString() + "\n" + cpuLoweringPipeline() + "\n" +
                     source
               : std::string();
  if (useCache) {
    start = std::chrono::steady_clock::now();
    if (std::optional<std::string> object = cache.load(cacheKey);
        object && loadCachedObject(*impl, *object)) {
      impl->times.codegen = secondsSince(start);
      impl->times.fromDiskCache = true;
      return JitModule(std::move(impl));
    }
  }

  mlir::PassManager pm(&impl->context);
  std::string pipelineErrors;
  llvm::raw_string_ostream pipelineOs(pipelineErrors);
  if (mlir::failed(mlir::parsePassPipeline(cpuLoweringPipeline(), pm, pipelineOs)))
    fail(ErrorKind::Runtime, "compiler.pipeline", "bad pipeline: ", pipelineErrors);
  if (!dumpDir.empty()) {
    // One file per pass that changed the IR, named by its position and the pass.
    impl->context.disableMultithreading();
    pm.enableIRPrintingToFileTree([](mlir::Pass*, mlir::Operation*) { return false; },
                                  [](mlir::Pass*, mlir::Operation*) { return true; },
                                  /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/true,
                                  /*printAfterOnlyOnFailure=*/false, dumpDir + "/passes");
  }
  start = std::chrono::steady_clock::now();
  if (mlir::failed(pm.run(*module)))
    fail(ErrorKind::Value, "compiler.lower", "lowering to LLVM failed:", diags.text);
  {
    llvm::raw_string_ostream os(impl->loweredIR);
    module->print(os);
  }
  impl->times.lower = secondsSince(start);
  start = std::chrono::steady_clock::now();

  auto hostMachine = hostBuilder->createTargetMachine();
  if (!hostMachine)
    fail(ErrorKind::Runtime, "compiler.jit", "no LLVM target for the host CPU: ",
         llvmErrorText(hostMachine.takeError()));
  llvm::TargetMachine* machine = hostMachine->get();
  auto optimize = [machine](llvm::Module* m) { return optimizeModule(*m, machine, 3); };
  auto optimizeAndDump = [&](llvm::Module* m) -> llvm::Error {
    if (llvm::Error err = writeFile(dumpDir + "/llvm.ll", printLLVM(*m))) return err;
    if (llvm::Error err = optimize(m)) return err;
    return writeFile(dumpDir + "/llvm-O3.ll", printLLVM(*m));
  };
  mlir::ExecutionEngineOptions options; // (transformer is a function_ref: both outlive create)
  options.transformer = optimize;
  if (!dumpDir.empty()) options.transformer = optimizeAndDump;
  options.enableObjectDump = useCache;
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine)
    fail(ErrorKind::Runtime, "compiler.jit", "LLVM JIT failed: ", llvmErrorText(engine.takeError()),
         diags.text);
  impl->engine = std::move(*engine);
  impl->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (auto [name, address] : cpuRuntimeSymbols())
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  // Materialise the code now (the JIT would do it at the first call): compile errors surface
  // here, and the codegen time is measured where it is spent.
  for (const auto& [fnName, sig] : impl->signatures) {
    auto fn = impl->engine->lookupPacked(fnName);
    if (!fn)
      fail(ErrorKind::Runtime, "compiler.jit", "LLVM JIT failed for @", fnName, ": ",
           llvmErrorText(fn.takeError()), diags.text);
    impl->packed[fnName] = *fn;
  }
  impl->times.codegen = secondsSince(start);
  if (useCache) { // the object the JIT just made, for the next process
    static std::atomic<int64_t> dumps{0}; // unique per thread of this process too
    const std::string tmp = cache.dir() + "/" + JitCache::hashOf(cacheKey) + ".dump" +
                            std::to_string(::getpid()) + "-" + std::to_string(dumps++);
    impl->engine->dumpToObjectFile(tmp);
    auto buffer = llvm::MemoryBuffer::getFile(tmp);
    if (buffer) cache.store(cacheKey, (*buffer)->getBuffer().str());
    std::remove(tmp.c_str());
  }
  return JitModule(std::move(impl));
}

namespace {
const Signature& signatureOf(const std::map<std::string, Signature>& sigs, const std::string& name) {
  auto it = sigs.find(name);
  EMBER_CHECK(it != sigs.end(), Value, "compiler.jit", "no function @", name,
              " in the compiled module");
  return it->second;
}
} // namespace

std::vector<std::vector<int64_t>> JitModule::inputShapes(const std::string& name) const {
  return signatureOf(impl_->signatures, name).inputs;
}
std::vector<std::vector<int64_t>> JitModule::outputShapes(const std::string& name) const {
  return signatureOf(impl_->signatures, name).outputs;
}
namespace {
// The symbols' values bound from the inputs' shapes, each input dim checked against its size.
std::vector<int64_t> bindShapes(const Signature& sig, const std::string& name,
                                const std::vector<std::vector<int64_t>>& shapes) {
  EMBER_CHECK(shapes.size() == sig.inputs.size(), Value, "compiler.jit", "@", name, " takes ",
              sig.inputs.size(), " inputs, got ", shapes.size());
  std::vector<int64_t> symbols;
  for (size_t i = 0; i < shapes.size(); ++i)
    EMBER_CHECK(shapes[i].size() == sig.inputs[i].size(), Value, "compiler.jit", "@", name, " input ",
                i, " has shape ", shapeText(shapes[i]), ", expected rank ", sig.inputs[i].size(),
                " (", shapeText(sig.inputs[i]), ", -1 for a dynamic dim)");
  for (auto [a, d] : sig.symbols) symbols.push_back(shapes[size_t(a)][size_t(d)]);
  for (size_t i = 0; i < shapes.size(); ++i)
    for (size_t d = 0; d < shapes[i].size(); ++d) {
      const int64_t want = sig.inputs[i][d] >= 0 ? sig.inputs[i][d] : evalSize(sig.inputSizes[i][d], symbols);
      EMBER_CHECK(shapes[i][d] == want, Value, "compiler.jit", "@", name, " input ", i,
                  " has shape ", shapeText(shapes[i]), ", expected ", shapeText(sig.inputs[i]),
                  sig.inputs[i][d] < 0 ? " with dim " + std::to_string(d) + " = " + std::to_string(want) +
                                             " (the dynamic dims it shares with other inputs)"
                                       : std::string(" (dim ") + std::to_string(d) + " is static)");
    }
  return symbols;
}
} // namespace

std::vector<std::vector<int64_t>> JitModule::outputShapes(
    const std::string& name, const std::vector<std::vector<int64_t>>& inputShapes) const {
  const Signature& sig = signatureOf(impl_->signatures, name);
  std::vector<int64_t> symbols = bindShapes(sig, name, inputShapes);
  std::vector<std::vector<int64_t>> out = sig.outputs;
  for (size_t o = 0; o < out.size(); ++o)
    for (size_t d = 0; d < out[o].size(); ++d)
      if (out[o][d] < 0) out[o][d] = evalSize(sig.outputSizes[o][d], symbols);
  return out;
}

std::vector<DType> JitModule::inputDTypes(const std::string& name) const {
  return signatureOf(impl_->signatures, name).inputTypes;
}
std::vector<DType> JitModule::outputDTypes(const std::string& name) const {
  return signatureOf(impl_->signatures, name).outputTypes;
}

void JitModule::run(const std::string& name, const std::vector<Buffer>& inputs,
                    const std::vector<Buffer>& outputs) {
  const Signature& sig = signatureOf(impl_->signatures, name);
  EMBER_CHECK(inputs.size() == sig.inputs.size() && outputs.size() == sig.outputs.size(), Value,
              "compiler.jit", "@", name, " takes ", sig.inputs.size(), " inputs and ",
              sig.outputs.size(), " outputs, got ", inputs.size(), " and ", outputs.size());

  // Each memref argument expands to: allocated ptr, aligned ptr, offset, sizes..., strides...;
  // the packed wrapper takes a pointer to each of those scalars.
  std::vector<const Buffer*> all;
  std::vector<std::vector<int64_t>> inShapes;
  for (const Buffer& b : inputs) inShapes.push_back(b.shape);
  const std::vector<std::vector<int64_t>> outShapes = outputShapes(name, inShapes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].strides.size() == inputs[i].shape.size(), Value, "compiler.jit", "@",
                name, " input ", i, " has ", inputs[i].strides.size(), " strides for shape ",
                shapeText(inputs[i].shape));
    EMBER_CHECK(inputs[i].dtype == sig.inputTypes[i], Type, "compiler.jit", "@", name, " input ",
                i, " is ", dtype_name(inputs[i].dtype), ", expected ", dtype_name(sig.inputTypes[i]));
    all.push_back(&inputs[i]);
  }
  auto contiguous = [](const Buffer& b) {
    int64_t s = 1;
    for (size_t d = b.shape.size(); d-- > 0;) {
      if (b.shape[d] != 1 && b.strides[d] != s) return false;
      s *= b.shape[d];
    }
    return true;
  };
  for (size_t i = 0; i < outputs.size(); ++i) {
    EMBER_CHECK(outputs[i].shape == outShapes[i] && outputs[i].strides.size() == outputs[i].shape.size(),
                Value, "compiler.jit", "@", name, " output ", i, " has shape ",
                shapeText(outputs[i].shape), ", expected ", shapeText(outShapes[i]));
    EMBER_CHECK(outputs[i].dtype == sig.outputTypes[i], Type, "compiler.jit", "@", name,
                " output ", i, " is ", dtype_name(outputs[i].dtype), ", expected ",
                dtype_name(sig.outputTypes[i]));
    all.push_back(&outputs[i]);
  }
  for (size_t i = 0; i < all.size(); ++i)
    EMBER_CHECK(contiguous(*all[i]), Value, "compiler.jit", "@", name, " buffer ", i,
                " is not contiguous; JIT code takes row-major buffers (copy it first)");
  std::vector<void*> ptrs;
  std::vector<int64_t> scalars;
  size_t count = 0;
  for (const Buffer* b : all) count += 3 + 2 * b->shape.size();
  ptrs.reserve(count * 2);
  scalars.reserve(count);
  std::vector<void*> pointers;
  pointers.reserve(all.size() * 2);
  for (const Buffer* b : all) {
    pointers.push_back(b->data);
    ptrs.push_back(&pointers.back());
    pointers.push_back(b->data);
    ptrs.push_back(&pointers.back());
    scalars.push_back(0);
    ptrs.push_back(&scalars.back());
    for (int64_t s : b->shape) {
      scalars.push_back(s);
      ptrs.push_back(&scalars.back());
    }
    for (int64_t s : b->strides) {
      scalars.push_back(s);
      ptrs.push_back(&scalars.back());
    }
  }
  RunStatus status;
  {
    RunStatusScope scope(status);
    impl_->packed.at(name)(ptrs.data());
  }
  if (status.failed) fail(ErrorKind::Index, "ember.compile", status.message());
}

} // namespace ember::compiler
