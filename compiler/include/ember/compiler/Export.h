// The .ember file: a traced graph as ember dialect IR plus its signature, readable without the
// Python that produced it. Version 1 layout (text):
//   ember-export 1
//   function <name>
//   input <name> f32 <d0>x<d1>...     (one line per input; "scalar" for rank 0)
//   output <name> f32 <dims>          (one line per output)
//   ---
//   <MLIR text of the module; constants and weights are dense attributes inside it>
#pragma once

#include "ember/Graph.h"
#include "ember/compiler/Compile.h"

#include <string>
#include <vector>

namespace ember::compiler {

// Writes `g` to `path` (atomically: a failed export leaves no partial file).
void exportGraph(const Graph& g, const std::string& path,
                 const std::vector<std::string>& inputNames = {},
                 const std::vector<std::string>& outputNames = {});

struct ExportedModel {
  std::vector<std::string> inputNames, outputNames;
  CompiledGraph compiled;
};

// A .ember file's contents, read and checked but not compiled.
struct ExportedFile {
  std::string function, ir;
  std::vector<std::string> inputNames, outputNames;
};
ExportedFile readExported(const std::string& path);

// Reads and JIT-compiles a .ember file; bad files raise ember::Error naming the problem.
ExportedModel loadExported(const std::string& path);

} // namespace ember::compiler
