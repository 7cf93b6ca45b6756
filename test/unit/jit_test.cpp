// MLIR -> LLVM -> ORC works in this build: ember.add lowered and run on real buffers.
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/compiler/Jit.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

using namespace ember;
using compiler::Buffer;
using compiler::JitModule;

namespace {
Buffer buf(Tensor& t) { return {t.data_ptr(), t.shape(), t.strides()}; }
} // namespace

TEST(Jit, AddMatchesEager) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
      %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
      return %0 : tensor<2x3xf32>
    })mlir");
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector({10, 20, 30}, {3});
  Tensor out = zeros({2, 3});
  m.run("f", {buf(a), buf(b)}, {buf(out)});
  EXPECT_EQ(out.to_vector(), add(a, b).to_vector());
  EXPECT_NE(m.loweredIR().find("llvm.func"), std::string::npos);
}

TEST(Jit, ChainedAddsAndRepeatedCalls) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @g(%a: tensor<4x1xf32>, %b: tensor<5xf32>) -> tensor<4x5xf32> {
      %0 = ember.add %a, %b : tensor<4x1xf32>, tensor<5xf32>
      %1 = ember.add %0, %0 : tensor<4x5xf32>, tensor<4x5xf32>
      return %1 : tensor<4x5xf32>
    })mlir");
  for (int iter = 0; iter < 3; ++iter) {
    Tensor a = full({4, 1}, float(iter));
    Tensor b = from_vector({1, 2, 3, 4, 5}, {5});
    Tensor out = zeros({4, 5});
    m.run("g", {buf(a), buf(b)}, {buf(out)});
    Tensor s = add(a, b);
    EXPECT_EQ(out.to_vector(), add(s, s).to_vector());
  }
}

TEST(Jit, InvalidIRIsAnEmberError) {
  try {
    JitModule::compile(R"mlir(
      func.func @bad(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
        %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<4xf32>
        return %0 : tensor<2x3xf32>
      })mlir");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context(), "compiler.parse");
    EXPECT_NE(std::string(e.what()).find("not broadcast-compatible"), std::string::npos)
        << e.what();
  }
}

TEST(Jit, WrongBufferShapeIsAnEmberError) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @f(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<3xf32> {
      %0 = ember.add %a, %b : tensor<3xf32>, tensor<3xf32>
      return %0 : tensor<3xf32>
    })mlir");
  Tensor a = ones({4}), out = zeros({3});
  EXPECT_THROW(m.run("f", {buf(a), buf(a)}, {buf(out)}), Error);
  EXPECT_THROW(m.run("nope", {}, {}), Error);
}
