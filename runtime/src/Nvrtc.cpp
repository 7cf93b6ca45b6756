#include "ember/runtime/Nvrtc.h"

#include "ember/runtime/Error.h"

#include <dlfcn.h>
#include <mutex>
#include <vector>
#ifdef EMBER_HAVE_CUDA_HEADERS
#include <nvrtc.h>
#endif

namespace ember::cuda {
namespace {

#ifdef EMBER_HAVE_CUDA_HEADERS
struct Nvrtc {
  decltype(&nvrtcGetErrorString) errorString = nullptr;
  decltype(&nvrtcCreateProgram) create = nullptr;
  decltype(&nvrtcCompileProgram) compile = nullptr;
  decltype(&nvrtcGetProgramLogSize) logSize = nullptr;
  decltype(&nvrtcGetProgramLog) log = nullptr;
  decltype(&nvrtcGetPTXSize) ptxSize = nullptr;
  decltype(&nvrtcGetPTX) ptx = nullptr;
  decltype(&nvrtcGetCUBINSize) cubinSize = nullptr;
  decltype(&nvrtcGetCUBIN) cubin = nullptr;
  decltype(&nvrtcDestroyProgram) destroy = nullptr;
  std::string reason;
};

const Nvrtc& nvrtc() {
  static Nvrtc lib;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = nullptr;
    for (const char* name : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                             "/usr/local/cuda/lib64/libnvrtc.so.13",
                             "/usr/local/cuda/lib64/libnvrtc.so"})
      if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!h) {
      lib.reason = "NVRTC (libnvrtc.so) could not be loaded; install the CUDA toolkit";
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
      if (!fn && lib.reason.empty()) lib.reason = std::string("NVRTC lacks ") + name;
    };
    sym(lib.errorString, "nvrtcGetErrorString");
    sym(lib.create, "nvrtcCreateProgram");
    sym(lib.compile, "nvrtcCompileProgram");
    sym(lib.logSize, "nvrtcGetProgramLogSize");
    sym(lib.log, "nvrtcGetProgramLog");
    sym(lib.ptxSize, "nvrtcGetPTXSize");
    sym(lib.ptx, "nvrtcGetPTX");
    sym(lib.cubinSize, "nvrtcGetCUBINSize");
    sym(lib.cubin, "nvrtcGetCUBIN");
    sym(lib.destroy, "nvrtcDestroyProgram");
  });
  return lib;
}
#endif

} // namespace

bool nvrtc_available() { return nvrtc_unavailable_reason().empty(); }

std::string nvrtc_unavailable_reason() {
#ifdef EMBER_HAVE_CUDA_HEADERS
  return nvrtc().reason;
#else
  return "ember was built without CUDA support (no CUDA headers at build time)";
#endif
}

CompiledKernel nvrtc_compile(const std::string& source, const std::string& name,
                             const std::string& arch) {
  EMBER_CHECK(nvrtc_available(), Runtime, "cuda.nvrtc", nvrtc_unavailable_reason());
#ifdef EMBER_HAVE_CUDA_HEADERS
  const Nvrtc& lib = nvrtc();
  auto check = [&](nvrtcResult r, const char* what) {
    EMBER_CHECK(r == NVRTC_SUCCESS, Runtime, "cuda.nvrtc", what, " failed: ", lib.errorString(r));
  };
  nvrtcProgram prog;
  check(lib.create(&prog, source.c_str(), name.c_str(), 0, nullptr, nullptr), "nvrtcCreateProgram");
  std::string archOpt = "--gpu-architecture=" + arch;
  std::vector<const char*> opts = {archOpt.c_str(), "--std=c++17", "-default-device"};
  nvrtcResult compiled = lib.compile(prog, static_cast<int>(opts.size()), opts.data());
  CompiledKernel out;
  size_t logSize = 0;
  lib.logSize(prog, &logSize);
  out.log.resize(logSize);
  if (logSize) lib.log(prog, out.log.data());
  if (compiled != NVRTC_SUCCESS) {
    lib.destroy(&prog);
    fail(ErrorKind::Value, "cuda.nvrtc", "compiling ", name, " for ", arch, " failed:\n", out.log,
         "\n--- source ---\n", source);
  }
  size_t size = 0;
  const bool cubin = arch.rfind("sm_", 0) == 0;
  check(cubin ? lib.cubinSize(prog, &size) : lib.ptxSize(prog, &size), "getting the image size");
  out.image.resize(size);
  check(cubin ? lib.cubin(prog, out.image.data()) : lib.ptx(prog, out.image.data()),
        "getting the image");
  lib.destroy(&prog);
  return out;
#else
  (void)source, (void)name, (void)arch;
  return {};
#endif
}

} // namespace ember::cuda
