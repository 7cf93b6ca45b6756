// ember::optim trajectories and learning-rate schedules equal torch.optim's step by step. The
// reference numbers come from PyTorch 2.x (float64) by this script (its output pasted below):
//
//   import torch, math
//   torch.set_default_dtype(torch.float64)
//   init = [0.5, -1.0, 2.0, 0.0, -0.25]
//   def traj(make, steps=20):
//       p = torch.tensor(init, requires_grad=True)
//       opt = make([p])
//       for _ in range(steps):
//           opt.zero_grad()
//           with torch.no_grad():
//               p.grad = p.detach() * torch.arange(1, 6, dtype=torch.float64) + 0.1
//           opt.step()
//       return p.detach().tolist()
//   O = torch.optim
//   cases = [
//    ("SGD plain", lambda ps: O.SGD(ps, lr=0.05)),
//    ("SGD nesterov wd", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
//    ("SGD damp maximize", lambda ps: O.SGD(ps, lr=0.01, momentum=0.5, dampening=0.1, maximize=True)),
//    ("Adam wd", lambda ps: O.Adam(ps, lr=0.02, weight_decay=0.05)),
//    ("Adam amsgrad maximize", lambda ps: O.Adam(ps, lr=0.01, betas=(0.8, 0.99), amsgrad=True, maximize=True)),
//    ("AdamW", lambda ps: O.AdamW(ps, lr=0.02, weight_decay=0.1, amsgrad=True)),
//    ("RMSprop default", lambda ps: O.RMSprop(ps, lr=0.01)),
//    ("RMSprop momentum centered wd", lambda ps: O.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01)),
//    ("RMSprop maximize", lambda ps: O.RMSprop(ps, lr=0.001, maximize=True)),
//    ("Adagrad", lambda ps: O.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
//    ("Adagrad maximize", lambda ps: O.Adagrad(ps, lr=0.05, maximize=True)),
//   ]
//   for name, mk in cases:
//       print(f"  // {name}\n  {{" + ", ".join(repr(v) for v in traj(mk)) + "},")
//
//   def lrs(make_sched, opt_kind="sgd", steps=20, metrics=None):
//       p = torch.zeros(1, requires_grad=True)
//       opt = O.SGD([p], lr=0.1, momentum=0.9) if opt_kind == "sgd" else O.Adam([p], lr=0.1)
//       s = make_sched(opt)
//       out = [opt.param_groups[0]["lr"]]
//       mom = [opt.param_groups[0]["momentum"] if opt_kind == "sgd" else opt.param_groups[0]["betas"][0]]
//       for t in range(steps):
//           opt.step()
//           if metrics is None: s.step()
//           else: s.step(metrics[t])
//           out.append(opt.param_groups[0]["lr"])
//           mom.append(opt.param_groups[0]["momentum"] if opt_kind == "sgd" else opt.param_groups[0]["betas"][0])
//       return out, mom
//   S = O.lr_scheduler
//   metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
//   sc = [
//    ("StepLR(3, 0.5)", lambda o: S.StepLR(o, 3, 0.5), "sgd", None),
//    ("MultiStepLR({2, 5, 5, 11}, 0.3)", lambda o: S.MultiStepLR(o, [2, 5, 5, 11], 0.3), "sgd", None),
//    ("ExponentialLR(0.9)", lambda o: S.ExponentialLR(o, 0.9), "sgd", None),
//    ("CosineAnnealingLR(6, 0.01)", lambda o: S.CosineAnnealingLR(o, 6, 0.01), "sgd", None),
//    ("LinearLR(0.25, 0.9, 8)", lambda o: S.LinearLR(o, 0.25, 0.9, 8), "sgd", None),
//    ("LambdaLR(0.95^e / (1 + e))", lambda o: S.LambdaLR(o, lambda e: 0.95 ** e / (1 + e)), "sgd", None),
//    ("OneCycleLR(1.0, 20) SGD", lambda o: S.OneCycleLR(o, 1.0, total_steps=20), "sgd", None),
//    ("OneCycleLR(0.5, 20, 0.25, linear, three_phase) Adam", lambda o: S.OneCycleLR(o, 0.5, total_steps=20, pct_start=0.25, anneal_strategy="linear", three_phase=True), "adam", None),
//    ("ReduceLROnPlateau(min, 0.5, patience 2, threshold 0.01, rel, cooldown 1, min_lr 0.02)", lambda o: S.ReduceLROnPlateau(o, "min", 0.5, 2, 0.01, "rel", 1, 0.02), "sgd", metrics),
//    ("ReduceLROnPlateau(max, 0.1, patience 1, threshold 0.05, abs)", lambda o: S.ReduceLROnPlateau(o, "max", 0.1, 1, 0.05, "abs"), "sgd", metrics),
//   ]
//   for name, mk, kind, m in sc:
//       l, mo = lrs(mk, kind, metrics=m)
//       print(f"  // {name}\n  {{" + ", ".join(repr(v) for v in l) + "},")
//       if name.startswith("OneCycle"):
//           print(f"  // momentum\n  {{" + ", ".join(repr(v) for v in mo) + "},")
#include "ember/Creation.h"
#include "ember/Ops.h"
#include "ember/optim/Optimizers.h"
#include "ember/optim/Schedulers.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

