// C++ ember::nn: each layer's output equals its functional composition, PyTorch's default
// initialisation, named parameters / buffers, train/eval, state_dict and load_state_dict with
// its missing / unexpected / shape-mismatch errors. (The same modules' outputs are compared
// with PyTorch's in test/python/test_cpp_api.py.)
#include "TestUtil.h"

#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/nn/Layers.h"
#include "ember/optim/Optimizers.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

using namespace ember;
using ember::test::expectNear;
namespace F = ember::nn::functional;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
} // namespace

TEST(NNLayers, OutputsEqualTheFunctionalComposition) {
  manual_seed(1);
  Tensor x = test::randn({4, 3, 6, 6}, 1), v = test::randn({5, 8}, 2);
  nn::LayerNorm ln({8});
  expectNear(ln(v), F::layer_norm(v, {8}, ln.weight, ln.bias, 1e-5));
  nn::AvgPool2d ap({3}, {2}, {1}, false, false);
  expectNear(ap(x), F::avg_pool2d(x, {3}, {2}, {1}, false, false));
  nn::AdaptiveAvgPool2d aap({2, 3});
  expectNear(aap(x), F::adaptive_avg_pool2d(x, {2, 3}));
  nn::AdaptiveAvgPool2d square({2});
  EXPECT_EQ(square(x).shape(), (Shape{4, 3, 2, 2}));
  expectNear(nn::GELU()(v), F::gelu(v));
  expectNear(nn::GELU("tanh")(v), F::gelu(v, true));
  expectNear(nn::Tanh()(v), tanh(v));
  expectNear(nn::Sigmoid()(v), sigmoid(v));
  expectNear(nn::SiLU()(v), F::silu(v));
  expectNear(nn::LeakyReLU(0.2)(v), F::leaky_relu(v, 0.2));
  expectNear(nn::Softmax(1)(v), softmax(v, 1));
  expectNear(nn::LogSoftmax(-1)(v), log_softmax(v, -1));
  expectNear(nn::Identity()(v), v);
  Tensor idx = randint(0, 10, {3, 4});
  nn::Embedding emb(10, 6);
  expectNear(emb(idx), reshape(index_select(emb.weight, 0, flatten(idx)), {3, 4, 6}));
  EXPECT_THROW(nn::GELU("fast"), Error);
}

TEST(NNLayers, LossesEqualTheFunctionalOnes) {
  Tensor logits = test::randn({6, 4}, 3), y = randint(0, 4, {6});
  Tensor w = from_vector({1.0f, 2.0f, 0.5f, 1.0f}, {4});
  expectNear(nn::CrossEntropyLoss()(logits, y), F::cross_entropy(logits, y));
  expectNear(nn::CrossEntropyLoss(w, 2, "sum", 0.1)(logits, y),
             F::cross_entropy(logits, y, w, 2, F::Reduction::Sum, 0.1));
  Tensor lp = log_softmax(logits, 1);
  expectNear(nn::NLLLoss(w)(lp, y), F::nll_loss(lp, y, w));
  Tensor a = test::randn({3, 5}, 4), b = test::randn({3, 5}, 5);
  expectNear(nn::MSELoss()(a, b), F::mse_loss(a, b));
  expectNear(nn::L1Loss("none")(a, b), F::l1_loss(a, b, F::Reduction::None));
  Tensor t = sigmoid(b);
  Tensor pw = from_vector({1.0f, 2.0f, 3.0f, 0.5f, 1.0f}, {5});
  expectNear(nn::BCEWithLogitsLoss(Tensor(), "mean", pw)(a, t),
             F::binary_cross_entropy_with_logits(a, t, F::Reduction::Mean, Tensor(), pw));
  EXPECT_TRUE(has(error_of([] { nn::MSELoss("average"); }), "average"));
  // The class weight is a buffer: it is in the state dict.
  nn::CrossEntropyLoss ce(w);
  EXPECT_TRUE(ce.state_dict().contains("weight"));
  nn::Module& as_module = ce; // a loss held as a Module has no one-input forward
  EXPECT_TRUE(has(error_of([&] { as_module(logits); }), "forward"));
}

