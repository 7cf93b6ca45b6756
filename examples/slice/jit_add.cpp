// The slice in C++: eager ember::add, then the same op as `ember` dialect IR lowered through
// MLIR -> LLVM and JIT-run on the same buffers. Prints both results and whether they agree.
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/compiler/Jit.h"
#include "ember/runtime/Error.h"

#include <cstdio>

int main() {
  using namespace ember;
  try {
    Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = from_vector({0.5f, 0.25f, 0.125f}, {3});
    Tensor eager = a + b;

    auto module = compiler::JitModule::compile(R"mlir(
      func.func @add(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
        %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
        return %0 : tensor<2x3xf32>
      })mlir");
    Tensor jit = zeros({2, 3});
    module.run("add", {{a.data_ptr(), a.shape(), a.strides()}, {b.data_ptr(), b.shape(), b.strides()}},
               {{jit.data_ptr(), jit.shape(), jit.strides()}});

    std::printf("eager: ");
    for (float v : eager.to_vector()) std::printf("%g ", v);
    std::printf("\njit:   ");
    for (float v : jit.to_vector()) std::printf("%g ", v);
    bool same = eager.to_vector() == jit.to_vector();
    std::printf("\nJIT (MLIR -> LLVM -> ORC) %s eager\n", same ? "matches" : "DIFFERS FROM");
    return same ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