using namespace ember;

namespace {

const std::vector<std::vector<double>> kOptimizerRef = {
  // SGD plain
  {0.11509155344512534, -0.1654978218610408, 0.04547771320517916, -0.024711769623848287, -0.02072937874595482},
  // SGD nesterov wd
  {-0.13710505707452983, -0.16265222417756836, -0.07814015028482346, -0.025914742940074977, -0.019321535766312428},
  // SGD damp maximize
  {0.7396312203725938, -1.8833807294853182, 5.308858266199137, 0.06339442748085908, -1.1031265027603034},
  // Adam wd
  {0.12414691897572146, -0.6128519369785318, 1.6052366555592492, -0.02086087913334534, 0.03443913358327848},
  // Adam amsgrad maximize
  {0.7061289620391507, -1.204070690781096, 2.201993775150846, 0.23044642586707015, -0.46305004589585996},
  // AdamW
  {0.11284020106339934, -0.5824532267670512, 1.5352967026197544, -0.021398192167710862, 0.03453004403697246},
  // RMSprop default
  {-0.019574759615328112, -0.37529154146293886, 1.2890251567378936, -0.024999999997275382, -0.020019086967827473},
  // RMSprop momentum centered wd
  {-0.23511954374522834, 0.27216199592084345, -0.06975035974338009, -0.016928427046296716, -0.08969273617612243},
  // RMSprop maximize
  {0.579132457612869, -1.078479219285438, 2.077866131392504, 0.09868396759204985, -0.33177498229210634},
  // Adagrad
  {0.017415135885872682, -0.4146670019864704, 1.3414238939576433, -0.024390243902439025, -0.019723031697897016},
  // Adagrad maximize
  {0.9185183471501843, -1.4059089328249499, 2.3927509375144513, 0.5393344735114721, -0.7074733723773778},
};

const std::vector<std::vector<double>> kSchedulerRef = {
  // StepLR(3, 0.5)
  {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625, 0.00625, 0.00625, 0.003125, 0.003125, 0.003125, 0.0015625, 0.0015625, 0.0015625},
  // MultiStepLR({2, 5, 5, 11}, 0.3)
  {0.1, 0.1, 0.03, 0.03, 0.03, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998},
  // ExponentialLR(0.9)
  {0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002, 0.03486784401000002, 0.03138105960900001, 0.028242953648100012, 0.025418658283290013, 0.022876792454961013, 0.020589113209464913, 0.01853020188851842, 0.01667718169966658, 0.015009463529699923, 0.013508517176729932, 0.01215766545905694},
  // CosineAnnealingLR(6, 0.01)
  {0.1, 0.09397114317029975, 0.07750000000000001, 0.055000000000000014, 0.032500000000000015, 0.01602885682970026, 0.01, 0.01602885682970026, 0.03250000000000001, 0.05500000000000004, 0.07750000000000007, 0.09397114317029981, 0.10000000000000009, 0.09397114317029982, 0.0775000000000001, 0.055000000000000104, 0.032500000000000064, 0.01602885682970026, 0.01, 0.01602885682970026, 0.0325000000000001},
  // LinearLR(0.25, 0.9, 8)
  {0.025, 0.033125, 0.04125, 0.049375, 0.0575, 0.065625, 0.07375000000000001, 0.081875, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001, 0.09000000000000001},
  // LambdaLR(0.95^e / (1 + e))
  {0.1, 0.0475, 0.030083333333333337, 0.021434375, 0.016290125, 0.01289634895833333, 0.010501312723214284, 0.008729216201171872, 0.007371338125434026, 0.006302494097246091, 0.005443063083985261, 0.004740000768970498, 0.004156616058943359, 0.0036667291662821778, 0.0032511665274368635, 0.0028955701884984565, 0.002588980403833914, 0.0023228907512176503, 0.002090601676095885, 0.0018867680126765365, 0.0017070758209930565},
  // OneCycleLR(1.0, 20) SGD
  {0.040000000000000036, 0.1316718427000253, 0.3716718427000253, 0.6683281572999747, 0.9083281572999747, 1.0, 0.9874640062350873, 0.9504846320134737, 0.89091617757105, 0.8117456539497631, 0.7169430017913008, 0.6112620219362893, 0.500002, 0.38874197806371075, 0.28306099820869923, 0.18825834605023697, 0.10908782242895004, 0.049519367986526286, 0.012539993764912554, 4e-06, 0.012539993764912554},
  // momentum
  {0.95, 0.9404508497187474, 0.9154508497187474, 0.8845491502812526, 0.8595491502812526, 0.85, 0.8512536043909088, 0.854951556604879, 0.8609084258765984, 0.8688255099070633, 0.878305813044122, 0.8888739533021842, 0.8999999999999999, 0.9111260466978157, 0.9216941869558779, 0.9311744900929366, 0.9390915741234015, 0.945048443395121, 0.9487463956090911, 0.95, 0.9487463956090911},
  // OneCycleLR(0.5, 20, 0.25, linear, three_phase) Adam
  {0.02, 0.13999999999999999, 0.26, 0.38, 0.5, 0.38, 0.26, 0.14, 0.020000000000000018, 0.018182, 0.016364, 0.014546, 0.012728, 0.01091, 0.009092, 0.007273999999999999, 0.005455999999999999, 0.003637999999999999, 0.0018199999999999987, 1.9999999999985307e-06, -0.0018160000000000016},
  // momentum
  {0.95, 0.9249999999999999, 0.8999999999999999, 0.875, 0.85, 0.875, 0.8999999999999999, 0.9249999999999999, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95},
  // ReduceLROnPlateau(min, 0.5, patience 2, threshold 0.01, rel, cooldown 1, min_lr 0.02)
  {0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02},
  // ReduceLROnPlateau(max, 0.1, patience 1, threshold 0.05, abs)
  {0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 1.0000000000000004e-05, 1.0000000000000004e-05, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000005e-07, 1.0000000000000005e-07, 1.0000000000000005e-08, 1.0000000000000005e-08, 1.0000000000000005e-08, 1.0000000000000005e-08, 1.0000000000000005e-08, 1.0000000000000005e-08},
};

enum class Where { Fused, Strided, Cuda };

// The script's parameter as float64 (Fused; Strided: every other element of a 10-vector, so
// the update runs in ember ops instead of the fused kernel) or as float32 on the GPU.
Tensor make_param(Where where) {
  Tensor p = from_vector({0.5f, -1.0f, 2.0f, 0.0f, -0.25f}, {5}).to(DType::Float64);
  if (where == Where::Strided) {
    Tensor base = zeros({10}, DType::Float64);
    p = slice(base, 0, 0, 10, 2);
    copy_(p, from_vector({0.5f, -1.0f, 2.0f, 0.0f, -0.25f}, {5}));
    EXPECT_FALSE(p.is_contiguous());
  } else if (where == Where::Cuda) {
    p = from_vector({0.5f, -1.0f, 2.0f, 0.0f, -0.25f}, {5}).to(cuda_device(0));
  }
  p.set_requires_grad(true);
  return p;
}

// 20 steps with grad = p * (i + 1) + 0.1, as in the script; the final values.
std::vector<double> trajectory(const std::function<std::unique_ptr<optim::Optimizer>(Tensor)>& make,
                               Where where = Where::Fused) {
  Tensor p = make_param(where);
  auto opt = make(p);
  for (int t = 0; t < 20; ++t) {
    opt->zero_grad();
    std::vector<float> pv = p.to_vector(), g(5);
    for (int i = 0; i < 5; ++i) g[size_t(i)] = float(double(pv[size_t(i)]) * double(i + 1) + 0.1);
    Tensor grad = where == Where::Cuda ? from_vector(g, {5}).to(cuda_device(0))
                                       : from_vector(g, {5}).to(DType::Float64);
    if (where != Where::Cuda) { // exact float64 gradients
      Tensor pc = p.contiguous();
      for (int i = 0; i < 5; ++i)
        grad.data<double>()[i] = pc.data<double>()[i] * double(i + 1) + 0.1;
    }
    p.set_grad(grad);
    opt->step();
  }
  if (where == Where::Cuda) {
    EXPECT_TRUE(p.is_cuda());
    std::vector<float> v = p.to_vector();
    return std::vector<double>(v.begin(), v.end());
  }
  Tensor pc = p.contiguous();
  return std::vector<double>(pc.data<double>(), pc.data<double>() + 5);
}

template <typename O, typename... A>
std::function<std::unique_ptr<optim::Optimizer>(Tensor)> make(A... args) {
  return [=](Tensor p) { return std::unique_ptr<optim::Optimizer>(new O({p}, args...)); };
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << what << " [" << i << "]";
}

using Case = std::pair<const char*, std::function<std::unique_ptr<optim::Optimizer>(Tensor)>>;

std::vector<Case> optimizer_cases() {
  using namespace optim;
  return {
      {"SGD plain", make<SGD>(0.05)},
      {"SGD nesterov wd", make<SGD>(0.05, 0.9, 0.0, 0.01, true)},
      {"SGD damp maximize", make<SGD>(0.01, 0.5, 0.1, 0.0, false, true)},
      {"Adam wd", make<Adam>(0.02, 0.9, 0.999, 1e-8, 0.05)},
      {"Adam amsgrad maximize", make<Adam>(0.01, 0.8, 0.99, 1e-8, 0.0, true, true)},
      {"AdamW", make<AdamW>(0.02, 0.9, 0.999, 1e-8, 0.1, true)},
      {"RMSprop default", make<RMSprop>(0.01)},
      {"RMSprop momentum centered wd", make<RMSprop>(0.01, 0.9, 1e-8, 0.01, 0.9, true)},
      {"RMSprop maximize", make<RMSprop>(0.001, 0.99, 1e-8, 0.0, 0.0, false, true)},
      {"Adagrad", make<Adagrad>(0.1, 0.01, 0.1, 0.1)},
      {"Adagrad maximize", make<Adagrad>(0.05, 0.0, 0.0, 0.0, 1e-10, true)},
  };
}

} // namespace

