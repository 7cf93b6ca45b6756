// Dynamic (symbolic) batch dims: a JitModule over `?` dims runs at any batch size with shapes
// checked against its formulas; CompiledGraph::compileSymbolic turns traces at a few batch sizes
// into one compiled graph; what it cannot generalise is an ember::Error.
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/compiler/Compile.h"
#include "ember/compiler/Jit.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ember;
using compiler::Buffer;
using compiler::CompiledGraph;
using compiler::JitModule;

namespace {
Buffer buf(Tensor& t) { return {t.data_ptr(), t.shape(), t.strides()}; }

// relu(x @ w + b), its sum over the batch, and a reshape of the batch into rows of 8: the
// symbol is dim 0 of %x; every dynamic result dim carries its formula (base, coefficient).
const char* kMlp = R"mlir(
  func.func @mlp(%x: tensor<?x5xf32>, %w: tensor<5x16xf32>, %b: tensor<16xf32>)
      -> (tensor<?x16xf32>, tensor<16xf32>, tensor<?x8xf32>)
      attributes {ember.symbols = array<i64: 0, 0>,
                  ember.arg_sizes = array<i64: 0, 1, 5, 0, 5, 0, 16, 0, 16, 0>,
                  ember.result_sizes = array<i64: 0, 1, 16, 0, 16, 0, 0, 2, 8, 0>} {
    %0 = ember.matmul %x, %w {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : tensor<?x5xf32>, tensor<5x16xf32>
    %1 = ember.add %0, %b : tensor<?x16xf32>, tensor<16xf32>
    %2 = ember.relu %1 : tensor<?x16xf32>
    %3 = ember.sum %2 {dims = array<i64: 0>, keepdim = false} : tensor<?x16xf32> -> tensor<16xf32>
    %4 = ember.reshape %2 {ember.dim_sizes = array<i64: 0, 2, 8, 0>} : tensor<?x16xf32> -> tensor<?x8xf32>
    return %2, %3, %4 : tensor<?x16xf32>, tensor<16xf32>, tensor<?x8xf32>
  })mlir";
} // namespace

TEST(Dynamic, JitModuleRunsEveryBatchSize) {
  JitModule m = JitModule::compile(kMlp);
  EXPECT_EQ(m.inputShapes("mlp")[0], (std::vector<int64_t>{-1, 5}));
  EXPECT_EQ(m.outputShapes("mlp")[2], (std::vector<int64_t>{-1, 8}));
  Tensor w = randn({5, 16}), b = randn({16});
  for (int64_t batch : {3, 7}) {
    Tensor x = randn({batch, 5});
    auto shapes = m.outputShapes("mlp", {x.shape(), w.shape(), b.shape()});
    ASSERT_EQ(shapes.size(), 3u);
    EXPECT_EQ(shapes[0], (std::vector<int64_t>{batch, 16}));
    EXPECT_EQ(shapes[2], (std::vector<int64_t>{2 * batch, 8}));
    Tensor y = zeros(shapes[0]), s = zeros(shapes[1]), r = zeros(shapes[2]);
    m.run("mlp", {buf(x), buf(w), buf(b)}, {buf(y), buf(s), buf(r)});
    Tensor want = relu(add(matmul(x, w), b));
    std::vector<float> got = y.to_vector(), ref = want.to_vector();
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-5);
    std::vector<float> gs = s.to_vector(), rs = sum(want, {0}).to_vector();
    for (size_t i = 0; i < gs.size(); ++i) EXPECT_NEAR(gs[i], rs[i], 1e-4);
    EXPECT_EQ(r.to_vector(), got); // the same data in rows of 8
  }
}

TEST(Dynamic, JitModuleChecksStaticDimsAndOutputSizes) {
  JitModule m = JitModule::compile(kMlp);
  Tensor w = randn({5, 16}), b = randn({16});
  Tensor x = randn({4, 6}); // a wrong non-batch dim
  Tensor y = zeros({4, 16}), s = zeros({16}), r = zeros({8, 8});
  try {
    m.run("mlp", {buf(x), buf(w), buf(b)}, {buf(y), buf(s), buf(r)});
    FAIL() << "expected an ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 0 has shape [4, 6], expected [-1, 5]"), std::string::npos)
        << e.what();
  }
  Tensor x4 = randn({4, 5}), small = zeros({3, 16}); // an output not sized for batch 4
  EXPECT_THROW(m.run("mlp", {buf(x4), buf(w), buf(b)}, {buf(small), buf(s), buf(r)}), Error);
  EXPECT_THROW(m.outputShapes("mlp", {{4, 5}, {5, 16}}), Error); // an input missing
}