TEST(NNLayers, BatchNormTracksRunningStatsInTrainingAndUsesThemInEval) {
  Tensor x = test::randn({8, 3, 4, 4}, 6);
  nn::BatchNorm2d bn(3, 1e-5, 0.2);
  Tensor y = bn(x);
  expectNear(y, F::batch_norm(x, Tensor(), Tensor(), bn.weight, bn.bias, true));
  // running = 0.8 * running + 0.2 * batch statistic (unbiased variance).
  Tensor m = mean(x, {0, 2, 3}), var_u = var(x, {0, 2, 3}, 1);
  expectNear(bn.running_mean, mul(m, scalar(0.2)));
  expectNear(bn.running_var, add(scalar(0.8), mul(var_u, scalar(0.2))));
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  bn.eval();
  expectNear(bn(x), F::batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, false));
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  // momentum = nullopt: the cumulative average (1/n).
  nn::BatchNorm1d cum(3, 1e-5, std::nullopt);
  Tensor a = test::randn({5, 3}, 7), b = test::randn({5, 3}, 8);
  cum(a);
  cum(b);
  expectNear(cum.running_mean, mul(add(mean(a, {0}), mean(b, {0})), scalar(0.5)));
  EXPECT_EQ(cum.num_batches_tracked.item(), 2);
  EXPECT_TRUE(has(error_of([&] { bn(a); }), "4D input"));
  EXPECT_TRUE(has(error_of([&] { cum(x); }), "2D or 3D"));
}

TEST(NNLayers, DropoutScalesInTrainingAndIsTheIdentityInEval) {
  manual_seed(3);
  nn::Dropout drop(0.25);
  Tensor x = ones({100, 100});
  auto v = drop(x).to_vector();
  int64_t zeros_seen = 0;
  for (float e : v) {
    if (e == 0) ++zeros_seen;
    else EXPECT_NEAR(e, 1 / 0.75, 1e-6);
  }
  EXPECT_NEAR(double(zeros_seen) / 1e4, 0.25, 0.03);
  drop.eval();
  expectNear(drop(x), x);
  EXPECT_THROW(nn::Dropout(1.5), Error);
}

TEST(NNLayers, DefaultInitialisationIsPyTorchs) {
  manual_seed(0);
  nn::Linear lin(400, 50);
  const double bound = 1 / std::sqrt(400.0);
  double sq = 0;
  for (float w : lin.weight.to_vector()) {
    EXPECT_LE(std::fabs(w), bound);
    sq += double(w) * w;
  }
  // U(-b, b) has variance b^2 / 3.
  EXPECT_NEAR(sq / 20000, bound * bound / 3, bound * bound / 3 * 0.05);
  nn::LayerNorm ln({4, 5});
  for (float w : ln.weight.to_vector()) EXPECT_EQ(w, 1.0f);
  for (float b : ln.bias.to_vector()) EXPECT_EQ(b, 0.0f);
  EXPECT_EQ(ln.weight.shape(), (Shape{4, 5}));
  nn::BatchNorm1d bn(7);
  for (float w : bn.running_var.to_vector()) EXPECT_EQ(w, 1.0f);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::Int64);
  nn::Embedding emb(200, 50, -1);
  auto e = emb.weight.to_vector();
  double s = 0, s2 = 0;
  for (size_t i = 0; i < 199 * 50; ++i) {
    s += e[i];
    s2 += double(e[i]) * e[i];
  }
  EXPECT_NEAR(s / (199 * 50), 0.0, 0.05);
  EXPECT_NEAR(s2 / (199 * 50), 1.0, 0.05);
  for (size_t i = 199 * 50; i < e.size(); ++i) EXPECT_EQ(e[i], 0.0f); // padding_idx = -1 → 199
  EXPECT_EQ(*emb.padding_idx, 199);
  EXPECT_TRUE(emb.weight.requires_grad());
}