TEST(OptimTrajectory, EveryOptimizerMatchesTorch) {
  const std::vector<Case> cases = optimizer_cases();
  ASSERT_EQ(cases.size(), kOptimizerRef.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    expect_close(trajectory(cases[c].second), kOptimizerRef[c], 1e-9, cases[c].first);
    // The same formulas in ember ops (the path CUDA and strided parameters take).
    expect_close(trajectory(cases[c].second, Where::Strided), kOptimizerRef[c], 1e-9,
                 cases[c].first);
  }
}

// Parameters on the GPU take the ember-ops path there (float32: a looser tolerance).
TEST(CudaGPU, CppOptimizersUpdateParametersOnTheGPU) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  const std::vector<Case> cases = optimizer_cases();
  for (size_t c = 0; c < cases.size(); ++c)
    expect_close(trajectory(cases[c].second, Where::Cuda), kOptimizerRef[c], 2e-4,
                 cases[c].first);
}

TEST(OptimTrajectory, Float32ParametersTakeTheSameFusedPath) {
  Tensor p = from_vector({0.5f, -1.0f, 2.0f, 0.0f, -0.25f}, {5});
  p.set_requires_grad(true);
  optim::RMSprop opt({p}, 0.01, 0.9, 1e-8, 0.01, 0.9, true);
  for (int t = 0; t < 20; ++t) {
    std::vector<float> g, pv = p.to_vector();
    for (size_t i = 0; i < pv.size(); ++i) g.push_back(pv[i] * float(i + 1) + 0.1f);
    p.set_grad(from_vector(g, {5}));
    opt.step();
  }
  std::vector<float> got = p.to_vector();
  expect_close(std::vector<double>(got.begin(), got.end()), kOptimizerRef[7], 1e-4, "float32");
}

