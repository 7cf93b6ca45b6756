#include "ember/compiler/CudaGraph.h"

#include "ember/compiler/Compile.h"
#include "ember/compiler/CudaCodegen.h"
#include "ember/compiler/CudaEmulation.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <chrono>

namespace ember::compiler {
namespace {

DType dtype_from_name(const std::string& name) {
  return name == "int64" ? DType::Int64 : name == "bool" ? DType::Bool : DType::Float32;
}

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
  const cuda::Plan& plan = runner_->plan();
  const Device where = device_ < 0 ? Device() : cuda_device(device_);
  EMBER_CHECK(inputs.size() == plan.inputs.size(), Value, "ember.compile", "the compiled function takes ",
              plan.inputs.size(), " tensor inputs, got ", inputs.size());
  std::vector<Tensor> keep;
  std::vector<const void*> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].shape() == Shape(plan.input_shapes[i]), Value, "ember.compile", "input ", i,
                " has shape ", shape_str(inputs[i].shape()), " but the function was compiled for ",
                shape_str(Shape(plan.input_shapes[i])));
    EMBER_CHECK(dtype_name(inputs[i].dtype()) == plan.input_dtypes[i], Type, "ember.compile", "input ", i,
                " is ", dtype_name(inputs[i].dtype()), " but the function was compiled for ",
                plan.input_dtypes[i]);
    EMBER_CHECK(inputs[i].device() == where, Value, "ember.compile", "input ", i, " is on ",
                inputs[i].device().str(), " but the function was compiled for ", where.str());
    Tensor t = inputs[i].is_contiguous() ? inputs[i] : inputs[i].contiguous();
    keep.push_back(t);
    in.push_back(t.raw_data());
  }
  std::vector<Tensor> results;
  std::vector<void*> out;
  for (size_t o = 0; o < plan.output_shapes.size(); ++o) {
    results.push_back(empty(Shape(plan.output_shapes[o]), dtype_from_name(plan.output_dtypes[o]), where));
    out.push_back(results.back().raw_data());
  }
  if (device_ >= 0) cuda::set_device(device_);
  runner_->run_device(in, out);
  return results;
}

} // namespace ember::compiler