namespace {
std::shared_ptr<nn::Sequential> small_net() {
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Linear>(4, 6))
      .add(std::make_shared<nn::BatchNorm1d>(6))
      .add(std::make_shared<nn::ReLU>())
      .add(std::make_shared<nn::Linear>(6, 2, false));
  return net;
}
} // namespace

TEST(NNLayers, NamesFollowPyTorch) {
  auto net = small_net();
  std::vector<std::string> names;
  for (auto& [n, t] : net->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                             "3.weight"}));
  names.clear();
  for (auto& [n, t] : net->named_buffers()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"1.running_mean", "1.running_var",
                                             "1.num_batches_tracked"}));
  EXPECT_EQ(net->state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                      "1.running_mean", "1.running_var", "1.num_batches_tracked",
                                      "3.weight"}));
  names.clear();
  for (auto& [n, m] : net->named_modules()) names.push_back(n + ":" + m->name());
  EXPECT_EQ(names, (std::vector<std::string>{":Sequential", "0:Linear", "1:BatchNorm1d", "2:ReLU",
                                             "3:Linear"}));
  EXPECT_EQ(net->children().size(), 4u);
  EXPECT_EQ(net->parameters(false).size(), 0u);
  EXPECT_EQ((*net)[-1]->name(), "Linear");
  EXPECT_THROW((*net)[4], Error);
}

