// The fused CUDA optimizer kernels (kernels/CudaSource.h, optimizer_kernel) without a GPU: the
// generated source is compiled by the host C++ compiler against stand-ins for CUDA's built-ins
// (one thread, so the kernel's grid-stride loop covers every element) and stepped against the
// CPU fused updates (ember/Optim.h), which follow PyTorch's single-tensor formulas. The hyper-
// parameters are packed as frontend/src/Optim.cpp packs them for CUDA.
#include "ember/Creation.h"
#include "ember/Optim.h"
#include "ember/Tensor.h"
#include "ember/kernels/CudaSource.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace ember;

namespace {

struct OptimArgs { double h[8]; int flags; };
using Kernel = void (*)(float*, const float*, float*, float*, float*, long long, OptimArgs);

// Compiles the four float32 kernels into one host library; nullptr (the test skips) without a
// host compiler.
void* compile_kernels(std::string& why) {
  char tmpl[] = "/tmp/ember-optim-host-XXXXXX";
  if (!::mkdtemp(tmpl)) return why = "no temporary directory", nullptr;
  const std::string dir = tmpl;
  std::ofstream src(dir + "/k.cpp");
  src << "#include <cmath>\nusing std::sqrt;\nstruct D3 { unsigned x, y, z; };\n"
         "static D3 blockIdx{0,0,0}, threadIdx{0,0,0}, blockDim{1,1,1}, gridDim{1,1,1};\n"
         "#define __global__\n#define __restrict__\n";
  for (const char* kind : {"sgd", "adam", "rmsprop", "adagrad"})
    src << "namespace ns_" << kind << " {\n"
        << kernels::cuda::optimizer_kernel(std::string("k_") + kind, kind, DType::Float32)
        << "}\n";
  src.close();
  // The generated kernels are extern "C" inside namespaces: distinct names, one C symbol each.
  const char* cxx = std::getenv("CXX");
  const std::string cmd = std::string(cxx && *cxx ? cxx : "c++") +
                          " -std=c++17 -O1 -w -shared -fPIC -o " + dir + "/k.so " + dir +
                          "/k.cpp > " + dir + "/log.txt 2>&1";
  if (std::system(cmd.c_str()) != 0) return why = "the host compiler failed: " + cmd, nullptr;
  void* h = dlopen((dir + "/k.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) why = dlerror();
  return h;
}

std::vector<float> draw(size_t n, unsigned seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(std::sin(double(seed * 131 + i) * 0.7)) * 1.3f;
  return v;
}

// Four steps of the generated kernel and of the CPU update from the same state.
void compare(void* lib, const char* kind, int n_state,
             const std::function<void(const Tensor& p, const Tensor& g, const std::vector<Tensor>& s,
                                      int step)>& cpu,
             const std::function<OptimArgs(int step)>& args) {
  const auto fn = reinterpret_cast<Kernel>(dlsym(lib, (std::string("k_") + kind).c_str()));
  ASSERT_NE(fn, nullptr) << kind;
  const size_t n = 37;
  std::vector<float> p = draw(n, 1);
  std::vector<std::vector<float>> s(3, std::vector<float>(n, 0.0f));
  Tensor tp = from_vector(p, {int64_t(n)});
  std::vector<Tensor> ts;
  for (int i = 0; i < n_state; ++i) ts.push_back(zeros({int64_t(n)}));
  for (int step = 1; step <= 4; ++step) {
    const std::vector<float> g = draw(n, 10 + unsigned(step));
    fn(p.data(), g.data(), s[0].data(), s[1].data(), s[2].data(), (long long)n, args(step));
    cpu(tp, from_vector(g, {int64_t(n)}), ts, step);
  }
  const std::vector<float> want = tp.to_vector();
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(p[i], want[i], 1e-6) << kind << " at " << i;
}

} // namespace

TEST(CudaOptimHost, GeneratedUpdatesStepLikeTheCpuOnes) {
  std::string why;
  void* lib = compile_kernels(why);
  if (!lib) GTEST_SKIP() << why;
  const double lr = 0.05, mom = 0.9, damp = 0.3, wd = 0.01;
  for (bool nesterov : {false, true})
    compare(lib, "sgd", 1,
            [&](const Tensor& p, const Tensor& g, const std::vector<Tensor>& s, int step) {
              optim::sgd_step_(p, g, s[0], lr, mom, nesterov ? 0 : damp, wd, nesterov, false,
                               step == 1);
            },
            [&](int step) {
              return OptimArgs{{lr, mom, 1 - (nesterov ? 0 : damp), wd},
                               0 | 1 << 1 | 1 << 2 | int(nesterov) << 3 | int(step == 1) << 4};
            });
  for (bool decoupled : {false, true})
    for (bool amsgrad : {false, true})
      compare(lib, "adam", 3,
              [&](const Tensor& p, const Tensor& g, const std::vector<Tensor>& s, int step) {
                optim::adam_step_(p, g, s[0], s[1], s[2], lr, 0.9, 0.999, 1e-8, wd, decoupled,
                                  amsgrad, true, step);
              },
              [&](int step) {
                const double bc1 = 1 - std::pow(0.9, step), bc2 = std::sqrt(1 - std::pow(0.999, step));
                return OptimArgs{{wd, 1 - lr * wd, 0.1, 0.999, 1 - 0.999, 1e-8, bc2, lr / bc1},
                                 1 | 1 << 1 | int(decoupled) << 2 | int(amsgrad) << 3};
              });
  compare(lib, "rmsprop", 3,
          [&](const Tensor& p, const Tensor& g, const std::vector<Tensor>& s, int) {
            optim::rmsprop_step_(p, g, s[0], s[1], s[2], lr, 0.99, 1e-8, wd, 0.5, true, false);
          },
          [&](int) { return OptimArgs{{lr, 0.99, 0.01, 1e-8, wd, 0.5}, 1 << 1 | 1 << 2 | 1 << 3}; });
  compare(lib, "adagrad", 1,
          [&](const Tensor& p, const Tensor& g, const std::vector<Tensor>& s, int) {
            optim::adagrad_step_(p, g, s[0], lr, wd, 1e-10, false);
          },
          [&](int) { return OptimArgs{{lr, wd, 1e-10}, 1 << 1}; });
  dlclose(lib);
}
