// Compiling traced graphs: Graph -> `ember` dialect IR -> CPU pipeline -> LLVM JIT.
// No MLIR types in this header; failures come out as ember::Error.
#pragma once

#include "ember/Graph.h"
#include "ember/compiler/Jit.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ember::compiler {

// Symbolic (dynamic) dims of a graph, for ember.compile(dynamic=True): symbol j is dim
// sources[j].second of input sources[j].first; a value listed in `sizes` has one formula per
// dim, {base, coefficient per symbol} (all coefficients 0: a static dim).
struct SymbolicDims {
  std::vector<std::pair<int64_t, int64_t>> sources;
  std::unordered_map<const TensorImpl*, std::vector<std::vector<int64_t>>> sizes;
  // Constants that are one value repeated whose value follows the symbols: the value is the
  // graph's 0-d float32 input with this index (expanded to the constant's shape).
  std::unordered_map<const TensorImpl*, int64_t> scalarInputs;
};

// The graph as `ember` dialect IR: a module with one func.func @name taking the graph's inputs
// and returning its outputs; constants are embedded as dense tensors. With `dims`, the dims
// that follow a symbol are `?` and the function and ops carry their formulas (DynamicShapes.h).
std::string graphToMLIR(const Graph& g, const std::string& name = "main",
                        const SymbolicDims* dims = nullptr);

// The symbol values to trace at, for symbolic dims of sizes `base` (ember.export and
// ember.compile(dynamic=True)): the base, then each symbol one larger, then all of them larger
// by 2, 3, ... (the check).
std::vector<std::vector<int64_t>> symbolicTraceSizes(const std::vector<int64_t>& base);
// value = f[0] + sum_j f[1 + j] * s_j fitted on values observed at those sizes (from the base
// and the one-symbol steps) and checked on the last; nullopt when the values are not affine.
std::optional<std::vector<int64_t>> fitAffine(const std::vector<int64_t>& values,
                                              const std::vector<std::vector<int64_t>>& sizes);

class CompiledGraph {
public:
  // Imports, lowers and JIT-compiles a traced graph. With a `dumpDir` (EMBER_DUMP), writes
  // every stage there: graph.txt, ember.mlir, passes/ (IR after each pass), llvm.ll, llvm-O3.ll.
  static CompiledGraph compile(const Graph& g, const std::string& dumpDir = "");
  // Compiles ember IR (as written by graphToMLIR) whose function is `name`.
  static CompiledGraph fromMLIR(const std::string& ir, const std::string& name);
  // ember.compile(dynamic=True): one function traced at the symbol values of
  // symbolicTraceSizes (traces[i] at sizes[i]); symbol j is dim sources[j].second of input
  // sources[j].first. The traces must agree but for sizes affine in the symbols (those dims
  // become dynamic: one compilation serves every size) and 0-d float constants affine in them
  // (a mean's count: they become inputs computed at each call). Anything else that changes
  // with a symbol is an ember::Error naming the op.
  static CompiledGraph compileSymbolic(const std::vector<Graph>& traces,
                                       const std::vector<std::vector<int64_t>>& sizes,
                                       const std::vector<std::pair<int64_t, int64_t>>& sources,
                                       const std::string& dumpDir = "");

  // Runs on concrete inputs of the traced shapes and dtypes (any size of a dynamic dim);
  // returns new output tensors.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  bool isDynamic() const { return !sources_.empty(); }

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
  // A graph constant that follows the symbols: computed per call from f = formula(symbols)
  // ({base, coefficient per symbol}) as f (a count), 1 / f (a mean's factor) or 1 + 1 / f
  // (Bessel's n / (n - 1), f = n - 1: batch norm's running variance), and passed as a 0-d
  // float32 input after the graph's own.
  enum class ScalarForm { Count, Reciprocal, OnePlusReciprocal };
  struct SymbolicScalar {
    std::vector<int64_t> formula;
    ScalarForm form = ScalarForm::Count;
  };
  static double scalarValue(ScalarForm form, int64_t f);
  JitModule jit_;
  std::vector<std::pair<int64_t, int64_t>> sources_;
  std::vector<SymbolicScalar> scalars_;
  std::string ir_, name_;
  std::vector<Shape> inputs_, outputs_;
  std::vector<DType> inputTypes_, outputTypes_;
  CompileTimes times_;
};

// The graph as text, one step per line (EMBER_DUMP's graph.txt).
std::string graphText(const Graph& g);

} // namespace ember::compiler
