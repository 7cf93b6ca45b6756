// The C entry points of ember-compile --target=cuda libraries: a session's plan runner on
// device 0, with the model's weights uploaded once. Exceptions never cross the C boundary.
#include "ember/runtime/CudaPlan.h"

#include <cstdio>
#include <exception>
#include <memory>

namespace {

void message(char* err, std::size_t n, const char* what) {
  if (err && n) std::snprintf(err, n, "%s", what);
}

} // namespace

extern "C" int ember_cuda_aot_open(const char* plan, unsigned long long len, const void* const* weights,
                                   int nweights, void** state, char* err, std::size_t n) {
  try {
    auto runner = std::make_unique<ember::cuda::PlanRunner>(
        ember::cuda::Plan::parse(std::string(plan, len)), ember::cuda::cuda_backend(0));
    const std::size_t first = runner->plan().inputs.size() - std::size_t(nweights);
    std::vector<const void*> w(weights, weights + nweights);
    runner->keep_host_inputs(first, w);
    *state = runner.release();
    return 0;
  } catch (const std::exception& e) {
    message(err, n, e.what());
  } catch (...) {
    message(err, n, "unknown error");
  }
  return 1;
}

extern "C" int ember_cuda_aot_run(void* state, const void* const* inputs, int ninputs, void* const* outputs,
                                  char* err, std::size_t n) {
  try {
    auto* runner = static_cast<ember::cuda::PlanRunner*>(state);
    const auto& plan = runner->plan();
    std::vector<const void*> in(plan.inputs.size(), nullptr); // the weights are already there
    for (int i = 0; i < ninputs && std::size_t(i) < in.size(); ++i) in[size_t(i)] = inputs[i];
    std::vector<void*> out(outputs, outputs + plan.outputs.size());
    runner->run_host(in, out);
    return 0;
  } catch (const std::exception& e) {
    message(err, n, e.what());
  } catch (...) {
    message(err, n, "unknown error");
  }
  return 1;
}

extern "C" void ember_cuda_aot_close(void* state) { delete static_cast<ember::cuda::PlanRunner*>(state); }
