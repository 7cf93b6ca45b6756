// LLVM's optimisation pipeline for the code ember generates (JIT and ahead-of-time).
#pragma once

#include <functional>

namespace llvm {
class Error;
class Module;
class TargetMachine;
} // namespace llvm

namespace ember::compiler {

// LLVM's default pipeline at `optLevel` (0-3) for `machine`, with loop vectorization and
// interleaving but without loop unrolling: the generated loops are simple, vectorizing them is
// what pays, and unrolling every small loop of a training step multiplied the code (and the
// compile time) several times over for no measurable speed.
llvm::Error optimizeModule(llvm::Module& module, llvm::TargetMachine* machine, unsigned optLevel);

} // namespace ember::compiler
