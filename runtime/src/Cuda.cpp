#include "ember/runtime/Cuda.h"

#include <dlfcn.h>
#ifdef EMBER_HAVE_CUDA_HEADERS
#include <cuda.h>
#endif
#include <mutex>

namespace ember::cuda {
namespace {

struct DriverState {
  int devices = 0;
  std::string reason;
};

// Loads libcuda.so.1 once and asks it for the device count.
const DriverState& driver() {
  static DriverState state;
  static std::once_flag once;
  std::call_once(once, [] {
#ifndef EMBER_HAVE_CUDA_HEADERS
    state.reason = "ember was built without CUDA support (no CUDA headers at build time)";
    return;
#else
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      state.reason = "the CUDA driver (libcuda.so.1) could not be loaded";
      return;
    }
    using InitFn = decltype(&cuInit);
    using CountFn = decltype(&cuDeviceGetCount);
    auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
    auto count = reinterpret_cast<CountFn>(dlsym(lib, "cuDeviceGetCount"));
    int n = 0;
    if (!init || !count || init(0) != CUDA_SUCCESS || count(&n) != CUDA_SUCCESS || n == 0) {
      state.reason = "the CUDA driver reports no usable GPU";
      return;
    }
    state.devices = n;
#endif
  });
  return state;
}

} // namespace

bool built_with_cuda() {
#ifdef EMBER_HAVE_CUDA_HEADERS
  return true;
#else
  return false;
#endif
}

bool is_available() { return driver().devices > 0; }
int device_count() { return driver().devices; }
std::string unavailable_reason() { return driver().reason; }

} // namespace ember::cuda
