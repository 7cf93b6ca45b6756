// ember-cuda-plan: prints the CUDA plan of ember IR (the kernels the CUDA backend generates, as
// CUDA C, and its steps), for inspection and for FileCheck tests of the generated source.
//
//   ember-cuda-plan model.mlir [--function NAME] [--ptx]
#include "ember/compiler/CudaCodegen.h"
#include "ember/runtime/Error.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  std::string path, function = "main";
  bool ptx = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::puts("usage: ember-cuda-plan FILE.mlir|- [--function NAME] [--ptx]\n"
                "Prints the CUDA plan of func.func NAME (default main): buffers, inputs, outputs, each\n"
                "generated kernel's CUDA C (and its PTX with --ptx, which needs NVRTC), and the steps.");
      return 0;
    } else if (a == "--function" && i + 1 < argc) {
      function = argv[++i];
    } else if (a == "--ptx") {
      ptx = true;
    } else if (path.empty()) {
      path = a;
    } else {
      std::fprintf(stderr, "ember-cuda-plan: unexpected argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs("ember-cuda-plan: no input file (see --help)\n", stderr);
    return 2;
  }
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "ember-cuda-plan: cannot open '%s'\n", path.c_str());
      return 1;
    }
    ss << in.rdbuf();
  }
  try {
    std::fputs(ember::compiler::buildCudaPlan(ss.str(), function, ptx).serialize().c_str(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember-cuda-plan: %s\n", e.what());
    return 1;
  }
  return 0;
}