TEST(NNLayers, TrainAndEvalReachEverySubmodule) {
  auto net = small_net();
  net->eval();
  for (auto& [n, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << n;
  net->train();
  for (auto& [n, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << n;
}

TEST(NNLayers, ModuleListHoldsModulesAndHasNoForward) {
  nn::ModuleList list({std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::Tanh>()});
  list.push_back(std::make_shared<nn::Linear>(3, 1));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list.parameters().size(), 4u);
  EXPECT_EQ(list.state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  Tensor h = ones({5, 2});
  for (auto& m : list) h = (*m)(h);
  EXPECT_EQ(h.shape(), (Shape{5, 1}));
  EXPECT_EQ(list[-2]->name(), "Tanh");
  EXPECT_THROW(list[3], Error);
  const std::string e = error_of([&] { list(h); });
  EXPECT_TRUE(has(e, "ModuleList") && has(e, "forward")) << e;
}

TEST(NNLayers, StateDictRoundTripCopiesIntoTheParameters) {
  manual_seed(1);
  auto a = small_net(), b = small_net();
  Tensor x = test::randn({8, 4}, 9);
  (*a)(x); // moves a's running stats
  Tensor w_before = b->parameters()[0];
  const void* where = w_before.raw_data();
  auto r = b->load_state_dict(a->state_dict());
  EXPECT_TRUE(r.missing_keys.empty() && r.unexpected_keys.empty());
  EXPECT_EQ(b->parameters()[0].raw_data(), where); // copied in place
  EXPECT_TRUE(b->parameters()[0].requires_grad());
  a->eval();
  b->eval();
  expectNear((*b)(x), (*a)(x));
  EXPECT_EQ(b->state_dict().at("1.num_batches_tracked").item(), 1);
  // state_dict shares memory with the module and is detached.
  Tensor sw = a->state_dict().at("0.weight");
  EXPECT_EQ(sw.raw_data(), a->parameters()[0].raw_data());
  EXPECT_FALSE(sw.requires_grad());
  EXPECT_THROW(a->state_dict().at("nope"), Error);
}

TEST(NNLayers, LoadStateDictErrorsNameTheKeys) {
  auto net = small_net();
  StateDict sd = net->state_dict();
  StateDict missing = sd;
  missing.erase("1.running_var");
  std::string e = error_of([&] { net->load_state_dict(missing); });
  EXPECT_TRUE(has(e, "Missing key(s) in state_dict: \"1.running_var\"")) << e;
  EXPECT_TRUE(has(e, "Sequential")) << e;

  StateDict extra = sd;
  extra.insert("4.weight", ones({2}));
  e = error_of([&] { net->load_state_dict(extra); });
  EXPECT_TRUE(has(e, "Unexpected key(s) in state_dict: \"4.weight\"")) << e;

  StateDict wrong = sd;
  wrong.insert("0.weight", zeros({6, 5}));
  wrong.insert("0.bias", zeros({6}));
  e = error_of([&] { net->load_state_dict(wrong); });
  EXPECT_TRUE(has(e, "size mismatch for 0.weight: copying a param with shape [6, 5] from "
                     "checkpoint, the shape in current model is [6, 4]")) << e;
  // Nothing was written: 0.bias keeps its values.
  bool all_zero = true;
  for (float v : net->state_dict().at("0.bias").to_vector()) all_zero = all_zero && v == 0;
  EXPECT_FALSE(all_zero);

  // strict = false reports the keys instead; a shape mismatch is still an error.
  missing.insert("extra", ones({1}));
  auto r = net->load_state_dict(missing, false);
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"1.running_var"});
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{"extra"});
  EXPECT_THROW(net->load_state_dict(wrong, false), Error);
}

TEST(NNLayers, ZeroGradDropsOrZeroesGradients) {
  nn::Linear lin(3, 2);
  Tensor loss = sum(lin(ones({4, 3})));
  loss.backward();
  ASSERT_TRUE(lin.weight.grad().defined());
  lin.zero_grad(false);
  for (float g : lin.weight.grad().to_vector()) EXPECT_EQ(g, 0.0f);
  lin.zero_grad();
  EXPECT_FALSE(lin.weight.grad().defined());
}

TEST(NNLayers, ToConvertsParametersAndBuffersInPlace) {
  auto net = small_net();
  auto* lin = dynamic_cast<nn::Linear*>((*net)[0].get());
  ASSERT_NE(lin, nullptr);
  Tensor w = net->parameters()[0];
  lin->weight.set_grad(ones({6, 4}));
  net->to(DType::Float64);
  EXPECT_EQ(lin->weight.dtype(), DType::Float64); // the layer's field is the same tensor
  EXPECT_EQ(w.dtype(), DType::Float64);
  EXPECT_EQ(lin->weight.grad().dtype(), DType::Float64);
  EXPECT_TRUE(w.requires_grad() && w.is_leaf());
  StateDict sd = net->state_dict();
  EXPECT_EQ(sd.at("1.running_mean").dtype(), DType::Float64);
  EXPECT_EQ(sd.at("1.num_batches_tracked").dtype(), DType::Int64); // integers keep theirs
  Tensor y = (*net)(test::randn({3, 4}, 1).to(DType::Float64));
  EXPECT_EQ(y.dtype(), DType::Float64);
  sum(y).backward();
  EXPECT_EQ(w.grad().dtype(), DType::Float64);
  net->to(Device()); // already there: nothing changes
  EXPECT_EQ(w.dtype(), DType::Float64);
  EXPECT_THROW(net->to(DType::Int32), Error);
}

// A model moved to the GPU trains there like on the CPU (MLP, MSELoss, Adam on the ops path).
TEST(CudaGPU, CppModuleTrainsOnTheGPU) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  Tensor x = test::randn({16, 4}, 3), t = test::randn({16, 2}, 4);
  std::vector<std::vector<float>> losses(2);
  for (int gpu = 0; gpu < 2; ++gpu) {
    manual_seed(5);
    nn::Sequential net;
    net.add(std::make_shared<nn::Linear>(4, 8)).add(std::make_shared<nn::Tanh>())
        .add(std::make_shared<nn::Linear>(8, 2));
    const Device where = gpu ? cuda_device(0) : Device();
    net.to(where);
    optim::Adam opt(net.parameters(), 0.01);
    nn::MSELoss criterion;
    for (int step = 0; step < 10; ++step) {
      opt.zero_grad();
      Tensor loss = criterion(net(x.to(where)), t.to(where));
      loss.backward();
      opt.step();
      losses[size_t(gpu)].push_back(float(loss.item()));
    }
    EXPECT_EQ(net.parameters()[0].is_cuda(), gpu == 1);
  }
  for (size_t i = 0; i < losses[0].size(); ++i) EXPECT_NEAR(losses[1][i], losses[0][i], 1e-4) << i;
}
