// The C entry points of ember-compile --target=cuda libraries: a session's plan runner on
// device 0, with the model's weights uploaded once. Exceptions never cross the C boundary.
#include "ember/runtime/CudaPlan.h"
#include "ember/runtime/Error.h"

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

// Runs f; an exception becomes 1 with its message in err[0..n).
template <typename F>
int guarded(char* err, std::size_t n, F&& f) {
  const char* what = "unknown error";
  std::string text;
  try {
    f();
    return 0;
  } catch (const ember::Error& e) {
    if (err && n) std::snprintf(err, n, "%s", e.what());
    return e.kind() == ember::ErrorKind::Index ? 2 : 1; // 2: an index out of range (a plan check)
  } catch (const std::exception& e) {
    text = e.what();
    what = text.c_str();
  } catch (...) {
  }
  if (err && n) std::snprintf(err, n, "%s", what);
  return 1;
}

} // namespace

extern "C" int ember_cuda_aot_open(const char* plan, unsigned long long len, const void* const* weights,
                                   int nweights, void** state, char* err, std::size_t n) {
  return guarded(err, n, [&] {
    auto runner = std::make_unique<ember::cuda::PlanRunner>(
        ember::cuda::Plan::parse(std::string(plan, len)), ember::cuda::cuda_backend(0));
    const std::size_t first = runner->plan().inputs.size() - std::size_t(nweights);
    runner->keep_host_inputs(first, std::vector<const void*>(weights, weights + nweights));
    *state = runner.release();
  });
}

extern "C" int ember_cuda_aot_run(void* state, const void* const* inputs, int ninputs, void* const* outputs,
                                  char* err, std::size_t n) {
  return guarded(err, n, [&] {
    auto* runner = static_cast<ember::cuda::PlanRunner*>(state);
    const auto& plan = runner->plan();
    std::vector<const void*> in(plan.inputs.size(), nullptr); // the weights are already there
    for (int i = 0; i < ninputs && std::size_t(i) < in.size(); ++i) in[size_t(i)] = inputs[i];
    runner->run_host(in, std::vector<void*>(outputs, outputs + plan.outputs.size()));
  });
}

extern "C" void ember_cuda_aot_close(void* state) { delete static_cast<ember::cuda::PlanRunner*>(state); }
