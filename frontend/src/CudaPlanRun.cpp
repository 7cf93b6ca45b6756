#include "ember/CudaPlanRun.h"

#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

namespace ember {

std::vector<Tensor> run_cuda_plan(cuda::PlanRunner& runner, const std::vector<Tensor>& inputs, int device,
                                  const char* context) {
  const cuda::Plan& plan = runner.plan();
  const Device where = device < 0 ? Device() : cuda_device(device);
  EMBER_CHECK(inputs.size() == plan.inputs.size(), Value, context, "the compiled function takes ",
              plan.inputs.size(), " tensor inputs, got ", inputs.size());
  std::vector<Tensor> keep;
  std::vector<const void*> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    EMBER_CHECK(t.shape() == Shape(plan.input_shapes[i]), Value, context, "input ", i, " has shape ",
                shape_str(t.shape()), " but the function was compiled for ",
                shape_str(Shape(plan.input_shapes[i])));
    EMBER_CHECK(t.dtype() == plan.input_dtypes[i], Type, context, "input ", i, " is ", dtype_name(t.dtype()),
                " but the function was compiled for ", dtype_name(plan.input_dtypes[i]));
    EMBER_CHECK(t.device() == where, Value, context, "input ", i, " is on ", t.device().str(),
                " but the function was compiled for ", where.str());
    keep.push_back(t.is_contiguous() ? t : t.contiguous());
    in.push_back(keep.back().raw_data());
  }
  std::vector<Tensor> results;
  std::vector<void*> out;
  for (size_t o = 0; o < plan.output_shapes.size(); ++o) {
    results.push_back(empty(Shape(plan.output_shapes[o]), plan.output_dtypes[o], where));
    out.push_back(results.back().raw_data());
  }
  if (device >= 0) cuda::set_device(device);
  runner.run_device(in, out);
  return results;
}

} // namespace ember
