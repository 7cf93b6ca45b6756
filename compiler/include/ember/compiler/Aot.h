// Ahead-of-time compilation: ember IR → the same CPU lowering as the JIT → LLVM IR → an object
// file for a chosen CPU. ember-compile links the object with ember's kernel runtime
// (ember_aot_runtime, ember_kernels, ember_runtime: no MLIR, no LLVM) into a self-contained
// library.
#pragma once

#include "ember/runtime/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ember::compiler {

struct AotFunction {
  std::vector<std::vector<int64_t>> inputs, outputs; // static shapes
  std::vector<DType> inputTypes, outputTypes;        // float32, int64, int32 or bool
};

// Lowers function `function` of `ir` and writes it, renamed to `symbol` (the only exported
// symbol: C signature = each input then each output memref expanded to (allocated, aligned,
// offset, sizes..., strides...)), to the object file `objPath`. `cpu`: "native" (the host's
// CPU and features), or an LLVM CPU name such as "x86-64-v3". Errors are ember::Error.
AotFunction emitObject(const std::string& ir, const std::string& function,
                       const std::string& symbol, const std::string& objPath, int optLevel,
                       const std::string& cpu);

} // namespace ember::compiler
