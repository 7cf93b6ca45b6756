// Compiling traced graphs: Graph -> `ember` dialect IR -> CPU pipeline -> LLVM JIT.
// No MLIR types in this header; failures come out as ember::Error.
#pragma once

#include "ember/Graph.h"
#include "ember/compiler/Jit.h"

#include <string>
#include <vector>

namespace ember::compiler {

// The graph as `ember` dialect IR: a module with one func.func @name taking the graph's inputs
// and returning its outputs; constants are embedded as dense tensors.
std::string graphToMLIR(const Graph& g, const std::string& name = "main");

class CompiledGraph {
public:
  // Imports, lowers and JIT-compiles a traced graph. With a `dumpDir` (EMBER_DUMP), writes
  // every stage there: graph.txt, ember.mlir, passes/ (IR after each pass), llvm.ll, llvm-O3.ll.
  static CompiledGraph compile(const Graph& g, const std::string& dumpDir = "");
  // Compiles ember IR (as written by graphToMLIR) whose function is `name`.
  static CompiledGraph fromMLIR(const std::string& ir, const std::string& name);

  // Runs on concrete inputs of the traced shapes and dtypes; returns new output tensors.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  const std::string& ir() const { return ir_; }
  const std::string& loweredIR() const { return jit_.loweredIR(); }
  const CompileTimes& times() const { return times_; }
  const std::vector<Shape>& inputShapes() const { return inputs_; }
  const std::vector<Shape>& outputShapes() const { return outputs_; }
  const std::vector<DType>& inputDTypes() const { return inputTypes_; }
  const std::vector<DType>& outputDTypes() const { return outputTypes_; }

private:
  CompiledGraph(JitModule jit, std::string ir, std::string name, std::vector<Shape> in,
                std::vector<Shape> out);
  JitModule jit_;
  std::string ir_, name_;
  std::vector<Shape> inputs_, outputs_;
  std::vector<DType> inputTypes_, outputTypes_;
  CompileTimes times_;
};

// The graph as text, one step per line (EMBER_DUMP's graph.txt).
std::string graphText(const Graph& g);

} // namespace ember::compiler