TEST(Dynamic, DynamicDimsNeedTheirFormulas) {
  try {
    JitModule::compile(R"mlir(
      func.func @f(%a: tensor<?x3xf32>) -> tensor<?x3xf32> {
        %0 = ember.neg %a : tensor<?x3xf32>
        return %0 : tensor<?x3xf32>
      })mlir");
    FAIL() << "expected an ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has dynamic dims but not the attributes"), std::string::npos)
        << e.what();
  }
}

TEST(Dynamic, TraceScheduleAndAffineFit) {
  using compiler::fitAffine;
  auto sizes = compiler::symbolicTraceSizes({4, 7});
  EXPECT_EQ(sizes, (std::vector<std::vector<int64_t>>{{4, 7}, {5, 7}, {4, 8}, {6, 10}}));
  // 3*s0 + 2*s1 + 1 at each trace; then a product of the two, which is not affine.
  EXPECT_EQ(*fitAffine({27, 30, 29, 39}, sizes), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_FALSE(fitAffine({28, 35, 32, 60}, sizes).has_value());
}

namespace {
// mean over the batch of (x * w).sum(1), and its gradient with respect to x: the mean's count
// and its gradient's 1/count follow the batch.
std::vector<Tensor> meanAndGrad(const std::vector<Tensor>& in) {
  Tensor loss = mean(sum(mul(in[0], in[1]), {1}), {0}, false);
  std::vector<Tensor> g = autograd::grad({loss}, {in[0]});
  return {loss, g[0]};
}

std::vector<Graph> traces(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                          const std::vector<std::vector<int64_t>>& sizes) {
  std::vector<Graph> out;
  for (const auto& s : sizes) out.push_back(trace(fn, {{s[0], 3}, {3}}, {true, false}));
  return out;
}
} // namespace

TEST(Dynamic, CompileSymbolicServesEveryBatchSize) {
  auto sizes = compiler::symbolicTraceSizes({4});
  CompiledGraph c = CompiledGraph::compileSymbolic(traces(meanAndGrad, sizes), sizes, {{0, 0}});
  EXPECT_TRUE(c.isDynamic());
  EXPECT_NE(c.ir().find("tensor<?x3xf32>"), std::string::npos) << c.ir();
  Tensor w = from_vector({0.5f, -1.0f, 2.0f}, {3});
  for (int64_t batch : {2, 9, 64}) {
    Tensor x = randn({batch, 3});
    std::vector<Tensor> got = c.run({x, w});
    Tensor xg = x.detach();
    xg.set_requires_grad(true);
    std::vector<Tensor> want = meanAndGrad({xg, w});
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NEAR(got[0].item(), want[0].item(), 1e-5);
    EXPECT_EQ(got[1].shape(), (Shape{batch, 3}));
    std::vector<float> g = got[1].to_vector(), r = want[1].to_vector();
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], r[i], 1e-6);
  }
  EXPECT_THROW(c.run({randn({5, 4}), w}), Error); // a wrong non-batch dim
}

TEST(Dynamic, CompileSymbolicRefusesWhatItCannotGeneralise) {
  auto sizes = compiler::symbolicTraceSizes({4});
  // A constant that is not one value repeated: positions 0..B-1.
  auto ramp = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{add(in[0], reshape(arange(0, double(in[0].shape()[0])), {-1, 1}))};
  };
  try {
    CompiledGraph::compileSymbolic(traces(ramp, sizes), sizes, {{0, 0}});
    FAIL() << "expected an ember::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotImplemented);
    EXPECT_NE(std::string(e.what()).find("is not one value repeated"), std::string::npos) << e.what();
  }
  // A branch on the batch size.
  auto branchy = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].shape()[0] % 2 ? neg(in[0]) : exp(in[0])};
  };
  try {
    CompiledGraph::compileSymbolic(traces(branchy, sizes), sizes, {{0, 0}});
    FAIL() << "expected an ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("branches on a size"), std::string::npos) << e.what();
  }
}
