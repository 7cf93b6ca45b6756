// Compiled graphs on CUDA devices: ember.compile of a function whose tensors live on a GPU. The
// graph's ember IR becomes a CUDA plan (CudaCodegen.h: generated kernels, cuBLAS GEMMs) that a
// PlanRunner runs on the device; with device -1, on the host emulation (CudaEmulation.h).
#pragma once

#include "ember/Graph.h"
#include "ember/runtime/CudaPlan.h"

#include <memory>
#include <string>
#include <vector>

namespace ember::compiler {

class CudaCompiledGraph {
public:
  // Imports the graph and builds its plan; `device` is a CUDA device index, or -1 to run the
  // plan on the host emulation (CPU tensors in and out).
  static CudaCompiledGraph compile(const Graph& g, int device);
  // Runs on float32 inputs of the traced shapes on the plan's device; returns new outputs.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  const std::string& ir() const { return ir_; }
  const cuda::Plan& plan() const { return runner_->plan(); }
  std::string planText() const { return runner_->plan().serialize(); }
  double importSeconds() const { return import_; }
  double planSeconds() const { return plan_; }
  double loadSeconds() const { return load_; }

private:
  std::string ir_;
  int device_ = -1;
  std::shared_ptr<cuda::PlanRunner> runner_;
  double import_ = 0, plan_ = 0, load_ = 0;
};

} // namespace ember::compiler
