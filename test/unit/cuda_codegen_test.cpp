// The GPU source path without a GPU: generated CUDA C compiles with NVRTC for sm_80 and sm_90.
#include "DemoGraphs.h"
#include "ember/Graph.h"
#include "ember/compiler/Compile.h"
#include "ember/compiler/CudaCodegen.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/Nvrtc.h"

#include <gtest/gtest.h>

using namespace ember;

namespace {

using demo::mlp;
using demo::mlpShapes;
const auto trainStep = demo::mlpTrainStep;

void compileEverywhere(const compiler::CudaKernel& k) {
  for (const char* arch : {"sm_80", "sm_90"}) {
    cuda::CompiledKernel image = cuda::nvrtc_compile(k.source, k.name + ".cu", arch);
    EXPECT_GT(image.image.size(), 100u) << k.name << " for " << arch;
  }
  cuda::CompiledKernel ptx = cuda::nvrtc_compile(k.source, k.name + ".cu", "compute_80");
  EXPECT_NE(ptx.image.find(".entry " + k.name), std::string::npos) << ptx.image;
}

} // namespace

TEST(CudaCodegen, FusedBiasReluKernelNamesItsOps) {
  Graph g = trace(mlp, mlpShapes());
  auto kernels = compiler::generateCudaKernels(compiler::graphToMLIR(g));
  ASSERT_EQ(kernels.size(), 1u);
  const auto& k = kernels[0];
  EXPECT_EQ(k.name, "ember_add_relu_0");
  EXPECT_EQ(k.numInputs, 2);
  EXPECT_EQ(k.numel, 8 * 16);
  // The bias (shape [16]) is read with its broadcast offset; the add result never hits memory.
  EXPECT_NE(k.source.find("in1[i1 * 1LL]"), std::string::npos) << k.source;
  EXPECT_NE(k.source.find("ember_relu(v2, v2)"), std::string::npos) << k.source;
}

TEST(CudaCodegen, KernelsCompileWithNvrtcForSm80AndSm90) {
  if (!cuda::nvrtc_available()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  for (auto fn : {mlp, trainStep}) {
    Graph g = trace(fn, mlpShapes(), {false, true, true, true});
    auto kernels = compiler::generateCudaKernels(compiler::graphToMLIR(g));
    ASSERT_FALSE(kernels.empty());
    for (const auto& k : kernels) compileEverywhere(k);
  }
}

TEST(CudaCodegen, NvrtcErrorsCarryTheLog) {
  if (!cuda::nvrtc_available()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  try {
    cuda::nvrtc_compile("extern \"C\" __global__ void k() { undefined_thing(); }", "bad.cu",
                        "sm_80");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undefined_thing"), std::string::npos) << e.what();
  }
}

TEST(CudaCodegen, IntegerArithmeticIsRangeCheckedOrRefused) {
  // The generated kernels compute in float: integer add/sub/mul/... are exact on the exact
  // floats below 2^24, so each integer result is checked against it through the plan's status
  // word (fused or alone, whatever the group's result type).
  const std::string ir = R"(
func.func @main(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %0 = ember.add %a, %b : tensor<4xi64>, tensor<4xi64>
  %1 = ember.mul %0, %b : tensor<4xi64>, tensor<4xi64>
  return %1 : tensor<4xi64>
}
)";
  const std::string mixed = R"(
func.func @main(%a: tensor<4xi64>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = ember.add %a, %a : tensor<4xi64>, tensor<4xi64>
  %1 = ember.cast %0 : tensor<4xi64> -> tensor<4xf32>
  %2 = ember.mul %1, %x : tensor<4xf32>, tensor<4xf32>
  %3 = ember.relu %2 : tensor<4xf32>
  return %3 : tensor<4xf32>
}
)";
  for (const std::string& text : {ir, mixed}) {
    int checked = 0;
    for (const auto& k : compiler::generateCudaKernels(text))
      if (k.source.find("< 16777216.0f)) if (status[0] == 0)") != std::string::npos) {
        EXPECT_TRUE(k.checked) << k.name;
        EXPECT_NE(k.source.find("long long n, long long* status)"), std::string::npos) << k.source;
        ++checked;
      }
    EXPECT_EQ(checked, 1) << text;
  }
  // Inside a reduction's prologue (a device function: no status word there): refused.
  const std::string reduced = R"(
func.func @main(%a: tensor<4xi64>) -> tensor<i64> {
  %0 = ember.add %a, %a : tensor<4xi64>, tensor<4xi64>
  %1 = ember.sum %0 {dims = array<i64>, keepdim = false} : tensor<4xi64> -> tensor<i64>
  return %1 : tensor<i64>
}
)";
  EXPECT_THROW(compiler::generateCudaKernels(reduced), Error);
}
