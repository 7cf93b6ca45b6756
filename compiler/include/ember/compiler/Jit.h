// JIT compilation of ember IR to host code through LLVM ORC. No MLIR types cross this header:
// every MLIR failure comes out as ember::Error carrying the diagnostics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember::compiler {

// A strided float32 buffer handed to JIT code (the fields of an MLIR memref descriptor).
struct Buffer {
  float* data;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides; // in elements
};

class JitModule {
public:
  // Parses `source` (ember dialect inside func.func), verifies it, lowers it with the CPU
  // pipeline and JIT-compiles it for the host CPU.
  static JitModule compile(const std::string& source);
  ~JitModule();
  JitModule(JitModule&&) noexcept;
  JitModule& operator=(JitModule&&) noexcept;

  // Calls func.func `name`: `inputs` are its arguments and `outputs` receive its tensor
  // results (destination-passing). Shapes are checked against the signature.
  void run(const std::string& name, const std::vector<Buffer>& inputs,
           const std::vector<Buffer>& outputs);

  // The static shapes of function `name`'s tensor arguments and results.
  std::vector<std::vector<int64_t>> inputShapes(const std::string& name) const;
  std::vector<std::vector<int64_t>> outputShapes(const std::string& name) const;

  // The LLVM-dialect IR that was JIT-compiled.
  const std::string& loweredIR() const;

private:
  struct Impl;
  explicit JitModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace ember::compiler
