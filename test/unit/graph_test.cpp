// The C++ API of the graph: autograd from C++, tracing, and compiled graphs against eager.
#include "DemoGraphs.h"
#include "ember/Graph.h"
#include "ember/compiler/Compile.h"
#include "ember/runtime/Error.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

using namespace ember;

namespace {

using test::expectNear;
using test::randn;

const auto mlpStep = demo::mlpTrainStep;

std::vector<Tensor> inputs() {
  return {randn({8, 5}, 1), randn({5, 16}, 2), randn({16}, 3), randn({16, 3}, 4)};
}

} // namespace

TEST(Autograd, MatchesFiniteDifferences) {
  Tensor x = randn({3, 4}, 7).set_requires_grad(true);
  Tensor w = randn({4, 2}, 8);
  auto f = [&](const Tensor& xv) { return sum(mul(relu(matmul(xv, w)), matmul(xv, w))); };
  f(x).backward();
  std::vector<float> base = x.to_vector(), g = x.grad().to_vector();
  const float eps = 1e-2f;
  for (size_t i = 0; i < base.size(); ++i) {
    auto plus = base, minus = base;
    plus[i] += eps;
    minus[i] -= eps;
    float fd = (f(from_vector(plus, {3, 4})).item() - f(from_vector(minus, {3, 4})).item()) / (2 * eps);
    EXPECT_NEAR(g[i], fd, 2e-2f * (1 + std::fabs(fd))) << "element " << i;
  }
}

TEST(Autograd, SecondDerivativeFromC) {
  Tensor x = from_vector({1, 2, 3}, {3}).set_requires_grad(true);
  Tensor y = sum(mul(mul(x, x), x));
  Tensor g = autograd::grad({y}, {x}, {}, /*create_graph=*/true)[0];   // 3x^2
  Tensor gg = autograd::grad({sum(g)}, {x})[0];                         // 6x
  EXPECT_EQ(g.to_vector(), (std::vector<float>{3, 12, 27}));
  EXPECT_EQ(gg.to_vector(), (std::vector<float>{6, 12, 18}));
}

TEST(Trace, RunGraphEqualsEager) {
  auto in = inputs();
  Graph g = trace(mlpStep, {{8, 5}, {5, 16}, {16}, {16, 3}}, {false, true, true, true});
  EXPECT_GT(g.steps.size(), 10u);
  std::vector<Tensor> leaves = in;
  for (size_t i = 1; i < leaves.size(); ++i) leaves[i] = leaves[i].detach().set_requires_grad(true);
  auto eager = mlpStep(leaves);
  auto replay = run_graph(g, in);
  ASSERT_EQ(replay.size(), eager.size());
  for (size_t i = 0; i < eager.size(); ++i) expectNear(replay[i], eager[i]);
}

TEST(Compile, TrainingStepEqualsTheGraph) {
  Graph g = trace(mlpStep, {{8, 5}, {5, 16}, {16}, {16, 3}}, {false, true, true, true});
  auto compiled = compiler::CompiledGraph::compile(g);
  auto in = inputs();
  auto got = compiled.run(in), want = run_graph(g, in);
  for (size_t i = 0; i < want.size(); ++i) expectNear(got[i], want[i], 1e-4f);
  EXPECT_NE(compiled.ir().find("ember.relu_backward"), std::string::npos);
  EXPECT_THROW(compiled.run({in[0]}), Error);
}
