// ember::export_model and ember::load_exported: a traced function or module written to one
// versioned .ember file (the container: EmberFile.h), and run back through the JIT.
//
// The weights (a module's parameters and buffers, or the tensors named in ExportOptions) are
// graph inputs bound from the file's safetensors section, not constants in the IR. Dims marked
// symbolic (ExportOptions::dynamic_shapes) may take other sizes at run time: the function is
// traced at a few sizes, the integers of the graph text that follow the symbols are recorded
// (they must be affine in them), and a loaded model specialises the graph for each concrete
// size it sees (one JIT compile per size, cached).
#pragma once

#include "ember/Graph.h"
#include "ember/compiler/Compile.h"
#include "ember/compiler/EmberFile.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ember {

namespace nn {
class Module;
}

// A symbolic dim (torch.export.Dim): inputs that name the same Dim must agree on its size.
struct Dim {
  std::string name;
  int64_t min = 1, max = INT64_MAX;
};

struct ExportOptions {
  std::vector<std::string> input_names, output_names; // default input0.., output0..
  // Per input (in order; may be shorter): dim index -> symbol.
  std::vector<std::map<int64_t, Dim>> dynamic_shapes;
  // Tensors the function reads that become weights, by name; a constant that requires grad is a
  // weight too (named weightN). Other constants stay in the IR.
  std::vector<std::pair<std::string, Tensor>> weights;
  std::map<std::string, std::string> metadata; // user metadata, kept in the file
  std::string producer = "ember::export_model (C++)";
};

using ExportFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Traces `fn` on tensors shaped like `example_inputs` and writes `path` atomically.
void export_model(const ExportFn& fn, const std::vector<Tensor>& example_inputs,
                  const std::string& path, const ExportOptions& options = {});
// A module's forward; its named parameters are the weights.
void export_model(nn::Module& module, const Tensor& example_input, const std::string& path,
                  ExportOptions options = {});

// A loaded .ember file. run() checks the inputs against the signature (count, names, dtypes,
// shapes, symbolic dims), binds the weights and runs the graph specialised for these sizes.
class ExportedModel {
public:
  explicit ExportedModel(compiler::EmberFile file);

  const compiler::EmberFile& file() const { return *file_; }
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  // The inputs' dtypes as the file names them ("float32", "int64", "int32", "bool").
  std::vector<std::string> input_dtypes() const;

  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  std::vector<Tensor> run(const std::map<std::string, Tensor>& named);
  // The number of sizes compiled so far (at most kMaxSpecializations are kept).
  size_t num_specializations() const { return cache_.size(); }
  static constexpr size_t kMaxSpecializations = 16;

private:
  std::shared_ptr<compiler::EmberFile> file_;
  std::vector<Tensor> weights_;
  std::map<std::vector<int64_t>, std::shared_ptr<compiler::CompiledGraph>> cache_;
  std::vector<std::vector<int64_t>> order_; // insertion order, for eviction
};

// Reads, validates and prepares a .ember file; bad files raise ember::Error naming the problem.
ExportedModel load_exported(const std::string& path);

} // namespace ember