TEST(OptimTrajectory, ZeroGradSetToNoneOrZeroes) {
  Tensor p = make_param(Where::Fused);
  optim::SGD opt({p}, 0.1);
  p.set_grad(ones({5}, DType::Float64));
  Tensor g = p.grad();
  opt.zero_grad(false);
  ASSERT_TRUE(p.grad().defined());
  for (float v : p.grad().to_vector()) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(p.grad().raw_data(), g.raw_data()); // zeroed in place
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

namespace {

// lr after construction and after each of 20 (optimizer step, scheduler step) pairs.
template <typename Sched>
std::pair<std::vector<double>, std::vector<double>> schedule(
    optim::Optimizer& opt, const std::function<std::unique_ptr<Sched>(optim::Optimizer&)>& make,
    const std::vector<double>& metrics = {}) {
  auto s = make(opt);
  auto& o = opt.param_groups()[0].options;
  const char* mk = opt.momentum_option();
  std::vector<double> lrs{o.at("lr")}, mom{o.at(mk)};
  for (int t = 0; t < 20; ++t) {
    opt.step();
    if constexpr (std::is_same_v<Sched, optim::ReduceLROnPlateau>) s->step(metrics[size_t(t)]);
    else s->step();
    lrs.push_back(o.at("lr"));
    mom.push_back(o.at(mk));
  }
  return {lrs, mom};
}

} // namespace

TEST(OptimTrajectory, EverySchedulerMatchesTorch) {
  using namespace optim;
  using F = std::function<std::unique_ptr<LRScheduler>(Optimizer&)>;
  const std::vector<std::pair<const char*, F>> cases = {
      {"StepLR", [](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.5); }},
      {"MultiStepLR",
       [](Optimizer& o) { return std::make_unique<MultiStepLR>(o, std::vector<int64_t>{2, 5, 5, 11}, 0.3); }},
      {"ExponentialLR", [](Optimizer& o) { return std::make_unique<ExponentialLR>(o, 0.9); }},
      {"CosineAnnealingLR",
       [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 6, 0.01); }},
      {"LinearLR", [](Optimizer& o) { return std::make_unique<LinearLR>(o, 0.25, 0.9, 8); }},
      {"LambdaLR", [](Optimizer& o) {
         return std::make_unique<LambdaLR>(
             o, [](int64_t e) { return std::pow(0.95, double(e)) / double(1 + e); });
       }},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    Tensor p = zeros({1});
    SGD opt({p}, 0.1, 0.9);
    expect_close(schedule<LRScheduler>(opt, cases[c].second).first, kSchedulerRef[c], 1e-12,
                 cases[c].first);
  }
}

