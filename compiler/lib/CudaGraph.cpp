#include "ember/compiler/CudaGraph.h"

#include "ember/CudaPlanRun.h"
#include "ember/compiler/Compile.h"
#include "ember/compiler/CudaCodegen.h"
#include "ember/compiler/CudaEmulation.h"
#include "ember/runtime/Error.h"

#include <chrono>

namespace ember::compiler {
namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

CudaCompiledGraph CudaCompiledGraph::compile(const Graph& g, int device) {
  CudaCompiledGraph c;
  c.device_ = device;
  auto t0 = std::chrono::steady_clock::now();
  c.ir_ = graphToMLIR(g);
  c.import_ = since(t0);
  t0 = std::chrono::steady_clock::now();
  cuda::Plan plan = buildCudaPlan(c.ir_);
  c.plan_ = since(t0);
  t0 = std::chrono::steady_clock::now();
  c.runner_ = std::make_shared<cuda::PlanRunner>(
      std::move(plan), device < 0 ? emulationBackend() : cuda::cuda_backend(device));
  c.load_ = since(t0);
  return c;
}

std::vector<Tensor> CudaCompiledGraph::run(const std::vector<Tensor>& inputs) {
  return run_cuda_plan(*runner_, inputs, device_, "ember.compile");
}

} // namespace ember::compiler
