// C++ ember::optim: Adam/AdamW follow PyTorch's update math (checked against a float64
// reference of torch.optim.Adam's single-tensor algorithm), state starts at a parameter's first
// step, StepLR decays the rate, and bad hyperparameters raise ember::Error.
#include "ember/Creation.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace ember;

namespace {

// torch.optim.Adam / AdamW for one parameter, in float64, with gradient g(p) = p * c + 0.1.
std::vector<double> reference(std::vector<double> p, int steps, double lr, double wd, bool amsgrad,
                              bool decoupled) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  std::vector<double> m(p.size()), v(p.size()), vmax(p.size());
  for (int t = 1; t <= steps; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      double g = p[i] * double(i + 1) + 0.1;
      if (decoupled) p[i] *= 1 - lr * wd;
      else g += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
      const double denom = std::sqrt((amsgrad ? vmax[i] : v[i])) / std::sqrt(bc2) + eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  return p;
}

template <typename Opt>
void run(Opt& opt, Tensor& p, int steps) {
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    std::vector<float> g;
    std::vector<float> pv = p.to_vector();
    for (size_t i = 0; i < pv.size(); ++i) g.push_back(pv[i] * float(i + 1) + 0.1f);
    p.set_grad(from_vector(g, p.shape()));
    opt.step();
  }
}

void expectClose(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

} // namespace

TEST(Optim, AdamMatchesPyTorchsUpdate) {
  const std::vector<double> init = {0.5, -1.0, 2.0, 0.0, -0.25};
  for (bool amsgrad : {false, true})
    for (double wd : {0.0, 0.05}) {
      Tensor p = from_vector(std::vector<float>(init.begin(), init.end()), {5});
      p.set_requires_grad(true);
      optim::Adam opt({p}, 0.01, 0.9, 0.999, 1e-8, wd, amsgrad);
      run(opt, p, 7);
      expectClose(p.to_vector(), reference(init, 7, 0.01, wd, amsgrad, false));
      EXPECT_EQ(opt.steps_taken(0), 7);
    }
}

TEST(Optim, AdamWDecaysTheParameterNotTheGradient) {
  const std::vector<double> init = {0.5, -1.0, 2.0};
  Tensor p = from_vector({0.5f, -1.0f, 2.0f}, {3});
  p.set_requires_grad(true);
  optim::AdamW opt({p}, 0.02); // weight_decay 1e-2 by default, as in PyTorch
  run(opt, p, 5);
  expectClose(p.to_vector(), reference(init, 5, 0.02, 1e-2, false, true));
}

TEST(Optim, ParametersWithoutGradientsAreSkipped) {
  Tensor a = from_vector({1.0f}, {1}), b = from_vector({2.0f}, {1});
  optim::Adam opt({a, b}, 0.1);
  a.set_grad(from_vector({1.0f}, {1}));
  opt.step();
  EXPECT_EQ(opt.steps_taken(0), 1);
  EXPECT_EQ(opt.steps_taken(1), 0);
  EXPECT_EQ(b.to_vector()[0], 2.0f);
  EXPECT_LT(a.to_vector()[0], 1.0f);
}

TEST(Optim, StepLRDecaysEveryStepSizeEpochs) {
  Tensor p = from_vector({1.0f}, {1});
  optim::SGD sgd({p}, 0.1);
  optim::StepLR sched(sgd, 2, 0.5);
  std::vector<double> lrs;
  for (int e = 0; e < 5; ++e) {
    sched.step();
    lrs.push_back(sched.get_last_lr().at(0));
  }
  const std::vector<double> want = {0.1, 0.05, 0.05, 0.025, 0.025};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(lrs[i], want[i], 1e-12) << i;
  EXPECT_THROW(optim::StepLR(sgd, 0), Error);
}

TEST(Optim, BadHyperparametersAreErrors) {
  Tensor p = from_vector({1.0f}, {1});
  EXPECT_THROW(optim::Adam({p}, -1.0), Error);
  EXPECT_THROW(optim::Adam({p}, 1e-3, 1.0), Error);
  EXPECT_THROW(optim::Adam({p}, 1e-3, 0.9, 0.999, -1.0), Error);
  EXPECT_THROW(optim::AdamW({p}, 1e-3, 0.9, 0.999, 1e-8, -0.1), Error);
}