TEST(OptimTrajectory, OneCycleLRCyclesRateAndMomentumLikeTorch) {
  using namespace optim;
  Tensor p = zeros({1});
  SGD sgd({p}, 0.1, 0.9);
  auto [lr, mom] = schedule<LRScheduler>(sgd, [](Optimizer& o) {
    return std::make_unique<OneCycleLR>(o, 1.0, 20);
  });
  expect_close(lr, kSchedulerRef[6], 1e-12, "OneCycleLR SGD lr");
  expect_close(mom, kSchedulerRef[7], 1e-12, "OneCycleLR SGD momentum");
  Adam adam({p}, 0.1);
  auto [lr2, beta1] = schedule<LRScheduler>(adam, [](Optimizer& o) {
    return std::make_unique<OneCycleLR>(o, 0.5, 20, 0.25, "linear", true, 0.85, 0.95, 25.0, 1e4,
                                        true);
  });
  expect_close(lr2, kSchedulerRef[8], 1e-12, "OneCycleLR Adam lr");
  expect_close(beta1, kSchedulerRef[9], 1e-12, "OneCycleLR Adam beta1");
  // Step 21 of 20 is an error, as in torch.
  SGD sgd2({p}, 0.1, 0.9);
  OneCycleLR s(sgd2, 1.0, 2);
  s.step();
  s.step();
  EXPECT_THROW(s.step(), Error);
  Adagrad ada({p});
  EXPECT_THROW(OneCycleLR(ada, 1.0, 10), Error); // no momentum to cycle
}

