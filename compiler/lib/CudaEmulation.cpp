// A CUDA plan on the host: the plan's kernels (CUDA C) are compiled by the host C++ compiler
// against a small header that stands in for CUDA's built-ins, and each launch runs its grid
// serially. GEMMs are plain loops. This runs the CUDA backend's generated code, and the runner
// that drives it, on machines without a GPU (the tests; EMBER's CI has none).
#include "ember/compiler/CudaEmulation.h"

#include "ember/runtime/Error.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ember::compiler {
namespace {

constexpr const char* kCtx = "compiler.cuda_emulation";

// What the generated kernels use from CUDA, for the host compiler.
constexpr const char* kHeader = R"(#include <math.h>
#include <string.h>
struct EmberDim3 { unsigned x, y, z; };
static EmberDim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
static inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
struct float4 { float x, y, z, w; };
static inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
static inline float rsqrt(float x) { return 1.0f / sqrtf(x); }
static inline float erfinv(float y) { // initial guess, then Newton steps on erf in double
  if (!(y > -1.0f && y < 1.0f)) return y == 1.0f ? INFINITY : y == -1.0f ? -INFINITY : NAN;
  double w = -log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) { w -= 2.5; x = 2.81022636e-08; x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w;
    x = -4.39150654e-06 + x * w; x = 0.00021858087 + x * w; x = -0.00125372503 + x * w;
    x = -0.00417768164 + x * w; x = 0.246640727 + x * w; x = 1.50140941 + x * w; }
  else { w = sqrt(w) - 3.0; x = -0.000200214257; x = 0.000100950558 + x * w; x = 0.00134934322 + x * w;
    x = -0.00367342844 + x * w; x = 0.00573950773 + x * w; x = -0.0076224613 + x * w;
    x = 0.00943887047 + x * w; x = 1.00167406 + x * w; x = 2.83297682 + x * w; }
  x *= y;
  for (int i = 0; i < 2; ++i) x -= (erf(x) - y) / (1.1283791670955126 * exp(-x * x));
  return (float)x;
}
)";

using Launcher = void (*)(void** args, unsigned grid, unsigned block);

class EmulationBackend final : public cuda::PlanBackend {
public:
  ~EmulationBackend() override {
    if (handle_) dlclose(handle_);
    if (!dir_.empty()) {
      std::remove((dir_ + "/kernels.cpp").c_str());
      std::remove((dir_ + "/kernels.so").c_str());
      std::remove((dir_ + "/log.txt").c_str());
      ::rmdir(dir_.c_str());
    }
  }

  void prepare(const cuda::Plan& plan) override {
    // Every kernel in its own namespace (each source repeats the prelude), with a launcher
    // that unpacks cuLaunchKernel-style arguments: (const float* in..., float* out, long long n)
    // and, for a checked kernel, long long* status.
    std::vector<size_t> arity(plan.kernels.size(), 0);
    for (const cuda::Plan::Step& s : plan.steps)
      if (s.kind == cuda::Plan::StepKind::Launch) arity[size_t(s.kernel)] = s.args.size();
    std::ostringstream src;
    src << kHeader;
    for (size_t k = 0; k < plan.kernels.size(); ++k) {
      const cuda::Plan::Kernel& kernel = plan.kernels[k];
      src << "namespace k" << k << " {\n" << kernel.source << "\n}\n"
          << "extern \"C\" void ember_emulate_" << k << "(void** a, unsigned grid, unsigned block) {\n"
          << "  blockDim.x = block; gridDim.x = grid;\n"
          << "  for (unsigned b = 0; b < grid; ++b) for (unsigned t = 0; t < block; ++t) {\n"
          << "    blockIdx.x = b; threadIdx.x = t;\n    k" << k << "::" << kernel.name << "(";
      for (size_t j = 0; j + 1 < arity[k]; ++j) src << "*(const float**)a[" << j << "], ";
      if (arity[k]) src << "*(float**)a[" << arity[k] - 1 << "], ";
      src << "*(long long*)a[" << arity[k] << "]";
      if (kernel.checked) src << ", *(long long**)a[" << arity[k] + 1 << "]";
      src << ");\n  }\n}\n";
    }
    char tmpl[] = "/tmp/ember-cuda-emulation-XXXXXX";
    EMBER_CHECK(::mkdtemp(tmpl) != nullptr, Runtime, kCtx, "cannot create a temporary directory");
    dir_ = tmpl;
    {
      std::ofstream out(dir_ + "/kernels.cpp");
      out << src.str();
      EMBER_CHECK(out.good(), Runtime, kCtx, "cannot write ", dir_, "/kernels.cpp");
    }
    const char* cxx = std::getenv("CXX");
    const std::string cmd = std::string(cxx && *cxx ? cxx : "c++") + " -std=c++17 -O1 -w -shared -fPIC -o '" +
                            dir_ + "/kernels.so' '" + dir_ + "/kernels.cpp' > '" + dir_ + "/log.txt' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream log(dir_ + "/log.txt");
      std::stringstream ss;
      ss << log.rdbuf();
      fail(ErrorKind::Runtime, kCtx, "the host compiler rejected the plan's kernels:\n",
           ss.str().substr(0, 4000));
    }
    handle_ = dlopen((dir_ + "/kernels.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    EMBER_CHECK(handle_ != nullptr, Runtime, kCtx, "dlopen: ", dlerror());
    for (size_t k = 0; k < plan.kernels.size(); ++k) {
      auto fn = reinterpret_cast<Launcher>(dlsym(handle_, ("ember_emulate_" + std::to_string(k)).c_str()));
      EMBER_CHECK(fn != nullptr, Runtime, kCtx, "kernel ", k, " is missing from the emulation library");
      launchers_.push_back(fn);
    }
  }
  void* alloc(std::size_t bytes) override {
    // Poisoned (NaN) so a kernel that leaves an element unwritten shows in the results.
    void* p = std::malloc(bytes);
    EMBER_CHECK(p != nullptr, Runtime, kCtx, "out of memory");
    std::memset(p, 0xff, bytes);
    return p;
  }
  void free(void* ptr, std::size_t) noexcept override { std::free(ptr); }
  void upload(void* dst, const void* src, std::size_t bytes) override { std::memcpy(dst, src, bytes); }
  void download(void* dst, const void* src, std::size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy(void* dst, const void* src, std::size_t bytes) override { std::memmove(dst, src, bytes); }
  void launch(int kernel, unsigned grid, unsigned block, void** args) override {
    launchers_[size_t(kernel)](args, grid, block);
  }
  void gemm(const cuda::Plan::Step& s, const float* a, const float* b, float* c) override {
    for (int64_t t = 0; t < s.batch; ++t)
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.cols; ++j) {
          double acc = 0;
          for (int64_t p = 0; p < s.k; ++p) {
            const float x = s.trans_a ? a[t * s.sa + p * s.lda + i] : a[t * s.sa + i * s.lda + p];
            const float y = s.trans_b ? b[t * s.sb + j * s.ldb + p] : b[t * s.sb + p * s.ldb + j];
            acc += double(x) * double(y);
          }
          c[t * s.sc + i * s.ldc + j] = float(acc);
        }
  }

private:
  std::string dir_;
  void* handle_ = nullptr;
  std::vector<Launcher> launchers_;
};

} // namespace

std::unique_ptr<cuda::PlanBackend> emulationBackend() { return std::make_unique<EmulationBackend>(); }

} // namespace ember::compiler
