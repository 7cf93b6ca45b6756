// JIT compilation of ember IR to host code through LLVM ORC. No MLIR types cross this header:
// every MLIR failure comes out as ember::Error carrying the diagnostics.
#pragma once

#include "ember/runtime/DType.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember::compiler {

// A strided buffer handed to JIT code (the fields of an MLIR memref descriptor).
struct Buffer {
  void* data;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides; // in elements
  DType dtype = DType::Float32; // float32, int64, int32 or bool (one byte per element)
};

// Seconds spent in each stage of one compilation (ember.compile's statistics).
struct CompileTimes {
  double import = 0;  // traced graph -> ember dialect IR (CompiledGraph only)
  double parse = 0;   // IR text -> MLIR module
  double lower = 0;   // the CPU pass pipeline, down to the LLVM dialect
  double codegen = 0; // LLVM IR, -O3 and machine code (or loading them from the disk cache)
  bool fromDiskCache = false; // the code came from EMBER_CACHE_DIR: lowering was skipped
};

class JitModule {
public:
  // Parses `source` (ember dialect inside func.func), verifies it, lowers it with the CPU
  // pipeline and JIT-compiles it for the host CPU. With a `dumpDir`, writes the IR around
  // every pass under dumpDir/passes/ and the LLVM IR before and after -O3 as
  // dumpDir/llvm.ll and dumpDir/llvm-O3.ll.
  static JitModule compile(const std::string& source, const std::string& dumpDir = "");
  ~JitModule();
  JitModule(JitModule&&) noexcept;
  JitModule& operator=(JitModule&&) noexcept;

  // Calls func.func `name`: `inputs` are its arguments and `outputs` receive its tensor
  // results (destination-passing; outputShapes(name, input shapes) says how large). Shapes and
  // dtypes are checked against the signature. An
  // out-of-range index met by the code is raised as ember::Error (Index) after the call.
  void run(const std::string& name, const std::vector<Buffer>& inputs,
           const std::vector<Buffer>& outputs);

  // The shapes and dtypes of function `name`'s tensor arguments and results; -1 marks a
  // dynamic dim (ember.compile(dynamic=True): the function's attributes size them, see
  // DynamicShapes.h).
  std::vector<std::vector<int64_t>> inputShapes(const std::string& name) const;
  std::vector<std::vector<int64_t>> outputShapes(const std::string& name) const;
  // The result shapes for inputs of these shapes (dynamic dims resolved); a shape that does not
  // fit the signature (a wrong static dim, tied dynamic dims that differ) is an ember::Error.
  std::vector<std::vector<int64_t>> outputShapes(
      const std::string& name, const std::vector<std::vector<int64_t>>& inputShapes) const;
  std::vector<DType> inputDTypes(const std::string& name) const;
  std::vector<DType> outputDTypes(const std::string& name) const;

  // The LLVM-dialect IR that was JIT-compiled (empty when the code came from the disk cache).
  const std::string& loweredIR() const;
  const CompileTimes& times() const;

  struct Impl;

private:
  explicit JitModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace ember::compiler