TEST(OptimTrajectory, ReduceLROnPlateauMatchesTorch) {
  using namespace optim;
  const std::vector<double> metrics = {1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9,
                                       0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6};
  Tensor p = zeros({1});
  SGD a({p}, 0.1, 0.9), b({p}, 0.1, 0.9);
  using F = std::function<std::unique_ptr<ReduceLROnPlateau>(Optimizer&)>;
  F min_rel = [](Optimizer& o) {
    return std::make_unique<ReduceLROnPlateau>(o, "min", 0.5, 2, 0.01, "rel", 1, 0.02);
  };
  F max_abs = [](Optimizer& o) {
    return std::make_unique<ReduceLROnPlateau>(o, "max", 0.1, 1, 0.05, "abs");
  };
  expect_close(schedule<ReduceLROnPlateau>(a, min_rel, metrics).first, kSchedulerRef[10], 1e-12,
               "min rel");
  expect_close(schedule<ReduceLROnPlateau>(b, max_abs, metrics).first, kSchedulerRef[11], 1e-12,
               "max abs");
  EXPECT_THROW(ReduceLROnPlateau(a, "avg"), Error);
  EXPECT_THROW(ReduceLROnPlateau(a, "min", 1.5), Error);
}

TEST(OptimTrajectory, BadArgumentsAreErrors) {
  using namespace optim;
  Tensor p = zeros({1});
  EXPECT_THROW(RMSprop({p}, -0.1), Error);
  EXPECT_THROW(RMSprop({p}, 0.1, -0.5), Error);
  EXPECT_THROW(Adagrad({p}, 0.1, -1.0), Error);
  EXPECT_THROW(SGD({p}, 0.1, 0.0, 0.0, 0.0, true), Error); // nesterov without momentum
  EXPECT_THROW(SGD(std::vector<Tensor>{}, 0.1), Error);
  SGD sgd({p}, 0.1);
  EXPECT_THROW(LinearLR(sgd, 0.0), Error);
  EXPECT_THROW(CosineAnnealingLR(sgd, 0), Error);
  EXPECT_THROW(OneCycleLR(sgd, 1.0, 10, 0.3, "square"), Error);
  try {
    StepLR(sgd, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step_size"), std::string::npos) << e.what();
  }
}
